"""Short texts for the terminal, built from the Stack: next steps after init."""

from __future__ import annotations

from pathlib import Path

from nasrtc.i18n import _
from nasrtc.invocation import command
from nasrtc.stack import Stack


def next_steps(stack: Stack, stack_dir: Path) -> list[str]:
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
        _("Start: {command}").format(command=command(f"up --dir {folder}", stack.profile.sudo)),
        _("A drawing of all this, with your values: {file} (open it in a browser)").format(
            file=folder / "setup.svg"),
    ]
