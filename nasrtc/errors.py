"""One root error. A user error carries what went wrong and how to fix it.

Only the CLI prints these and picks the exit code; everything else raises.
"""

from __future__ import annotations

from dataclasses import dataclass


class NasrtcError(Exception):
    """Something the user can act on. `exit_code` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def render(self) -> str:
        text = self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


@dataclass(frozen=True)
class Problem:
    """One bad answer: the key at fault, the value seen, what is allowed."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class InputError(NasrtcError):
    """Bad answers or arguments. Exit 2, one line per problem, nothing written."""

    exit_code = 2

    def __init__(self, problems: list[Problem], source: str = "the answers") -> None:
        self.problems = problems
        count = len(problems)
        head = f"{source} {'has a problem' if count == 1 else f'has {count} problems'}"
        lines = [f"{head}; nothing was written."]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class HandEditedError(NasrtcError):
    """A generated file was changed by hand since nasrtc last wrote it."""

    exit_code = 3


class Interrupted(NasrtcError):
    """Ctrl-C / Ctrl-D at a prompt."""

    exit_code = 130
