"""Every error nasrtc raises on purpose. Each carries what went wrong, how to fix it
and its exit code; only the CLI prints them.

Exit codes (README, "Exit codes"): 1 a problem to fix, 2 bad input or usage,
3 a file edited by hand, 4 the Docker engine, 130 interrupted.
"""

from __future__ import annotations

from nasrtc.i18n import _, ngettext

TYPE_CHECKING = False  # see pyproject's mypy always_true: typing costs start-up
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_HAND_EDITED = 3
EXIT_ENGINE = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # the reader of our output left (`nasrtc status | head`)


class NasrtcError(Exception):
    """Something the user can act on. `exit_code` is what the CLI returns."""

    exit_code = EXIT_PROBLEM

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def render(self) -> str:
        text = self.message
        if self.fix:
            text += "\n  " + _("fix: {fix}").format(fix=self.fix)
        return text


class Problem:
    """One bad answer: the key at fault, the value seen, what is allowed.

    A rule between two keys (a port clash) names the other key in `also`, with the
    message as seen from that key in `mirror`: the wizard shows it at whichever of
    the two questions is being answered. (A plain class: dataclasses would cost every
    start of nasrtc several milliseconds.)"""

    __slots__ = ("also", "key", "message", "mirror")

    def __init__(self, key: str, message: str, also: tuple[str, ...] = (),
                 mirror: str = "") -> None:
        self.key, self.message, self.also, self.mirror = key, message, tuple(also), mirror

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (self.key, self.message, self.also,
                                               self.mirror) == (other.key, other.message,
                                                                other.also, other.mirror)

    def __hash__(self) -> int:
        return hash((self.key, self.message, self.also, self.mirror))

    def __repr__(self) -> str:
        return f"Problem({self.key!r}, {self.message!r}, also={self.also!r})"

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"

    def message_for(self, key: str) -> str | None:
        """This problem in the words of `key`'s question, or None if it is not about it."""
        if key == self.key:
            return self.message
        if key in self.also:
            return self.mirror or self.message
        return None


class InputError(NasrtcError):
    """Bad answers or arguments. Exit 2, one line per problem, nothing written."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        count = len(problems)
        # "{source}: ..." agrees with any source: a file, "the command line", "the answers".
        head = ngettext("{source}: 1 problem; nothing was written.",
                        "{source}: {count} problems; nothing was written.", count)
        lines = [head.format(source=source or _("the answers"), count=count)]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def usage_error(option: str, message: str) -> InputError:
    """A bad command-line option (exit 2)."""
    return InputError([Problem(option, message)], source=_("the command line"))


class HandEditedError(NasrtcError):
    """A generated file was changed by hand since nasrtc last wrote it."""

    exit_code = EXIT_HAND_EDITED

    @classmethod
    def for_files(cls, stack_dir: Path, files: Iterable[str], command: str = "nasrtc render",
                  outcome: str | None = None,
                  foreign: Iterable[str] = ()) -> HandEditedError:
        """The one wording of this error, for every command that can meet it. `foreign`:
        those of `files` nasrtc has no record of writing (they were there before)."""
        files, foreign = list(files), set(foreign)
        outcome = outcome or _("nothing was written")
        groups = [
            (_("these files were changed by hand since nasrtc wrote them; {outcome}:"),
             [rel for rel in files if rel not in foreign]),
            (_("these files were not written by nasrtc (they were there before); {outcome}:"),
             [rel for rel in files if rel in foreign]),
        ]
        parts = [head.format(outcome=outcome) + "\n"
                 + "\n".join(f"  - {stack_dir / rel}" for rel in group)
                 for head, group in groups if group]
        return cls(
            "\n".join(parts),
            _("put the change into nasrtc.yaml (the generated files are rebuilt from it) and "
              "run again, or run `{command} --force` to overwrite them (each copy is kept as "
              "<file>.bak)").format(command=command))


class EngineError(NasrtcError):
    """The Docker engine refused or failed; the message says what to do about it."""

    exit_code = EXIT_ENGINE


class Interrupted(NasrtcError):
    """Ctrl-C / Ctrl-D at a prompt."""

    exit_code = EXIT_INTERRUPTED
