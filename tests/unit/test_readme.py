"""The README documents what the code does: every answers key, with its default."""

from __future__ import annotations

import re

from nasrtc.answers.schema import FIELDS, describe_default
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_answers_key_is_documented_with_its_default() -> None:
    for field in FIELDS:
        row = re.search(rf"^\| `{re.escape(field.key)}` \| `([^`]*)` \|", README, re.M)
        assert row, f"README has no row for {field.key}"
        assert row.group(1) == describe_default(field), field.key


def test_no_undocumented_keys_in_the_readme_table() -> None:
    keys = {f.key for f in FIELDS}
    rows = re.findall(r"^\| `([a-z_.]+)` \| `", README, re.M)
    assert set(rows) <= keys


def test_quick_start_has_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) == 1 for b in blocks)
    assert "nasrtc init" in blocks[0]
    assert blocks[1].strip() == "sudo bash tests/run.sh"
    assert "tests/run.sh" in (REPO / ".ci" / "run").read_text()
