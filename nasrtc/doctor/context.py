"""What every check reads: the stack (assembled once), its folder, the network and
the engine's view of the containers (asked once per run)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrtc.answers import Answers
from nasrtc.doctor.net import ConnectTo, Net
from nasrtc.stack import Stack


@dataclass
class Context:
    stack: Stack
    answers: Answers  # what the stack was built from (nasrtc.yaml, read once)
    stack_dir: Path
    net: Net
    access_token: str | None
    _containers: list[Any] | None = None
    unresolved: set[str] = field(default_factory=set)  # names the DNS row found missing
    _line: Any = None
    # what one measurement gave, for the several rows that read it (doctor/media.py's
    # test call): placed once per doctor run
    shared: dict[str, Any] = field(default_factory=dict)

    def line(self) -> Any:
        """The internet line (nasrtc.reach.line.Line), probed once per doctor run."""
        if self._line is None:
            from nasrtc.reach.line import probe_stack

            self._line = probe_stack(self.stack)
        return self._line

    @property
    def up_command(self) -> str:
        from nasrtc.invocation import command

        return command(f"up --dir {self.stack_dir.resolve()}", self.stack.profile.sudo)

    def containers(self) -> list[Any]:
        """The stack's container rows, asked of the engine once per doctor run."""
        if self._containers is None:
            from nasrtc.engine.status import status

            self._containers = status(self.stack.project,
                                      tuple(service.name for service in self.stack.services),
                                      timeout=self.net.timeout,  # a hung engine too
                                      stack_dir=str(self.stack_dir))
        return self._containers


def make_context(stack_dir: Path, connect_to: ConnectTo | None, ca_file: str | None,
                 access_token: str | None, timeout: float = 5.0) -> Context:
    from nasrtc.stack import load_stack

    answers, stack = load_stack(stack_dir)
    return Context(stack, answers, stack_dir, Net(connect_to, ca_file, timeout),
                   access_token or os.environ.get("NASRTC_ACCESS_TOKEN") or None)
