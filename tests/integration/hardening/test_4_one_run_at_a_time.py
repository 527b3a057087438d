"""Class 4: one run at a time per stack. A second run waits for the first, or says
which process holds the stack. (A network created twice is healed by `up`: see
tests/integration/test_engine.py::test_up_heals_a_network_created_twice.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import run_subprocess
from tests.integration.hardening.common import init


def test_one_nasrtc_at_a_time_per_stack(tmp_path: Path) -> None:
    import fcntl
    import sys
    import time

    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    lock = os.open(stack, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another run holds the stack (its pid: /proc/locks)
    try:
        busy = run_subprocess("render", "--dir", str(stack), env={"NASRTC_LOCK_WAIT": "1"})
        assert busy.code == 1
        assert f"another nasrtc is working on {stack} (pid {os.getpid()})" in busy.err
        waiting = subprocess.Popen([sys.executable, "-m", "nasrtc", "render", "--dir",
                                    str(stack)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None, "it waits for the other run"
    finally:
        os.close(lock)  # the other run ends
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert "waiting for another nasrtc" in err and "rendered" in out


def test_export_reads_the_stack_only_between_runs(tmp_path: Path) -> None:
    """An export taken while another run rewrites the stack (init --rotate-secrets) could
    mix old and new secrets; it waits for that run like every other command."""
    import fcntl

    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    lock = os.open(stack, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        busy = run_subprocess("export", "--to", "kubernetes", "--output",
                              str(tmp_path / "k8s"), "--dir", str(stack),
                              env={"NASRTC_LOCK_WAIT": "1"})
    finally:
        os.close(lock)
    assert busy.code == 1, busy.out + busy.err
    assert f"another nasrtc is working on {stack} (pid {os.getpid()})" in busy.err
    assert not (tmp_path / "k8s").exists(), "nothing was exported"
    done = run_subprocess("export", "--to", "kubernetes", "--output", str(tmp_path / "k8s"),
                          "--dir", str(stack))
    assert done.code == 0, done.err
    assert any((tmp_path / "k8s").iterdir())


def test_the_lock_leaves_nothing_in_the_stack_folder(tmp_path: Path) -> None:
    """The lock is the folder's own: after a run nothing of it stays, and the lock file an
    earlier build left there is taken away."""
    stack = tmp_path / "stack"
    assert init(stack, tmp_path).code == 0
    (stack / ".nasrtc-lock").write_text("4242\n")
    before = sorted(p.name for p in stack.iterdir())
    assert run_subprocess("render", "--dir", str(stack)).code == 0
    after = sorted(p.name for p in stack.iterdir())
    assert after == [name for name in before if name != ".nasrtc-lock"]
