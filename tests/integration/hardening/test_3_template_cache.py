"""Class 3: no code from a cache someone else can write. A template cache folder that
another user could write is not used at all (sudo may keep HOME / XDG_CACHE_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import run_subprocess, write_answers


def test_a_template_cache_others_can_write_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "nasrtc").mkdir(parents=True)
    os.chmod(cache / "nasrtc", 0o777)  # anyone could plant compiled code here
    stack = tmp_path / "stack"
    source = write_answers(tmp_path, {"domain": "example.org"}, "cache.yaml")
    result = run_subprocess("init", "--dir", str(stack), "--answers", str(source),
                            env={"XDG_CACHE_HOME": str(cache)})
    assert result.code == 0, result.err
    assert list((cache / "nasrtc").iterdir()) == [], "nothing cached, nothing read"
    own = tmp_path / "own-cache"
    assert run_subprocess("render", "--dir", str(stack), env={"XDG_CACHE_HOME": str(own)}
                          ).code == 0
    assert any((own / "nasrtc").rglob("*")), "a cache of our own is used"
