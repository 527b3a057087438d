"""Who may use the page, and which requests it takes: a one-time link, exchanged for a
session cookie; a CSRF token in every form; the Host header naming this NAS (no DNS
rebinding); a bound on every body. Standard library only: the page can start containers
as root, so each check is small enough to read in one go."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

SESSION_COOKIE = "nasrtc_session"
LANGUAGE_COOKIE = "nasrtc_lang"
MAX_BODY = 64 * 1024  # the longest form is a few hundred bytes
LINK_PATH = "/start"


def _token() -> str:
    return secrets.token_urlsafe(32)


def _same(given: str | None, wanted: str | None) -> bool:
    if not given or not wanted:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), wanted.encode("utf-8"))


@dataclass
class Guard:
    """One person at a time: the newest browser to open a link holds the only session."""

    allowed_hosts: frozenset[str]  # Host header values, lower case, with the port
    link: str = field(default_factory=_token)
    session: str | None = None
    csrf: str | None = None
    # Tokens that worked once: to tell a replayed link from a wrong one, and a browser
    # signed out by another from a stranger.
    _used_links: set[str] = field(default_factory=set)
    _old_sessions: set[str] = field(default_factory=set)

    def host_allowed(self, host: str | None) -> bool:
        return bool(host) and str(host).strip().lower() in self.allowed_hosts

    def exchange(self, token: str | None) -> str:
        """A link's token for a new session: 'ok' (then .session and .csrf are new),
        'used' (it worked once already) or 'wrong'."""
        if _same(token, self.link):
            if self.session:
                self._old_sessions.add(self.session)
            self._used_links.add(self.link)
            self.session, self.csrf = _token(), _token()
            self.link = _token()  # a link works once
            return "ok"
        if token and any(_same(token, used) for used in self._used_links):
            return "used"
        return "wrong"

    def new_link(self) -> str:
        """A fresh link token (the old one stops working)."""
        self.link = _token()
        return self.link

    def signed_in(self, cookie: str | None) -> str:
        """'yes', 'replaced' (this browser's session went to another browser) or 'no'."""
        if _same(cookie, self.session):
            return "yes"
        if cookie and any(_same(cookie, old) for old in self._old_sessions):
            return "replaced"
        return "no"

    def csrf_ok(self, given: str | None) -> bool:
        return _same(given, self.csrf)

    def sign_out(self) -> None:
        if self.session:
            self._old_sessions.add(self.session)
        self.session = self.csrf = None


def host_names(address: str, port: int, names: list[str]) -> frozenset[str]:
    """The Host header values that name this page: its address and the NAS's names, with
    the port (and without it on port 80, as browsers send it)."""
    hosts = {address, *names}
    if address in ("127.0.0.1", "::1"):
        hosts.add("localhost")
    out: set[str] = set()
    for host in hosts:
        host = host.lower().rstrip(".")
        shown = f"[{host}]" if ":" in host else host
        out.add(f"{shown}:{port}")
        if port == 80:
            out.add(shown)
    return frozenset(out)
