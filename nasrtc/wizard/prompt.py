"""The interactive `nasrtc init`. The only module that imports questionary.

It asks the questions of questions.py, checks every answer as it is typed
(through the same code as the answers file), and returns the answers. It writes
nothing: commands/init.py shows the plan, asks for confirmation and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrtc.answers import ANSWERS_FILE
from nasrtc.errors import Interrupted
from nasrtc.host.platform import Platform, this_platform
from nasrtc.i18n import _
from nasrtc.profiles import load_profile
from nasrtc.wizard.questions import (
    Context,
    Question,
    check,
    in_order,
    parse,
    record,
    usable_answers,
)


@dataclass
class WizardResult:
    stack_dir: Path
    raw: dict[str, Any]


def _ask(prompt: Any) -> Any:
    """Ctrl-C and Ctrl-D end the wizard the same way: exit 130, nothing written."""
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

    # prompt_toolkit ends a prompt on Ctrl-D only when the line is empty; ours
    # are pre-filled, so bind it for every prompt.
    extra = KeyBindings()

    @extra.add("c-d", eager=True)
    def _end(event: Any) -> None:
        event.app.exit(exception=EOFError())

    app = prompt.application
    app.key_bindings = merge_key_bindings([app.key_bindings or KeyBindings(), extra])
    try:
        return prompt.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise Interrupted(_("cancelled; nothing was written")) from None


def _say(text: str, style: str = "fg:ansibrightblack") -> None:
    import questionary

    questionary.print(text, style=style)


def previous_answers(stack_dir: Path) -> dict[str, Any]:
    """The flat keys an existing nasrtc.yaml sets; keys with problems are asked again."""
    return usable_answers(stack_dir, lambda text: _say(text, "fg:ansiyellow"))


def ask_stack_dir(given: Path | None, detected: Platform) -> Path:
    import questionary

    if given is not None:
        return given
    default = "." if Path(ANSWERS_FILE).is_file() else load_profile(detected.profile).stack_dir
    _say("  " + _("Where the stack's files live (compose.yaml, secrets, checklist)."))
    answer = _ask(questionary.text(_("Stack folder"), default=default,
                                   validate=lambda t: bool(t.strip()) or _("enter a folder")))
    return Path(str(answer).strip()).expanduser()


def _prompt(question: Question, ctx: Context) -> Any:
    import questionary

    default = question.default(ctx)
    if question.kind == "select":
        choices = [questionary.Choice(title, value=value)
                   for value, title in question.choices(ctx)]
        selected = next((c for c in choices if c.value == default), choices[0])
        return questionary.select(_(question.message), choices=choices, default=selected)
    if question.kind == "confirm":
        return questionary.confirm(_(question.message), default=bool(default))

    def validate(text: str) -> Any:
        problem = check(ctx, question, parse(question, text))
        return True if problem is None else problem

    return questionary.text(_(question.message),
                            default="" if default is None else str(default), validate=validate)


def run_wizard(given_dir: Path | None, given_domain: str | None) -> WizardResult:
    from nasrtc.host import network, ports
    from nasrtc.reach.local import global_ipv6

    detected = this_platform()
    _say(_("nasrtc: setting up calls on {platform}. Ctrl-C stops without writing.").format(
        platform=detected.description), "bold")
    stack_dir = ask_stack_dir(given_dir, detected)
    base = previous_answers(stack_dir)
    if base:
        _say("  " + _("Found {path}: its answers are the defaults; the secrets are "
                      "kept.").format(path=stack_dir / ANSWERS_FILE))
    _say("  " + _("Looking up this host's addresses..."))
    ctx = Context.start(base, detected.profile, detected.description,
                        lan_ip=network.lan_address(), public_ip=network.public_address(),
                        ipv6=tuple(global_ipv6()),
                        port_check=ports.port_owner)
    if given_domain:  # after start(): names that followed the old domain follow this one
        ctx.base["domain"] = ctx.kept["domain"] = given_domain
    for question in in_order(ctx):
        _say(f"  {_(question.help)}")
        answer = _ask(_prompt(question, ctx))
        record(ctx, question, parse(question, answer) if question.kind == "text" else answer)
    return WizardResult(stack_dir, ctx.raw())


def confirm(message: str, default: bool = True) -> bool:
    import questionary

    return bool(_ask(questionary.confirm(message, default=default)))
