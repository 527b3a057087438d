"""Short texts for the terminal, built from the Stack: next steps after init."""

from __future__ import annotations

from pathlib import Path

from nasrtc.stack import Stack


def next_steps(stack: Stack, stack_dir: Path) -> list[str]:
    nas = stack.lan_ip or "the NAS"
    proxy = "; ".join(f"https://{r.host} -> {r.upstream}" + (" (+ WebSocket)" if r.websocket
                                                           else "")
                      for r in stack.routes)
    folder = stack_dir.resolve()
    return [
        f"DNS: create {stack.jwt_host} and {stack.sfu_host}, pointing where your "
        "homeserver's name points",
        f"Router: forward {stack.forwarded_summary()} to {nas}, same port numbers (443 too, "
        "if not yet)",
        f"Reverse proxy: {proxy}; certificates for both names",
        "Homeserver: add matrix/homeserver.yaml to homeserver.yaml, serve "
        f"matrix/well-known-client.json at https://{stack.domain}/.well-known/matrix/client, "
        "restart Synapse",
        f"Start: {stack.profile.sudo}nasrtc up --dir {folder}",
        f"A drawing of all this, with your values: {folder / 'setup.svg'} (open it in a "
        "browser)",
    ]
