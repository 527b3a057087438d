"""The stack's buttons (Start, Status, Doctor, Logs, Stop): the same nasrtc commands a
terminal runs, as child processes of this one, one at a time. Each takes the stack lock
itself, as it would from a terminal; its output is kept for the page, with every secret
of the stack blotted out (a container's log is not nasrtc's to vouch for)."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nasrtc.invocation import self_command
from nasrtc.secret_store import SECRETS_DIR

# What each button runs (after `nasrtc`), and how long it may take at most.
COMMANDS: dict[str, tuple[list[str], float]] = {
    "up": (["up"], 1800.0),  # a first start may pull images over a slow line
    "status": (["status", "--json"], 120.0),
    "doctor": (["doctor", "--local", "--json"], 300.0),  # works before DNS and proxy are set
    "doctor-public": (["doctor", "--public", "--json"], 300.0),
    "logs": (["logs", "--tail", "200"], 120.0),
    "down": (["down"], 600.0),
}
MAX_LINES = 3000
BLOT = "••••••"


@dataclass
class Job:
    name: str
    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    code: int | None = None  # None while it runs
    data: str = ""  # a --json command's standard output

    @property
    def running(self) -> bool:
        return self.code is None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def secret_values(stack_dir: Path) -> list[str]:
    """The stack's secrets, to blot out of what the page shows."""
    values = []
    folder = stack_dir / SECRETS_DIR
    try:
        names = sorted(os.listdir(folder))[:64]
    except OSError:
        return []
    for name in names:
        try:  # regular files only: a FIFO planted there must not hang the page
            fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            text = handle.read(4096).decode("utf-8", "replace").strip()
        if len(text) >= 8:
            values.append(text)
    return values


def blot(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, BLOT)
    return text


class Runner:
    """At most one command at a time; the last one's output stays until the next."""

    def __init__(self, stack_dir: Path) -> None:
        self.stack_dir = stack_dir
        self.job: Job | None = None
        self.stack_up = False  # the last Start or Stop that went well was a Start
        self._lock = threading.Lock()

    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def start(self, name: str, language: str) -> bool:
        """Start `name`; False when another command still runs."""
        with self._lock:
            if self.busy():
                return False
            self.job = Job(name)
            job = self.job
        words, limit = COMMANDS[name]
        thread = threading.Thread(target=self._run, args=(job, words, limit, language),
                                  daemon=True)
        thread.start()
        return True

    def _run(self, job: Job, words: list[str], limit: float, language: str) -> None:
        environment = {**os.environ, "NASRTC_LANG": language, "COLUMNS": "100",
                       "NO_COLOR": "1"}
        secrets = secret_values(self.stack_dir)
        as_json = "--json" in words  # its stdout is read whole; what it says goes beside
        try:
            child = subprocess.Popen(
                [*self_command(), *words, "--dir", str(self.stack_dir)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if as_json else subprocess.STDOUT,
                env=environment, text=True, errors="replace")
        except OSError as exc:
            job.lines.append(str(exc))
            job.code = 127
            return
        timer = threading.Timer(limit, child.kill)
        timer.start()
        try:
            if as_json:
                out, err = child.communicate()
                job.data = blot(out, secrets)
                job.lines = [blot(line, secrets) for line in err.splitlines()[:MAX_LINES]]
            else:
                assert child.stdout is not None
                for line in child.stdout:
                    if len(job.lines) < MAX_LINES:
                        job.lines.append(blot(line.rstrip("\n"), secrets))
            job.code = child.wait()
        finally:
            timer.cancel()
        if job.code == 0 and job.name in ("up", "down"):
            self.stack_up = job.name == "up"
