"""DSM's reverse proxy, reproduced: DSM's own nginx cannot run here, so the rows nasrtc
prints for Control Panel › Login Portal › Advanced › Reverse Proxy (reverse-proxy.md's
table) become nginx server blocks that do exactly what each row says, as DSM writes them:
one source name on 443 with its certificate to one destination, the WebSocket headers when
the row's Custom Header says WebSocket, and the timeouts the row names. Nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROW = re.compile(r"^\| `https://([^:`]+):443` \| `(http://[^`]+)` \| [^|]+ \| ([^|]+) \| "
                 r"([^|]+) \|$")


def rows(reverse_proxy_md: str) -> list[tuple[str, str, bool, int | None]]:
    """(source name, destination, websocket, timeout seconds or None for DSM's default)."""
    found = []
    for line in reverse_proxy_md.splitlines():
        match = ROW.match(line.strip())
        if match:
            timeout = re.search(r"(\d+) s", match.group(4))
            found.append((match.group(1), match.group(2), "yes" in match.group(3),
                          int(timeout.group(1)) if timeout else None))
    return found


def server_blocks(stack_dir: Path, cert_dir: Path) -> str:
    blocks = ["map $http_upgrade $connection_upgrade {\n    default upgrade;\n    '' close;\n}\n"]
    for name, destination, websocket, timeout in rows(
            (stack_dir / "reverse-proxy.md").read_text()):
        extra = ""
        if websocket:  # Custom Header › Create › WebSocket
            extra += ("        proxy_http_version 1.1;\n"
                      "        proxy_set_header Upgrade $http_upgrade;\n"
                      "        proxy_set_header Connection $connection_upgrade;\n")
        if timeout:
            extra += (f"        proxy_read_timeout {timeout}s;\n"
                      f"        proxy_send_timeout {timeout}s;\n")
        blocks.append(f"""server {{
    listen 443 ssl;
    server_name {name};
    ssl_certificate     {cert_dir}/{name}/fullchain.pem;
    ssl_certificate_key {cert_dir}/{name}/privkey.pem;
    location / {{
        proxy_pass {destination};
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
{extra}    }}
}}
""")
    if len(blocks) < 3:
        raise AssertionError("reverse-proxy.md lists fewer than two DSM rows")
    return "\n".join(blocks)
