"""Checks for one answer each. Each returns the normalised value or raises
ValueError with a message that says what is allowed.

The answers file and the wizard both call these: one set of rules, one set of
messages.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from nasrtc.i18n import _, ngettext

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")

MIN_UDP_RANGE = 10  # each participant uses two ports; 10 fits a call of five


def _show(value: Any) -> str:
    """A value as a message quotes it: short, whatever was given."""
    from nasrtc.answers.yaml_input import excerpt

    return excerpt(value)


def _type_name(value: Any) -> str:
    names = {bool: _("true/false"), int: _("a number"), str: _("text"), list: _("a list"),
             dict: _("a mapping")}
    return names.get(type(value), type(value).__name__)


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("{value} is {type_name}; expected a whole number")
                         .format(value=_show(value), type_name=_type_name(value)))
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("{value} is {type_name}; expected true or false")
                         .format(value=_show(value), type_name=_type_name(value)))
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("{value} is {type_name}; expected non-empty text")
                         .format(value=_show(value), type_name=_type_name(value)))
    return value.strip()


def port(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    number = integer(value)
    if not 1 <= number <= 65535:
        raise ValueError(_("{number} is not a port; allowed: 1 to 65535").format(number=number))
    return number


def hostname(value: Any) -> str:
    """An RFC 1123 DNS name with at least one dot: no scheme, path or port."""
    name = text(value).lower().rstrip(".")
    hint = _("expected a DNS name such as example.org")
    if "://" in name:
        raise ValueError(_("{value} has a scheme; {hint}, without 'https://'")
                         .format(value=_show(value), hint=hint))
    if "/" in name:
        raise ValueError(_("{value} has a path; {hint}, without '/...'")
                         .format(value=_show(value), hint=hint))
    if ":" in name:
        raise ValueError(_("{value} has a port; {hint}, without ':port'")
                         .format(value=_show(value), hint=hint))
    if any(character.isspace() for character in name):  # often a copy-paste slip
        raise ValueError(_("{value} contains a space; {hint}, in one piece")
                         .format(value=_show(value), hint=hint))
    if len(name) > 253:
        raise ValueError(_("{value} is longer than 253 characters; {hint}")
                         .format(value=_show(value), hint=hint))
    labels = name.split(".")
    if len(labels) < 2:
        raise ValueError(_("{value} has no dot; {hint} (a public name with a domain)")
                         .format(value=_show(value), hint=hint))
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(
                _("{value}: part {label!r} is not allowed; {hint} (letters, digits and inner "
                  "hyphens, 1-63 characters per part)")
                .format(value=_show(value), label=label, hint=hint)
            )
    if labels[-1].isdigit():
        raise ValueError(_("{value} is an IP address; {hint}")
                         .format(value=_show(value), hint=hint))
    return name


def https_url(value: Any) -> str:
    """An https:// base URL: host and optional port, no path."""
    url = text(value).rstrip("/")
    match = re.match(r"^https://([^/:]+)(?::(\d+))?$", url, re.IGNORECASE)
    if not match:
        raise ValueError(
            _("{value} is not an https base URL; expected e.g. https://matrix.example.org "
              "(https, a host name, optionally :port, no path)").format(value=_show(value))
        )
    host = hostname(match.group(1))
    if match.group(2):
        port(int(match.group(2)))
        return f"https://{host}:{match.group(2)}"
    return f"https://{host}"


def port_range(value: Any) -> tuple[int, int]:
    match = _RANGE.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ValueError(_("{value} is not a port range; expected START-END, e.g. 50000-50200")
                         .format(value=_show(value)))
    start, end = port(int(match.group(1))), port(int(match.group(2)))
    if end < start:
        raise ValueError(_("{value}: the end is below the start; expected START-END")
                         .format(value=_show(value)))
    if end - start + 1 < MIN_UDP_RANGE:
        raise ValueError(
            ngettext("{value} has {count} port; at least {minimum} are needed (each participant "
                     "in a call uses two)", "{value} has {count} ports; at least {minimum} are "
                     "needed (each participant in a call uses two)", end - start + 1)
            .format(value=_show(value), count=end - start + 1, minimum=MIN_UDP_RANGE))
    return start, end


def public_ip(value: Any) -> str:
    """'stun' (discover the public address) or a fixed public IPv4 address."""
    raw = text(value)
    if raw.lower() == "stun":
        return "stun"
    try:
        address = ipaddress.IPv4Address(raw)
    except ValueError:
        raise ValueError(
            _("{value} is neither 'stun' nor an IPv4 address; expected 'stun' (LiveKit "
              "discovers the address) or your public IPv4 address").format(value=_show(value))
        ) from None
    if not address.is_global:
        raise ValueError(
            _("{value} is a private or reserved address; LiveKit must advertise your public "
              "address: use 'stun' or the address your router shows as its WAN IP")
            .format(value=raw))
    return raw


def ipv4(value: Any) -> str:
    raw = text(value)
    try:
        return str(ipaddress.IPv4Address(raw))
    except ValueError:
        raise ValueError(_("{value} is not an IPv4 address; expected e.g. 192.168.1.10")
                         .format(value=_show(value))) from None


def lan_ip(value: Any) -> str:
    raw = ipv4(value)
    if not ipaddress.IPv4Address(raw).is_private or raw.startswith("127."):
        raise ValueError(
            _("{value} is not a LAN address; expected the NAS's address, e.g. 192.168.1.10")
            .format(value=raw))
    return raw


_UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f\s;{}'\"`$\\:]")


def host_path(value: Any) -> str:
    """An absolute host path that can stand unquoted in nginx and compose files: no
    spaces, quotes, ';', braces, ':' or control characters (a newline would inject a
    line into the generated configuration)."""
    path = text(value)
    if not path.startswith("/"):
        raise ValueError(_("{value} is not an absolute path; expected e.g. /etc/letsencrypt/live")
                         .format(value=_show(value)))
    bad = _UNSAFE_PATH.search(path)
    if bad:
        raise ValueError(_("{value} contains {character!r}, which cannot stand in the generated "
                           "nginx and compose files; use a path without it (a link without "
                           "such characters works)")
                         .format(value=_show(value), character=bad.group(0)))
    return path.rstrip("/") or "/"


def project_name(value: Any) -> str:
    name = text(value)
    if not _PROJECT.match(name):
        raise ValueError(
            _("{value} is not a valid project name; expected lowercase letters, digits, '-' or "
              "'_', starting with a letter or digit").format(value=_show(value))
        )
    return name


def image(value: Any) -> str:
    ref = text(value)
    if not _IMAGE.match(ref):
        raise ValueError(_("{value} is not an image reference; expected e.g. repo/name:tag")
                         .format(value=_show(value)))
    return ref


def host_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(_("{value} is {type_name}; expected a list of host names")
                         .format(value=_show(value), type_name=_type_name(value)))
    return [hostname(item) for item in value]


def stun_servers(value: Any) -> list[str]:
    """STUN servers as LiveKit's rtc.stun_servers takes them: 'host:port' each, the host a
    DNS name, an IPv4 address or a bracketed IPv6 address."""
    example = "['stun.example.org:3478']"
    if not isinstance(value, list):
        raise ValueError(_("{value} is {type_name}; expected a list of STUN servers such as "
                           "{example}").format(value=_show(value), type_name=_type_name(value),
                                               example=example))
    servers = []
    for item in value:
        host, colon, number = text(item).rpartition(":")
        if not colon or not host or not number.strip().isdigit():
            raise ValueError(_("{value} has no port; expected host:port, such as {example}")
                             .format(value=_show(item), example=example.strip("[]'")))
        if host.startswith("[") and host.endswith("]"):
            host = f"[{ipaddress.IPv6Address(host[1:-1])}]"
        else:
            try:
                host = str(ipaddress.IPv4Address(host))
            except ValueError:
                host = hostname(host)
        servers.append(f"{host}:{port(number)}")
    return servers


def server_names(value: Any) -> list[str]:
    """Homeserver names allowed full access to the SFU, or ['*'] for any."""
    if not isinstance(value, list) or not value:
        raise ValueError(_("{value}: expected a non-empty list of Matrix server names, or ['*']")
                         .format(value=_show(value)))
    if value == ["*"]:
        return ["*"]
    return [hostname(item) for item in value]


def answers_version(value: Any) -> int:
    number = integer(value)
    if number != 1:
        raise ValueError(
            _("{number} is not a format this nasrtc knows (it reads version 1); upgrade "
              "nasrtc or write version: 1").format(number=number)
        )
    return number


def profile_name(value: Any) -> str:
    from nasrtc.profiles import profile_names

    names = profile_names()
    if value not in names:
        raise ValueError(_("{value} is not a profile; expected one of: {names}")
                         .format(value=_show(value), names=', '.join(names)))
    return str(value)


def choice(*allowed: str) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(_("{value} is not allowed; expected one of: {allowed}")
                             .format(value=_show(value), allowed=', '.join(allowed)))
        return str(value)

    return check


def language(value: Any) -> str:
    """A language nasrtc has a catalog for, in any spelling (de_DE, zh-CN): its name."""
    from nasrtc.language import canonical

    return canonical(value)


def optional(check: Any) -> Any:
    """None (YAML `null` or an omitted key) passes through unchanged."""

    def wrapped(value: Any) -> Any:
        return None if value is None else check(value)

    return wrapped
