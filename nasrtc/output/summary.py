"""Short texts built from the Stack: the summary before init writes (the terminal's and
the web page's), the next steps after it."""

from __future__ import annotations

from pathlib import Path

from nasrtc.i18n import _
from nasrtc.invocation import command
from nasrtc.stack import Stack


def next_steps(stack: Stack, stack_dir: Path, start: str | None = None) -> list[str]:
    """What is left to do after init wrote the stack; `start` replaces the command that
    starts it (the web page has a button)."""
    nas = stack.lan_ip or _("the NAS")
    proxy = "; ".join(f"https://{r.host} -> {r.upstream}" + (" (+ WebSocket)" if r.websocket
                                                           else "")
                      for r in stack.routes)
    folder = stack_dir.resolve()
    return [
        _("DNS: create {jwt_host} and {sfu_host}, pointing where your homeserver's name "
          "points").format(jwt_host=stack.jwt_host, sfu_host=stack.sfu_host),
        _("Router: forward {ports} to {nas}, same port numbers (443 too, if not yet)").format(
            ports=stack.forwarded_summary(), nas=nas),
        _("Reverse proxy: {routes}; certificates for both names").format(routes=proxy),
        _("Homeserver: add matrix/homeserver.yaml to homeserver.yaml, serve "
          "matrix/well-known-client.json at https://{domain}/.well-known/matrix/client, "
          "restart Synapse").format(domain=stack.domain),
        start or _("Start: {command}").format(command=command(f"up --dir {folder}",
                                                              stack.profile.sudo)),
        _("A drawing of all this, with your values: {file} (open it in a browser)").format(
            file=folder / "setup.svg"),
    ]


def answer_rows(stack: Stack) -> list[tuple[str, str]]:
    """The summary of a stack's answers, shown before anything is written."""
    from nasrtc.capacity import summary as capacity_summary
    from nasrtc.services import REDIS_SERVICE

    public = (_("discovered with STUN") if stack.livekit.use_external_ip
              else stack.livekit.node_ip)
    port = _("port {number}")
    return [
        (_("Matrix server name"), stack.domain),
        (_("Homeserver"), stack.homeserver_url),
        (_("Auth service"),
         f"{stack.jwt_url} -> {port.format(number=stack.jwt_route.upstream_port)}"),
        (_("SFU"), f"{stack.livekit_url} -> {port.format(number=stack.sfu_route.upstream_port)}"),
        (_("Router forwards"), stack.forwarded_summary()),
        ("TURN", _("on") if stack.livekit.turn_enabled else _("off")),
        (_("Redis"), _("on") if stack.runs(REDIS_SERVICE) else _("off")),
        (_("Public address"), str(public)),
        (_("NAS LAN address"), stack.lan_ip or _("(fill in by hand)")),
        (_("One call"), capacity_summary()),
    ]
