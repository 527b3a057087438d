"""Read, check and write the answers file (`<dir>/nasrtc.yaml`).

The file never holds secrets. A partial file is fine: every omitted key takes
the profile's default, then the schema's.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrtc.answers.rules import check_rules
from nasrtc.answers.schema import BY_KEY, FIELDS, GROUPS, REQUIRED, Field, describe_default
from nasrtc.errors import InputError, NasrtcError, Problem
from nasrtc.i18n import _
from nasrtc.profiles import Profile, load_profile

ANSWERS_FILE = "nasrtc.yaml"


@dataclass(frozen=True)
class Answers:
    """Every key resolved and every rule checked. `given` names the keys the user
    wrote; `profile` is the platform profile the answers chose."""

    values: dict[str, Any]
    given: frozenset[str]
    profile: Profile

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def read_yaml_mapping(path: Path, what: str | None = None) -> dict[str, Any]:
    """path's YAML mapping, read within bounds; `what` names the file in messages."""
    import yaml

    from nasrtc.answers.yaml_input import MAX_BYTES, RefusedYaml, load

    what = what or _("answers file")
    try:
        if path.is_dir():
            raise InputError([Problem(str(path), _("is a folder, not an {what}")
                                                 .format(what=what))],
                             source=str(path))
        if path.stat().st_size > MAX_BYTES:
            too_large = _("is {size} bytes; an {what} is at most {limit} KiB").format(
                size=path.stat().st_size, what=what, limit=MAX_BYTES // 1024)
            raise InputError([Problem("(file)", too_large)], source=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(str(path), _("no such {what}")
                                             .format(what=what))], source=str(path)) from None
    except PermissionError:
        raise NasrtcError(_("cannot read {path}: permission denied").format(path=path),
                          _("it belongs to root (as on DSM): run the same command with sudo in "
                            "front")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NasrtcError(_("cannot read {path}: {error}").format(path=path, error=exc),
                          _("check the path and permissions")) from None
    try:
        data = load(text)
    except RefusedYaml as exc:
        raise InputError([Problem("(file)", str(exc))], source=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = (_("is not valid YAML at line {line}, column {column}: {problem}").format(
            line=mark.line + 1, column=mark.column + 1, problem=problem) if mark
            else _("is not valid YAML: {problem}").format(problem=problem))
        raise InputError([Problem("(file)", message)], source=str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            [Problem("(file)", _("expected a mapping of keys such as 'domain: example.org'"))],
            source=str(path),
        )
    return data


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"ports.rtc_tcp": 1} -> {"ports": {"rtc_tcp": 1}}; keys starting with '_' are left out."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if key.startswith("_"):
            continue
        top, _dot, sub = key.partition(".")
        if sub:
            nested.setdefault(top, {})[sub] = value
        else:
            nested[top] = value
    return nested


def flatten(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Dotted keys of the known fields, and a problem for each unknown or misshapen one."""
    flat: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        key = str(key)
        if key in GROUPS:
            if value is None:
                continue
            if not isinstance(value, dict):
                problems.append(Problem(key, _("{value!r} should be a mapping of {key}.* keys")
                                             .format(value=value, key=key)))
                continue
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    for key in list(flat):
        if key not in BY_KEY:
            close = difflib.get_close_matches(key, list(BY_KEY), n=1, cutoff=0.6)
            problems.append(Problem(key, _("unknown key; did you mean '{close}'?").format(
                close=close[0]) if close else _("unknown key; see the README for the keys")))
            del flat[key]
    return flat, problems


def resolve(raw: dict[str, Any], source: str | None = None) -> Answers:
    """Check every given key, fill the rest with defaults, then run every rule across
    keys, once. Raises InputError listing every problem found."""
    flat, problems = flatten(raw)
    values, profile = _resolve_keys(flat, problems)
    problems += _cross_key_problems(values, problems, profile)
    if problems:
        raise InputError(problems, source=source)
    assert profile is not None  # "profile" resolved without a problem
    return Answers(values=values, given=frozenset(flat), profile=profile)


def resolve_partial(raw: dict[str, Any]) -> dict[str, Any]:
    """Every key that resolves on its own, the faulty and undecidable ones left out:
    what the wizard offers as defaults while the answers are still partial."""
    flat, problems = flatten(raw)
    values, _found = _resolve_keys(flat, problems)
    return values


def chosen_keys(flat: dict[str, Any]) -> dict[str, Any]:
    """The given keys whose value differs from the default they would take without
    them. The others were defaults when written: they follow a changed domain or
    profile default instead of pinning the old value."""
    values = resolve_partial(nest(flat))
    kept = {}
    for key, value in flat.items():
        without = resolve_partial(nest({k: v for k, v in flat.items() if k != key}))
        if key not in values or key not in without or values[key] != without[key]:
            kept[key] = value
    return kept


def _resolve_keys(flat: dict[str, Any],
                  problems: list[Problem]) -> tuple[dict[str, Any], Profile | None]:
    """Each key on its own: the given value checked, else the profile's default, else
    the schema's. Problems are appended; a faulty key is left out of the values."""
    profile: Profile | None = None
    values: dict[str, Any] = {}
    for field in FIELDS:
        if field.key in flat:
            try:
                values[field.key] = field.check(flat[field.key])
            except ValueError as exc:
                problems.append(Problem(field.key, str(exc)))
                continue
        else:
            default = _default(field, values, profile)
            if default is REQUIRED:
                problems.append(Problem(field.key, _missing_message(field.key)))
                continue
            values[field.key] = default
        if field.key == "profile":
            profile = load_profile(values["profile"])
    _udp_mode(flat, values, problems)
    return values, profile


def _default(field: Field, values: dict[str, Any], profile: Profile | None) -> Any:
    """The checked default of an unanswered key (REQUIRED when it has none)."""
    profile_defaults = profile.defaults if profile else {}
    default = profile_defaults.get(field.key, field.default_for(values))
    if default is REQUIRED or default is None:
        return default
    return field.check(default)


def _cross_key_problems(values: dict[str, Any], problems: list[Problem],
                        profile: Profile | None) -> list[Problem]:
    """The rules across keys, run on the keys that did resolve, so one run lists every
    mistake. A faulty key is stood in for by its default; a rule that involves such a
    key is left out (its message would quote a value nobody wrote)."""
    faulty = {p.key for p in problems}
    if profile is None or "domain" in faulty:
        return []  # the names derived from the domain are unknown
    trial = dict(values)
    try:
        for field in FIELDS:
            if field.key not in trial:
                trial[field.key] = _default(field, trial, profile)
                if trial[field.key] is REQUIRED:
                    return []
        found = check_rules(trial, profile)
    except (KeyError, ValueError, TypeError, NasrtcError):
        return []
    return [p for p in found
            if not any(key == p.key or key in p.also or key in p.message for key in faulty)]


def _missing_message(key: str) -> str:
    field = BY_KEY[key]
    return _("missing and has no default; add e.g. '{key}: {example}' ({meaning})").format(
        key=key, example=field.example, meaning=_(field.doc))


def _udp_mode(flat: dict[str, Any], values: dict[str, Any], problems: list[Problem]) -> None:
    """rtc_udp (mux, default) and rtc_udp_range are alternatives."""
    if values.get("ports.rtc_udp_range") is None:
        if "ports.rtc_udp" in values and values["ports.rtc_udp"] is None:
            problems.append(
                Problem("ports.rtc_udp", _("is null but no rtc_udp_range is set; give one of them"))
            )
        return
    if flat.get("ports.rtc_udp") is not None:
        problems.append(
            Problem(
                "ports.rtc_udp_range",
                _("and ports.rtc_udp are both set; keep one: a single UDP port (recommended, "
                  "one router rule) or a range"),
            )
        )
    values["ports.rtc_udp"] = None


def load_answers(path: Path) -> Answers:
    return resolve(read_yaml_mapping(path), source=str(path))


def load_stack_answers(stack_dir: Path) -> Answers:
    """DIR/nasrtc.yaml, checked; a folder without one gets the way out."""
    import os

    path = stack_dir / ANSWERS_FILE
    if stack_dir.is_dir() and not os.access(stack_dir, os.R_OK | os.X_OK):
        raise NasrtcError(_("cannot read the stack folder {folder}: permission denied")
                          .format(folder=stack_dir.resolve()),
                          _("it belongs to root (as on DSM): run the same command with sudo in "
                            "front"))
    if not path.is_file():
        raise NasrtcError(_("no {answers} in {folder}")
                          .format(answers=ANSWERS_FILE, folder=stack_dir.resolve()),
                          _("run `{nasrtc} init --dir {folder}` first, or point --dir at the "
                            "stack folder (where nasrtc init wrote it)")
                          .format(folder=stack_dir))
    return load_answers(path)


def _scalar(value: Any) -> str:
    import yaml

    if isinstance(value, tuple):  # a port range
        value = f"{value[0]}-{value[1]}"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    dumped: str = yaml.safe_dump(value, default_flow_style=True, width=1000)
    dumped = dumped.strip()
    return (dumped[:-3] if dumped.endswith("...") else dumped).strip()


def dump_answers(answers: Answers) -> str:
    """The answers as a commented nasrtc.yaml, same bytes for the same answers.

    Keys the user gave are set; every other key is shown commented out with
    its current default, so a later change of `domain` still moves jwt_host.
    """
    lines = [
        "# nasrtc answers: the only input of the stack besides secrets/ (never put secrets here).",
        "# Edit, then run `nasrtc render` to rebuild every file. Commented keys show the",
        "# default in use; uncomment one to change it.",
    ]
    given = answers.given | {"version"}
    opened: set[str] = set()
    for field in FIELDS:
        top, _dot, sub = field.key.partition(".")
        is_set = field.key in given
        if sub and top not in opened:
            opened.add(top)
            group_set = any(f.key in given for f in FIELDS if f.key.startswith(top + "."))
            lines += ["", f"{top}:" if group_set else f"# {top}:"]
        indent = "  " if sub else ""
        doc = field.doc
        if callable(field.default) or field.default is REQUIRED:
            doc += f" (default: {describe_default(field)})"
        if not sub:
            lines.append("")
        lines.append(f"{indent}# {doc}")
        entry = f"{sub or top}: {_scalar(answers.values.get(field.key))}"
        lines.append(f"{indent}{entry}" if is_set else f"{indent}# {entry}")
    return "\n".join(lines) + "\n"
