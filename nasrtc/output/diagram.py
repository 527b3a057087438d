"""One drawing of the user's own setup, as an SVG written by hand: a caller on the
internet, the DNS names, the router with each forwarded port, and the NAS with its
reverse proxy, the two containers and the homeserver. Every value comes from the
Stack; arrows differ by dash pattern (not colour), so the print stays legible in
black and white, and all labels are <text>, so they can be selected and searched."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from nasrtc.i18n import N_, _
from nasrtc.stack import Stack

WIDTH = 840
LINE = 15  # px per text line
FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'
# stroke-dasharray per kind of traffic; the legend explains them
STYLES = {  # the meanings are translated where drawn
    "signalling": ("", N_("HTTPS / WebSocket: signalling and the auth service")),
    "udp": ("7 4", N_("UDP: call media (and TURN)")),
    "tcp": ("2 3", N_("TCP: media fallback when UDP is blocked")),
}


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def mid_y(self, share: float = 0.5) -> int:
        return int(self.y + self.h * share)

    def row_y(self, index: int) -> int:
        """The middle of the box's text line `index` (0: the first under the title), as
        Canvas.box writes them: arrows end at the row they are about."""
        return self.y + 17 + LINE * (index + 1) - 4


class Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def box(self, box: Box, title: str, lines: list[str], dashed: bool = False,
            bold: bool = True) -> None:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        self.parts.append(f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" '
                          f'rx="6" fill="#fff" stroke="#000" stroke-width="1.4"{dash}/>')
        weight = ' font-weight="bold"' if bold else ""
        self.text(box.x + 8, box.y + 17, title, weight)
        for index, line in enumerate(lines):
            self.text(box.x + 8, box.y + 17 + LINE * (index + 1), line, ' font-size="10.5"')

    def text(self, x: int, y: int, content: str, extra: str = "") -> None:
        self.parts.append(f'<text x="{x}" y="{y}"{extra}>{escape(content)}</text>')

    def path(self, points: list[tuple[int, int]], kind: str) -> None:
        """An arrow with corners, to go around the boxes in between."""
        dash = STYLES[kind][0]
        pattern = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{x},{y}" for x, y in points)
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="#000" '
                          f'stroke-width="1.6"{pattern} marker-end="url(#head)"/>')

    def arrow(self, x1: int, y1: int, x2: int, y2: int, kind: str, label: str = "") -> None:
        dash = STYLES[kind][0]
        pattern = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#000" '
                          f'stroke-width="1.6"{pattern} marker-end="url(#head)"/>')
        if label and x1 == x2:  # vertical: beside the line, half way
            self.text(x1 + 5, (y1 + y2) // 2 + 4, label, ' font-size="9.5"')
        elif label and y1 == y2:  # horizontal: above the line, near its start
            self.text(x1 + 6, y1 - 4, label, ' font-size="9.5"')
        elif label:  # slanted: beside a point a third along, on the side the line leaves
            x, y = x1 + (x2 - x1) // 3, y1 + (y2 - y1) // 3
            self.text(x + 6, y + 12 if y2 < y1 else y - 5, label, ' font-size="9.5"')


def setup_svg(stack: Stack) -> str:
    """The drawing for this stack (deterministic: same Stack, same bytes)."""
    from nasrtc.answers.rules import PROXY
    from nasrtc.output.checklist import public_names
    from nasrtc.services import JWT_SERVICE, LIVEKIT_SERVICE

    canvas = Canvas()
    lk = stack.livekit
    forwarded = list(stack.router_rules)
    media = [r for r in stack.ports if r.forward]
    udp = [r for r in media if r.protocol == "udp"]
    tcp = [r for r in media if r.protocol == "tcp"]

    # Column 1: the caller; column 2: the names above the router; column 3: the NAS.
    names = list(dict.fromkeys([stack.domain, stack.homeserver_host, *public_names(stack)]))
    dns = Box(200, 8, 178, 22 + LINE * (len(names) + 1))
    canvas.box(dns, _("DNS names"), [*names, _("→ your public address")])
    router_lines = [_("{ports} (there already)").format(ports=f"{r.protocol.upper()} {r.ports}")
                    if r.existing else f"{r.protocol.upper()} {r.ports}" for r in forwarded]
    router = Box(200, dns.bottom + 30, 178, 22 + LINE * (len(router_lines) + 1))
    canvas.box(router, _("Router"), [_("forwards, same port:"), *router_lines])
    caller = Box(8, router.y, 124, 70)
    canvas.box(caller, _("Caller"), [_("on the internet"), "(Element Call,", "Element X)"])

    nas_x = 402
    nas_w = WIDTH - nas_x - 6
    proxy_lines = [f"443 → {route.host}" for route in stack.routes]
    if stack.turn_tls:
        proxy_lines.append(_("443 → {name} (SNI step)").format(name=lk.turn_domain))
    if any(r.owner == PROXY for r in stack.ports):
        proxy_lines.append(_("(your HTTPS blocks: {address})").format(
            address=stack.https_listen))
    proxy_title = (_("DSM reverse proxy") if stack.profile.reverse_proxy.get("kind") == "dsm"
                   else _("Reverse proxy (nginx / Caddy)"))
    proxy = Box(nas_x + 26, 40, nas_w - 38, 22 + LINE * len(proxy_lines))

    auth_route, sfu_route = stack.jwt_route, stack.sfu_route
    mode = (_("host network: listens itself") if stack.livekit_mode == "host"
            else _("bridge: Docker publishes"))
    livekit_lines = [f"HTTP {sfu_route.upstream_host}:{sfu_route.upstream_port}",
                     *(f"{r.protocol.upper()} {r.label}" for r in stack.ports_of(LIVEKIT_SERVICE)
                       if r.forward),
                     *([_("TURN/TLS {port} (via 443)").format(port=lk.turn_tls_port)]
                       if stack.turn_tls else []),
                     mode]
    livekit = Box(nas_x + 26, proxy.bottom + 40, 200, 22 + LINE * len(livekit_lines))
    auth = Box(livekit.right + 14, proxy.bottom + 40, nas_w - 38 - 200 - 14, 22 + LINE * 2)
    here = stack.homeserver_here
    home = Box(livekit.x, max(livekit.bottom, auth.bottom) + 24, 240, 22 + LINE * 2)
    nas = Box(nas_x, 8, nas_w, home.bottom + 12 - 8)
    canvas.parts.append(f'<rect x="{nas.x}" y="{nas.y}" width="{nas.w}" height="{nas.h}" '
                        'rx="8" fill="#f4f4f4" stroke="#000" stroke-width="1.8"/>')
    canvas.text(nas.x + 10, nas.y + 20,
                _("The NAS ({platform})").format(platform=stack.profile.title),
                ' font-weight="bold"')
    if stack.lan_ip:
        canvas.text(nas.right - 112, nas.y + 20, f"LAN {stack.lan_ip}", ' font-size="10"')
    canvas.box(proxy, proxy_title, proxy_lines)
    canvas.box(livekit, f"LiveKit SFU ({LIVEKIT_SERVICE})", livekit_lines)
    canvas.box(auth, _("Auth service ({service})").format(service=JWT_SERVICE),
               [f"{auth_route.upstream_host}:{auth_route.upstream_port}",
                _("container (bridge network)")])
    canvas.box(home, _("Homeserver"),
               [stack.homeserver_url, _("(behind this proxy)") if here else _("(elsewhere)")],
               dashed=not here)

    # The caller finds the names, then reaches the router: one arrow per kind of traffic.
    canvas.arrow(caller.x + 40, caller.y, dns.x, dns.mid_y(0.5), "signalling", _("looks up"))
    rows = [("signalling", "443")] + ([("udp", _("media"))] if udp else []) \
        + ([("tcp", _("media"))] if tcp else [])
    for index, (kind, label) in enumerate(rows):
        y = caller.y + 14 + index * 20
        canvas.arrow(caller.right, y, router.x, y, kind, label)
    # Router to the NAS: 443 to the proxy, media straight to LiveKit, each arrow from the
    # router's row of its port to LiveKit's row of the same port.
    def row_of(lines: list[str], protocol: str, port: str = "") -> int:
        wanted = f"{protocol.upper()} {port}".strip()
        return next((i for i, line in enumerate(lines) if line.startswith(wanted)), 0)

    shown = [_("forwards, same port:"), *router_lines]
    canvas.arrow(router.right, router.row_y(row_of(shown, "tcp", "443")), proxy.x,
                 proxy.mid_y(0.35), "signalling")
    for kind, rules in (("udp", udp), ("tcp", tcp)):
        if rules:
            port = rules[0].label
            canvas.arrow(router.right, router.row_y(row_of(shown, kind, port)), livekit.x,
                         livekit.row_y(row_of(livekit_lines, kind, port)), kind)
    # The proxy to the containers (and to the homeserver when it is behind it).
    canvas.arrow(livekit.x + 40, proxy.bottom, livekit.x + 40, livekit.y, "signalling",
                 f"{sfu_route.upstream} + WebSocket")
    canvas.arrow(auth.x + 40, proxy.bottom, auth.x + 40, auth.y, "signalling")
    if here:  # around the left of the containers
        canvas.path([(proxy.x, proxy.mid_y(0.85)), (proxy.x - 14, proxy.mid_y(0.85)),
                     (proxy.x - 14, home.mid_y()), (home.x, home.mid_y())], "signalling")

    legend_y = max(nas.bottom, router.bottom) + 22
    for index, (kind, (_dash, meaning)) in enumerate(STYLES.items()):
        y = legend_y + index * 16
        dash = STYLES[kind][0]
        pattern = f' stroke-dasharray="{dash}"' if dash else ""
        canvas.parts.append(f'<line x1="10" y1="{y - 4}" x2="54" y2="{y - 4}" stroke="#000" '
                            f'stroke-width="1.6"{pattern}/>')
        canvas.text(62, y, _(meaning), ' font-size="10"')
    height = legend_y + 16 * len(STYLES)
    body = "\n".join(canvas.parts)
    title = _("Call setup for {domain}").format(domain=stack.domain)  # outside the f-string:
    # Babel reads calls inside f-strings only on Python 3.12+
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" role="img" {FONT} font-size="11">\n'
            f"<title>{escape(title)}</title>\n"
            '<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#000"/>'
            "</marker></defs>\n"
            f"{body}\n</svg>\n")
