"""An answers file is small, plain data: aliases that expand, keys given twice, huge
files and values that would inject lines into generated configs are refused with the
line or key at fault, and a long value is only ever quoted as a short excerpt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import snapshot, write_answers

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
domain: *d
"""


def init(cli: Any, tmp_path: Path, text: str) -> Any:
    source = tmp_path / "answers.yaml"
    source.write_text(text)
    result = cli("init", "--dir", str(tmp_path / "stack"), "--answers", str(source))
    assert "Traceback" not in result.err
    assert snapshot(tmp_path / "stack") == {}, "nothing is written"
    return result


def test_an_alias_bomb_is_refused_at_once(cli: Any, tmp_path: Path) -> None:
    result = init(cli, tmp_path, BOMB)
    assert result.code == 2 and "line 1: defines an anchor (&a)" in result.err
    assert len(result.err) < 1000, "the expansion is never printed"


def test_a_key_given_twice_is_named(cli: Any, tmp_path: Path) -> None:
    result = init(cli, tmp_path, "domain: example.org\nproject: a\nproject: b\n")
    assert result.code == 2 and "line 3: the key 'project' is given twice" in result.err


def test_a_huge_file_is_refused_without_reading_it(cli: Any, tmp_path: Path) -> None:
    result = init(cli, tmp_path, "domain: example.org\n# " + "x" * 400_000 + "\n")
    assert result.code == 2 and "at most 256 KiB" in result.err


def test_a_long_value_is_quoted_as_an_excerpt(cli: Any, tmp_path: Path) -> None:
    result = init(cli, tmp_path, "domain: " + "a" * 50_000 + "\n")
    assert result.code == 2 and "(50002 chars)" in result.err
    assert len(result.err) < 1000


@pytest.mark.parametrize("path", ["/etc/ssl/live\n    include /etc/shadow;", "/my certs",
                                  "relative/path", "/a;b", "/etc/le:ro"])
def test_paths_that_would_inject_into_generated_files(cli: Any, tmp_path: Path,
                                                      path: str) -> None:
    source = write_answers(tmp_path, {"domain": "example.org", "proxy": {"cert_dir": path}})
    result = cli("init", "--dir", str(tmp_path / "stack"), "--answers", str(source))
    assert result.code == 2 and "proxy.cert_dir" in result.err
    assert not (tmp_path / "stack").exists()


def test_domain_with_an_answers_file_is_not_ignored(cli: Any, tmp_path: Path) -> None:
    source = write_answers(tmp_path, {"domain": "example.org"})
    result = cli("init", "--dir", str(tmp_path / "stack"), "--answers", str(source),
                 "--yes", "--domain", "other.org")
    assert result.code == 2 and "--domain: has no effect with --answers" in result.err
    assert not (tmp_path / "stack").exists()
