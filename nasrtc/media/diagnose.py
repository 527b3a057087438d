"""What the test call saw, as doctor's rows, each with the fix; when nothing arrived, the
most likely cause, from the first thing that went wrong: the token, the signalling, the
addresses LiveKit offers, the router, or media after a connected ICE pair.

The words the clients show for each failure are named in the details ("Waiting for
media", MISSING_MATRIX_RTC_FOCUS, ...): README, "What the call apps say"."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from nasrtc.doctor.registry import Outcome, failed, passed, skipped, warned
from nasrtc.i18n import N_, _
from nasrtc.media.credentials import BY_AUTH_SERVICE
from nasrtc.media.signal import Candidate
from nasrtc.stack import DOCKER_BRIDGE_POOL

if TYPE_CHECKING:
    from nasrtc.media.probe import MediaReport
    from nasrtc.stack import Stack

ROW_TOKENS = N_("test call: tokens")
ROW_OFFER = N_("test call: SFU addresses")
ROW_UDP = N_("test call: UDP")
ROW_TCP = N_("test call: TCP fallback")
ROW_TURN = N_("test call: TURN")
ROW_AUDIO = N_("test call: audio")
ROWS = (ROW_TOKENS, ROW_OFFER, ROW_UDP, ROW_TCP, ROW_TURN, ROW_AUDIO)

MIN_FRAMES = 100  # a second of 10 ms frames: the tone really flowed
LOSS_WARN, RTT_WARN = 0.05, 0.3  # 5 % loss, 300 ms round trip: calls suffer
LOSSY_FIX = N_("calls will stutter from this network: try another network, or check the "
               "NAS's upload speed")


def diagnose(report: MediaReport, stack: Stack) -> dict[str, Outcome]:
    rows: dict[str, Outcome] = {ROW_TOKENS: _tokens(report, stack)}
    if report.refused is not None or report.credentials is None:
        why = _("not tried: no way into the call (see 'test call: tokens')")
        for name in ROWS[1:]:
            rows[name] = skipped(why)
        return rows
    rows[ROW_OFFER] = _offer(report, stack)
    rows[ROW_UDP], rows[ROW_TCP] = _udp(report, stack), _tcp(report, stack)
    rows[ROW_TURN] = _turn(report, stack)
    rows[ROW_AUDIO] = _audio(report, stack, rows)
    return rows


# ---------------------------------------------------------------- what was seen


def selected(call: dict[str, Any]) -> dict[str, Any]:
    """The pair that carried the call: the subscriber's (it receives the tone), else the
    publisher's; {} when ICE found none."""
    for side in ("subscriber", "publisher"):
        pair = ((call.get(side) or {}).get("selected")) if isinstance(call.get(side), dict) \
            else None
        if isinstance(pair, dict) and isinstance(pair.get("remote"), dict):
            return pair
    return {}


def heard(call: dict[str, Any]) -> bool:
    return int(call.get("frames_received") or 0) >= MIN_FRAMES \
        and float(call.get("tone_strength") or 0) > 0.5


def _where(pair: dict[str, Any]) -> str:
    remote = pair.get("remote") or {}
    return f"{str(remote.get('protocol') or '?').upper()} {remote.get('address')}:" \
           f"{remote.get('port')}"


def _relayed(pair: dict[str, Any]) -> bool:
    local = pair.get("local") or {}
    return bool(local.get("relay_protocol")) or str(local.get("candidate_type", "")).lower() \
        == "relay"


def offered(report: MediaReport) -> list[Candidate]:
    """What LiveKit offered: from the WebSocket, else from libwebrtc's statistics."""
    if report.offer and report.offer.candidates:
        return list(report.offer.candidates)
    found: list[Candidate] = []
    for side in ("subscriber", "publisher"):
        for c in ((report.call.get(side) or {}).get("offered") or []):
            try:
                candidate = Candidate(str(c["protocol"]).lower(), str(c["address"]),
                                      int(c["port"]), str(c.get("candidate_type") or ""))
            except (KeyError, TypeError, ValueError):
                continue
            if candidate not in found:
                found.append(candidate)
    return found


def _addresses(candidates: list[Candidate]) -> str:
    return ", ".join(str(c) for c in candidates[:8]) + (" ..." if len(candidates) > 8 else "")


MEDIA_KEYS = ("ports.rtc_udp", "ports.rtc_udp_range", "ports.rtc_tcp")


def _forward_fix(stack: Stack, protocol: str | None = None) -> str:
    """Forward LiveKit's media ports (of `protocol`, or both)."""
    from nasrtc.answers.rules import port_summary

    media = [r for r in stack.ports if r.key in MEDIA_KEYS]
    return _("forward {ports} to the NAS, same ports (checklist.md, section Router)").format(
        ports=port_summary(media, protocol))


def _udp_fix(stack: Stack) -> str:
    return _forward_fix(stack, "udp") + "; " + _(
        "or the network you test from blocks UDP (some company and hotel networks do): "
        "test again from mobile data")


# ---------------------------------------------------------------- the rows


def _tokens(report: MediaReport, stack: Stack) -> Outcome:
    refused, creds = report.refused, report.credentials
    if refused is not None:
        if refused.status:
            from nasrtc.doctor.homeserver import token_refused

            outcome = token_refused(stack, refused.status, refused.answer)
            return failed(outcome.detail + _(" (Element Call cannot join either: it shows "
                                             "\"Something went wrong\", Error Code: "
                                             "OPEN_ID_ERROR)"),
                          outcome.fix)
        return failed(refused.message, refused.fix)
    assert creds is not None
    if creds.how == BY_AUTH_SERVICE:
        return passed(_("from {service}/get_token for {user}, as Element Call gets them")
                      .format(service=creds.service, user=creds.user))
    return passed(_("signed with the stack's key (no access token given, so the auth service "
                    "was not part of this call: --access-token tests it as Element Call uses "
                    "it)"))


def _offer(report: MediaReport, stack: Stack) -> Outcome:
    offer = report.offer
    if offer is not None and offer.status != 101:
        return _signalling_refused(report, stack)
    if offer is not None and not offer.joined:
        if offer.reason == "silent":
            return failed(_("wss://{sfu_host}/rtc accepted the WebSocket but sent nothing in "
                            "{seconds:.0f} s: something else than LiveKit answers, or LiveKit "
                            "hangs (Element Call: \"Connection timeout\")").format(
                sfu_host=stack.sfu_host, seconds=offer.waited),
                _("the {sfu_host} proxy row must lead to LiveKit at {upstream}; see LiveKit's "
                  "log (`docker logs <project>-livekit-1`)").format(
                    sfu_host=stack.sfu_host, upstream=stack.sfu_route.upstream))
        return failed(_("LiveKit's WebSocket closed before the join ({reason})").format(
            reason=offer.reason or _("no reason")),
            _("see LiveKit's log (`docker logs <project>-livekit-1`)"))
    candidates = offered(report)
    if not candidates:
        return warned(_("LiveKit sent no ICE candidates within {seconds:.0f} s of the join")
                      .format(seconds=offer.waited if offer else 0),
                      _("see LiveKit's log (`docker logs <project>-livekit-1`) for rtc errors"))
    public = [c for c in candidates if c.reachable_from_outside]
    expected = set(report.sfu_addresses)
    if not public:
        bridges = [c for c in candidates if _in_docker_pool(c.address)]
        if bridges:
            return failed(_("LiveKit offers only private addresses ({addresses}), Docker's "
                            "bridge among them (livekit #4437): callers outside cannot reach "
                            "any").format(addresses=_addresses(candidates)),
                          _("set network.lan_ip to the NAS's LAN address and network.public_ip "
                            "to stun (or your public address), then `{nasrtc} render` and "
                            "`{nasrtc} up`"))
        return failed(_("LiveKit offers only private addresses ({addresses}): callers outside "
                        "cannot reach them").format(addresses=_addresses(candidates)),
                      _("set network.public_ip to your public address, or to stun with a STUN "
                        "server LiveKit can reach, then `{nasrtc} render` and `{nasrtc} up`"))
    if expected and not {c.address for c in public} & expected:
        announced = sorted({c.address for c in public})
        if heard(report.call):  # e.g. the names lead to a proxy elsewhere: media still flows
            return passed(_("LiveKit offers {announced}, not where {sfu_host} leads "
                            "({expected}); the call worked, so media takes its own way")
                          .format(announced=", ".join(announced), sfu_host=stack.sfu_host,
                                  expected=", ".join(sorted(expected))))
        return failed(_("LiveKit offers {announced}, but {sfu_host} leads to {expected}: "
                        "network.public_ip (or what STUN found) is wrong").format(
            announced=", ".join(announced), sfu_host=stack.sfu_host,
            expected=", ".join(sorted(expected))),
            _("set network.public_ip to {address} (or to stun), then `{nasrtc} render` and "
              "`{nasrtc} up`").format(address=sorted(expected)[0]))
    private = [c for c in candidates if not c.reachable_from_outside]
    detail = _addresses(public)
    if private:
        detail += _("; also private ones, which callers outside skip: {addresses}").format(
            addresses=_addresses(private))
    return passed(detail)


def _in_docker_pool(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(DOCKER_BRIDGE_POOL)
    except ValueError:
        return False


def _signalling_refused(report: MediaReport, stack: Stack) -> Outcome:
    assert report.offer is not None
    status, reason = report.offer.status, report.offer.reason[:120]
    creds = report.credentials
    if status == 0:
        return failed(_("could not open wss://{sfu_host}/rtc: {reason}").format(
            sfu_host=stack.sfu_host, reason=reason or _("no answer")),
            _("see the rows 'SFU (public)' and 'SFU WebSocket'"))
    if status == 404 and creds is not None and creds.how == BY_AUTH_SERVICE:
        server = creds.user.split(":", 1)[-1]
        full = stack.full_access_homeservers
        return failed(_("the auth service gave a token, but the room does not exist on "
                        "LiveKit: only users of full_access_homeservers ({full}) get rooms "
                        "made, and {server} is not one (Element Call: \"Failed to create "
                        "call\")").format(
            full=", ".join(full) or _("none"), server=server),
            _("add {server} to full_access_homeservers in nasrtc.yaml, then `{nasrtc} render` "
              "and `{nasrtc} up`").format(server=server))
    if status == 401:
        return failed(_("LiveKit refused the token (401: {reason})").format(reason=reason),
                      _("livekit.yaml's keys differ from the auth service's: run `{nasrtc} "
                        "render` and `{nasrtc} up`"))
    if status in (400, 426):
        return failed(_("the WebSocket upgrade was refused ({status}): the proxy does not pass "
                        "the Upgrade/Connection headers").format(status=status),
                      _("enable WebSocket on the {sfu_host} row (see the row 'SFU WebSocket')")
                      .format(sfu_host=stack.sfu_host))
    return failed(_("wss://{sfu_host}/rtc answered {status} ({reason})").format(
        sfu_host=stack.sfu_host, status=status, reason=reason or _("no reason")),
        _("see LiveKit's log (`docker logs <project>-livekit-1`)"))


def _udp(report: MediaReport, stack: Stack) -> Outcome:
    pair = selected(report.call)
    if not pair:
        return failed(_("no UDP path: ICE found no working pair"),
                      _("see 'test call: audio' for the likely cause"))
    protocol = str((pair.get("remote") or {}).get("protocol") or "").lower()
    if _relayed(pair):
        return warned(_("the call reached LiveKit only through the TURN relay ({where})")
                      .format(where=_where(pair)), _udp_fix(stack))
    if protocol == "udp":
        return passed(_("the media went over {where}").format(where=_where(pair)))
    return warned(_("UDP ({ports}) did not connect; the call fell back to {where}, where a "
                    "lossy line stalls sound and picture").format(
        ports=stack.forwarded_summary("udp"), where=_where(pair)), _udp_fix(stack))


def _tcp(report: MediaReport, stack: Stack) -> Outcome:
    pair = selected(report.call)
    port = stack.livekit.rtc_tcp
    if pair and str((pair.get("remote") or {}).get("protocol")).lower() == "tcp" \
            and not _relayed(pair):
        return passed(_("the fallback carried the call ({where})").format(where=_where(pair)))
    tcp_pairs = [p for side in ("subscriber", "publisher")
                 for p in ((report.call.get(side) or {}).get("pairs") or [])
                 if isinstance(p, dict)
                 and str((p.get("remote") or {}).get("protocol")).lower() == "tcp"]
    if any(p.get("state") == "succeeded" for p in tcp_pairs):
        return passed(_("ICE over TCP {port} answered too").format(port=port))
    if report.tcp_answers and pair:
        return passed(_("TCP {port} accepts connections; this call did not need it")
                      .format(port=port))
    if report.tcp_answers:  # the port answers, yet the call found no path over it either
        return warned(_("TCP {port} accepts connections, but ICE over it did not connect "
                        "in this call").format(port=port),
                      _("see 'test call: audio' for the likely cause"))
    return warned(_("TCP {port} does not answer: callers on networks that block UDP cannot "
                    "join").format(port=port), _forward_fix(stack, "tcp"))


def _turn(report: MediaReport, stack: Stack) -> Outcome:
    if report.relay is None:
        return skipped(_("not enabled (turn.enabled: false)"))
    relay = report.relay
    offered_turn = report.offer.ice_servers if report.offer else []
    if heard(relay):
        return passed(_("a relay-only call carried the tone ({where})").format(
            where=_where(selected(relay))))
    turn_ports = ", ".join(f"{r.protocol.upper()} {r.label}" for r in stack.ports
                           if r.forward and r.key.startswith("turn."))
    if report.offer and report.offer.joined and not offered_turn:
        return failed(_("LiveKit offered callers no TURN server"),
                      _("turn.domain must name this NAS and its certificate must exist; see "
                        "LiveKit's log"))
    return failed(_("a relay-only call did not connect ({error}): TURN at {servers} does not "
                    "answer from outside").format(
        error=str(relay.get("error") or relay.get("stage"))[:80],
        servers=", ".join(offered_turn[:3]) or stack.livekit.turn_domain),
        _("forward {ports} to the NAS, same ports (checklist.md, section Router)").format(
            ports=turn_ports or _("the TURN ports"))
        if turn_ports else _("see LiveKit's log (`docker logs <project>-livekit-1`)"))


def _audio(report: MediaReport, stack: Stack, rows: dict[str, Outcome]) -> Outcome:
    call = report.call
    if heard(call):
        return _quality(call)
    pair = selected(call)
    received, loss = _loss(call)
    if pair and received and loss > LOSS_WARN:  # it came, in pieces: the line, not DTLS
        return failed(_("the tone arrived broken up over {where}: {loss:.1%} of the packets "
                        "were lost").format(where=_where(pair), loss=loss), _(LOSSY_FIX))
    if pair:
        return failed(_("ICE connected ({where}) but no sound arrived (Element Call shows "
                        "\"Waiting for media...\")").format(where=_where(pair)),
                      _("something between passes ICE's checks but not the media (DTLS/SRTP): "
                        "a firewall or 'SIP ALG' on the router, or a too-small MTU; try "
                        "turning them off, and see LiveKit's log"))
    first_problem = next((rows[name] for name in (ROW_OFFER,)
                          if rows[name].status == "fail"), None)
    if first_problem is not None:
        return failed(_("no sound: the call could not connect (Element Call shows \"Waiting "
                        "for media...\" or \"Connection timeout\"); likely cause: the SFU "
                        "addresses row"), first_problem.fix)
    stage = str(call.get("stage") or "")
    if stage in ("hung", "crashed"):
        return failed(str(call.get("error"))[:200],
                      _("the WebRTC library failed on this machine; run again, or from "
                        "another machine"))
    return failed(_("no sound: no media path to LiveKit (UDP {udp}, TCP {tcp}) worked from "
                    "here (Element Call: \"Waiting for media...\"); LiveKit offers the right "
                    "address, so the router does not forward the ports to the NAS").format(
        udp=stack.forwarded_summary("udp"), tcp=stack.livekit.rtc_tcp), _forward_fix(stack))


def _loss(call: dict[str, Any]) -> tuple[int, float]:
    """Packets the listener received, and the share lost on the way."""
    inbound = ((call.get("subscriber") or {}).get("inbound")) or {}
    received = int(inbound.get("packets_received") or 0)
    lost = max(0, int(inbound.get("packets_lost") or 0))
    return received, lost / (received + lost) if received + lost else 0.0


def _quality(call: dict[str, Any]) -> Outcome:
    pair = selected(call)
    inbound = ((call.get("subscriber") or {}).get("inbound")) or {}
    _received, loss = _loss(call)
    rtt = pair.get("rtt")
    connect = call.get("connect_seconds") or []
    detail = _("{frames} frames of the tone, the first {first} s after it was sent; joined in "
               "{join} s; round trip {rtt}; loss {loss:.1%}; jitter {jitter:.0f} ms").format(
        frames=call.get("frames_received"), first=call.get("first_audio_seconds"),
        join=max(connect) if connect else "?",
        rtt=f"{float(rtt) * 1000:.0f} ms" if isinstance(rtt, (int, float)) else "?",
        loss=loss, jitter=float(inbound.get("jitter") or 0) * 1000)
    if loss > LOSS_WARN or (isinstance(rtt, (int, float)) and rtt > RTT_WARN):
        return warned(detail, _(LOSSY_FIX))
    return passed(detail)
