"""Serving the page: waitress (a well-kept pure-Python WSGI server; Python's http.server
is not meant for this) on the NAS's LAN address, the one-time link on standard output,
and the end: Done, or the stack up and nobody on the page for a while."""

from __future__ import annotations

import _thread
import contextlib
import ipaddress
import signal
import socket
import threading
import time
from pathlib import Path

from nasrtc.errors import NasrtcError, usage_error
from nasrtc.i18n import _
from nasrtc.web.guard import LINK_PATH, MAX_BODY, Guard, host_names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nasrtc.web.app import WebApp

DEFAULT_PORT = 8765
LISTEN_EVERYWHERE = ("0.0.0.0", "::")


def parse_listen(text: str | None) -> tuple[str | None, int]:
    """--listen ADDRESS:PORT, ADDRESS or :PORT (None: the LAN address)."""
    if not text:
        return None, DEFAULT_PORT
    address, port_text = text, ""
    if text.startswith("["):  # [IPv6]:PORT
        address, _sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        address, port_text = text.split(":")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
        if not 0 <= port <= 65535:  # 0: any free port (the link names it)
            raise ValueError
        if address:
            ipaddress.ip_address(address)
    except ValueError:
        raise usage_error("--listen", _(
            "{value} is not ADDRESS:PORT (an IP address of this NAS and a port from 0 to "
            "65535), e.g. --listen 192.168.1.20:8765, or :8765 for the LAN address").format(
                value=text)) from None
    return address or None, port


def _names(address: str, extra: list[str]) -> list[str]:
    """Names of this NAS a browser may use: its host name (DSM answers .local by mDNS)."""
    host = socket.gethostname()
    names = [host, f"{host}.local", *extra]
    if address in LISTEN_EVERYWHERE:
        with contextlib.suppress(OSError):
            names += [str(info[4][0]) for info in socket.getaddrinfo(host, None)][:32]
        names += ["127.0.0.1", "localhost"]
    return names


def serve(listen: str | None, folder: Path | None, idle_minutes: float,
          names: list[str]) -> int:
    try:
        import waitress  # type: ignore[import-untyped]
    except ImportError:
        raise NasrtcError(
            _("the web page needs the waitress package (Python 3.9 or newer), which this "
              "nasrtc does not have"),
            _("use nasrtc's container image (README: Synology DSM), or `pip install "
              "'nasrtc[web]'`; the terminal wizard `{nasrtc} init` works everywhere")) from None
    from nasrtc.host import network, ports
    from nasrtc.host.platform import this_platform
    from nasrtc.profiles import load_profile
    from nasrtc.reach.local import global_ipv6
    from nasrtc.web.app import WebApp
    from nasrtc.web.form import Host

    address, port = parse_listen(listen)
    if address is None:
        address = network.lan_address()
        if address is None:
            raise usage_error("--listen", _(
                "is needed: this NAS has no private LAN address to listen on (give the "
                "address to serve the page on, e.g. --listen 192.168.1.20:8765)"))
    detected = this_platform()
    host = Host(detected.profile, detected.description,
                Path(load_profile(detected.profile).stack_dir),
                {"lan_ip": network.lan_address(), "public_ip": network.public_address(),
                 "ipv6": tuple(global_ipv6()), "port_check": ports.port_owner})
    app = WebApp(Guard(frozenset()), host, folder, say)
    try:
        server = waitress.create_server(
            app, host=address, port=port, threads=4, ident="nasrtc",
            max_request_body_size=MAX_BODY, max_request_header_size=16 * 1024,
            connection_limit=32, channel_timeout=60, expose_tracebacks=False,
            clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise NasrtcError(_("cannot listen on {address}:{port}: {error}").format(
            address=address, port=port, error=exc.strerror or exc),
            _("choose another port with --listen ADDRESS:PORT")) from None
    actual = int(getattr(server, "effective_port", port))
    app.guard.allowed_hosts = host_names(address, actual, _names(address, names))
    shown = f"[{address}]" if ":" in address else address
    app.base_url = f"http://{shown}:{actual}"
    say(_("nasrtc web: the setup page for this NAS is at {url}").format(url=app.base_url))
    say(_("Open this link (it works once, in one browser; a new one comes here on demand):"))
    say(f"  {app.base_url}{LINK_PATH}?t={app.guard.link}")
    if idle_minutes > 0:
        say(_("The page stops when you click Done, or {minutes} minutes after the stack "
              "is up with nobody on the page.").format(minutes=f"{idle_minutes:g}"))
    reason: list[str] = []
    watch = threading.Thread(target=_watch, args=(app, idle_minutes * 60, reason),
                             daemon=True)
    watch.start()
    # `docker stop` (Container Manager's Stop) sends SIGTERM: end as Ctrl-C does, cleanly
    signal.signal(signal.SIGTERM, lambda *_args: _thread.interrupt_main())
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    say(_("nasrtc web: stopped ({reason})").format(
        reason=reason[0] if reason else _("interrupted")))
    return 0


def say(text: str) -> None:
    print(text, flush=True)


def _watch(app: WebApp, idle_seconds: float, reason: list[str]) -> None:
    """Ends the server from beside it: Done was clicked, or the stack is up and idle."""
    while True:
        time.sleep(0.5)
        if app.done:
            time.sleep(1.0)  # the page saying so reaches the browser first
            reason.append(_("Done was clicked"))
        elif idle_seconds > 0 and app.stack_up \
                and time.monotonic() - app.last_request > idle_seconds:
            reason.append(_("the stack is up and nobody used the page for a while"))
        else:
            continue
        _thread.interrupt_main()
        return

