"""The wizard's questions as one form (wizard/questions.py asks them; this only reads a
form). Every submission is replayed from the start, in the terminal's order: a field left
at the value it offered follows the default the earlier answers resolve to now (as
pressing Enter would), a changed one is an answer, checked by the same check(). The form
is complete when every applicable question was on the page and none has a problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from nasrtc.i18n import _
from nasrtc.wizard.questions import (
    Context,
    Question,
    check,
    in_order,
    parse,
    record,
    usable_answers,
)

FOLDER = "dir"  # the stack folder's field
ASKED = "asked"  # a hidden field per question that was on the page
OFFERED = "offered."  # + key: the value the field offered when the page was made
YES, NO = "yes", "no"

@dataclass
class Field:
    key: str
    kind: str  # text | select | confirm
    label: str
    help: str
    value: str  # what the field shows
    offered: str  # the default it offers now
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, title)
    problem: str | None = None
    new: bool = False  # not on the page the answers came from

@dataclass
class Outcome:
    folder: Path
    fields: list[Field]
    ctx: Context
    complete: bool
    notes: list[str]

    @property
    def problems(self) -> dict[str, str]:
        return {f.key: f.problem for f in self.fields if f.problem}

@dataclass
class Host:
    """What the wizard knows of the NAS (looked up once: the public address is a request
    to the internet)."""

    platform_profile: str
    platform_text: str
    default_folder: Path
    facts: dict[str, Any]  # Context.start's lan_ip, public_ip, ipv6, port_check

def _shown(question: Question, value: Any) -> str:
    if question.kind == "confirm":
        return YES if value else NO
    return "" if value is None else str(value)

def _choice(question: Question, ctx: Context, text: str) -> tuple[Any, str | None]:
    if question.kind == "confirm":
        if text in (YES, NO):
            return text == YES, None
        return None, _("answer yes or no")
    choices = question.choices(ctx)
    for value, _title in choices:
        if _shown(question, value) == text:
            return value, None
    return None, _("choose one of the offered answers")

def folder_problem(text: str) -> str | None:
    if not text.strip():
        return _("enter a folder")
    path = Path(text.strip())
    if not path.is_absolute():
        return _("enter the whole path, starting with / (e.g. /volume1/docker/matrixrtc)")
    if path.exists() and not path.is_dir():
        return _("{folder} exists and is not a folder").format(folder=path)
    return None

def evaluate(form: Mapping[str, str], asked: set[str], host: Host,
             fixed_folder: Path | None) -> Outcome:
    """The form's answers, replayed through the questions."""
    notes: list[str] = []
    folder_text = str(fixed_folder) if fixed_folder else form.get(FOLDER, "").strip() \
        or str(host.default_folder)
    problem = None if fixed_folder else folder_problem(folder_text)
    folder = Path(folder_text)
    base = usable_answers(folder, notes.append) if problem is None else {}
    ctx = Context.start(base, host.platform_profile, host.platform_text, **host.facts)
    fields = [Field(FOLDER, "text", _("Stack folder"),
                    _("Where the stack's files live (compose.yaml, secrets, checklist)."),
                    folder_text, str(host.default_folder), problem=problem)]
    complete = problem is None and FOLDER in asked | ({FOLDER} if fixed_folder else set())
    for question in in_order(ctx):
        offered = _shown(question, question.default(ctx))
        typed = form.get(question.key)
        if question.key not in asked or typed is None:
            text, complete = offered, False  # new on this page: show it first
        elif typed == form.get(OFFERED + question.key):
            text = offered  # left as offered: it follows the answers above
            complete = complete and offered == typed
        else:
            text = typed
        if question.kind == "text":
            value, problem = parse(question, text), None
            problem = check(ctx, question, value)
        else:
            value, problem = _choice(question, ctx, text)
        choices = [(_shown(question, v), title) for v, title in question.choices(ctx)]
        if problem is None:
            record(ctx, question, value)
        else:
            complete = False
            if question.key not in asked:
                problem = None  # not said of a field nobody has seen yet (an empty name)
        fields.append(Field(question.key, question.kind, _(question.message), _(question.help),
                            text, offered, choices, problem,
                            new=bool(asked) and question.key not in asked))
    return Outcome(folder, fields, ctx, complete, notes)
