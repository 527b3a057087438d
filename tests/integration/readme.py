"""The README's commands, read from the README itself, so a test runs what users copy."""

from __future__ import annotations

import re

from tests.helpers import REPO


def code_blocks(section: str) -> list[str]:
    """The ```sh blocks under a README heading (up to the next heading of its level)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    level = section.split(" ")[0]
    start = text.index(section + "\n")
    rest = text[start + len(section) + 1:]
    end = re.search(rf"^{level} ", rest, re.M)
    body = rest[:end.start()] if end else rest
    blocks = re.findall(r"```sh\n(.*?)```", body, re.S)
    return [block.replace("\\\n", " ") for block in blocks]


def commands(section: str) -> list[str]:
    """Every command line of a section's sh blocks (continuation lines joined)."""
    return [" ".join(line.split()) for block in code_blocks(section)
            for line in block.splitlines() if line.strip()]
