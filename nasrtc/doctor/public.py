"""Checks from the public side: DNS, certificates, the proxy rows, the SFU and the
router's forwarding, as a caller on the internet reaches them."""

from __future__ import annotations

import ssl
import time
from urllib.parse import quote

from nasrtc.doctor.clients import livekit_test_room
from nasrtc.doctor.context import Context
from nasrtc.doctor.registry import (
    PUBLIC,
    Outcome,
    check,
    failed,
    network_problem,
    passed,
    skipped,
    warned,
)
from nasrtc.i18n import N_, _, ngettext
from nasrtc.output.checklist import public_names

CERT_DAYS = 14


def _jwt(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.jwt_host,)


def _sfu(ctx: Context) -> tuple[str, ...]:
    return (ctx.stack.sfu_host,)


@check(N_('DNS'), PUBLIC)
def check_dns(ctx: Context) -> Outcome:
    stack = ctx.stack
    homeserver_host = stack.homeserver_host
    found = {host: ctx.net.resolve(host) for host in _hosts(ctx)}
    missing = [host for host, addresses in found.items() if not addresses]
    ctx.unresolved.update(missing)
    if missing:
        ours = [host for host in missing if host in public_names(stack)]
        detail = ngettext("does not resolve: {names} (the rows that need it are skipped)",
                          "do not resolve: {names} (the rows that need them are skipped)",
                          len(missing)).format(names=", ".join(missing))
        if ours:
            fix = _("create the records (checklist.md, section DNS); new records can take a "
                    "while to appear, or test before DNS works with --connect-to "
                    "NAME::NAS-ADDRESS: (README, Checking with doctor)")
        else:
            fix = _("your Matrix names must resolve; check the records at your DNS provider, "
                    "or test before DNS works with --connect-to NAME::NAS-ADDRESS: (README, "
                    "Checking with doctor)")
        return failed(detail, fix)
    reference = set(found[homeserver_host])
    differ = [host for host in public_names(stack)
              if reference and not set(found[host]) & reference]
    detail = ", ".join(f"{h} -> {' '.join(a)}" for h, a in found.items() if a)
    if differ:
        return warned(ngettext("{names} points elsewhere than {homeserver_host} ({detail})",
                               "{names} point elsewhere than {homeserver_host} ({detail})",
                               len(differ)).format(names=", ".join(differ),
                                                   homeserver_host=homeserver_host,
                                                   detail=detail),
                     _("point them where the homeserver's name points, unless the SFU really "
                       "runs on another machine"))
    return passed(detail)


@check(N_('IPv6 (AAAA)'), PUBLIC)
def check_aaaa(ctx: Context) -> Outcome:
    from nasrtc.reach.local import global_ipv6

    stack = ctx.stack
    names = [stack.jwt_host, stack.sfu_host]
    asked = {name: ctx.net.resolve6(name) for name in names}
    found = {name: addresses for name, addresses in asked.items() if addresses is not None}
    if len(found) < len(names):
        return skipped(_("not checked: --connect-to decides where the names lead"))
    listed = ", ".join(f"{n} -> {' '.join(a)}" for n, a in found.items() if a)
    if not stack.livekit.ipv6:
        if listed:
            return warned(_("AAAA records exist ({listed}) but network.ipv6 is false: "
                            "LiveKit offers callers no IPv6 address").format(listed=listed),
                          _("set network.ipv6: true (then `{nasrtc} render` and `{nasrtc} up`) "
                            "and open the ports in the router's IPv6 firewall, or remove the "
                            "AAAA records"))
        return skipped(_("not used (network.ipv6: false)"))
    mine = set(global_ipv6())
    if not mine:
        return failed(_("network.ipv6 is true, but this NAS has no global IPv6 address"),
                      _("switch IPv6 on in the router (and on the NAS), or set network.ipv6: "
                        "false"))
    missing = [name for name, addresses in found.items() if not addresses]
    if missing:
        return failed(ngettext("no AAAA record for {names}: IPv6 callers cannot find the NAS",
                               "no AAAA records for {names}: IPv6 callers cannot find the NAS",
                               len(missing)).format(names=", ".join(missing)),
                      _("add AAAA records to {address} (checklist.md, section DNS)")
                      .format(address=sorted(mine)[0]))
    elsewhere = [name for name, addresses in found.items() if not set(addresses) & mine]
    if elsewhere:
        return warned(_("{names}: AAAA not one of this NAS's addresses ({mine}); did the "
                        "provider change the prefix?").format(names=", ".join(elsewhere),
                                                             mine=", ".join(sorted(mine))),
                      _("update the AAAA records to {address}").format(
                          address=sorted(mine)[0]))
    return passed(listed)


def _hosts(ctx: Context) -> list[str]:
    """Every name clients reach over TLS, each once, in the order a call uses them."""
    stack = ctx.stack
    return list(dict.fromkeys((stack.domain, stack.homeserver_host, *public_names(stack))))


def _certificate_problem(host: str, exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    message = str(exc.verify_message or exc)
    if "expired" in message:
        return (_("{host}: the certificate has expired").format(host=host),
                _("renew the certificate for {host} (certbot renew; DSM: Control Panel › "
                  "Security › Certificate › Renew) and check that renewal runs by itself")
                .format(host=host))
    if "mismatch" in message.lower() or "not valid for" in message:
        return (_("{host}: the certificate is for another name").format(host=host),
                _("get a certificate that names {host} and assign it to {host}'s proxy row "
                  "(DSM: Certificate › Settings)").format(host=host))
    return (f"{host}: {message}",
            _("serve the full chain (fullchain.pem), or pass --ca-file for a private CA"))


@check(N_('certificates'), PUBLIC)
def check_certificates(ctx: Context) -> Outcome:
    problems, fixes, soon, notes = [], [], [], []
    for host in _hosts(ctx):
        if host in ctx.unresolved:
            continue  # the DNS row names it
        try:
            cert = ctx.net.certificate(host)
        except ssl.SSLCertVerificationError as exc:
            problem, fix = _certificate_problem(host, exc)
            problems.append(problem)
            fixes.append(fix)
            continue
        except OSError as exc:
            detail, fix = network_problem(exc)
            problems.append(_("{host}: not checked ({detail})").format(host=host, detail=detail))
            fixes.append(fix)
            continue
        expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
        days = int((expires - time.time()) // 86400)
        if days < CERT_DAYS:
            soon.append(ngettext("{host} expires in {days} day", "{host} expires in {days} days",
                                 days).format(host=host, days=days))
        else:
            notes.append(ngettext("{host} {days} day", "{host} {days} days", days).format(
                host=host, days=days))
    if problems:
        return failed("; ".join(problems + soon),
                     "; ".join(dict.fromkeys(fixes)))
    if soon:
        return warned("; ".join(soon),
                     _("renewal seems not to run (Let's Encrypt renews {days} days ahead): "
                       "check certbot's timer or DSM's automatic renewal")
                     .format(days=CERT_DAYS * 2))
    if not notes:
        return skipped(_("not checked: no name resolves (see the DNS row)"))
    return passed(_("valid: {names}").format(names=", ".join(notes)))


@check(N_('auth service (public)'), PUBLIC, needs=_jwt)
def check_jwt_public(ctx: Context) -> Outcome:
    url = f"{ctx.stack.jwt_url}/healthz"
    answer = ctx.net.request("GET", url)
    if answer.status == 200:
        return passed(_("{url} answers 200").format(url=url))
    return failed(_("{url} answered {status}").format(url=url, status=answer.status),
                 _("the proxy row for {jwt_host} must go to {upstream} (reverse-proxy.md); is "
                   "the container up?")
                 .format(jwt_host=ctx.stack.jwt_host, upstream=ctx.stack.jwt_route.upstream))


@check(N_('auth service CORS'), PUBLIC, needs=_jwt)
def check_cors(ctx: Context) -> Outcome:
    """GET answers 405 from the service itself; the preflight (OPTIONS) answers 200, which
    also shows a proxy's `add_header` that applies to successful answers only."""
    url = f"{ctx.stack.jwt_url}/get_token"
    origin = {"Origin": "https://app.element.io"}
    answer = ctx.net.request("GET", url, headers=origin)
    if answer.status != 405:
        return failed(_("GET {url} answered {status}, not 405")
                      .format(url=url, status=answer.status),
                     _("the proxy row must pass every path to the auth service unchanged"))
    preflight = ctx.net.request("OPTIONS", url, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    for label, reply in (("GET", answer), ("OPTIONS", preflight)):
        origins = reply.header_values("Access-Control-Allow-Origin")
        if len(origins) > 1:
            return failed(_("Access-Control-Allow-Origin sent {count} times "
                            "({label}); browsers then refuse the answer")
                          .format(count=len(origins), label=label),
                         _("remove the CORS header your reverse proxy adds for {jwt_host}: "
                           "the auth service sends its own").format(jwt_host=ctx.stack.jwt_host))
        if origins != ["*"]:
            return failed(_("{label} {url}: Access-Control-Allow-Origin is {origins}")
                          .format(label=label, url=url, origins=origins or _('missing')),
                         _("the auth service sends '*' itself; is something else answering "
                           "for {jwt_host}, or does the proxy strip headers?")
                         .format(jwt_host=ctx.stack.jwt_host))
    return passed(_("GET 405 and preflight, each with one Access-Control-Allow-Origin: *"))


@check(N_('SFU (public)'), PUBLIC, needs=_sfu)
def check_sfu_public(ctx: Context) -> Outcome:
    url = f"https://{ctx.stack.sfu_host}/"
    answer = ctx.net.request("GET", url)
    if answer.status == 200 and answer.text().strip() == "OK":
        return passed(_("{url} answers OK").format(url=url))
    return failed(_("{url} answered {status}").format(url=url, status=answer.status),
                 _("the proxy row for {sfu_host} must go to {upstream} (reverse-proxy.md)")
                 .format(sfu_host=ctx.stack.sfu_host, upstream=ctx.stack.sfu_route.upstream))


@check(N_('SFU WebSocket'), PUBLIC, needs=_sfu)
def check_websocket(ctx: Context) -> Outcome:
    from nasrtc.tokens import mint

    stack, base = ctx.stack, f"https://{ctx.stack.sfu_host}"
    with livekit_test_room(ctx.net, stack, base) as (room, created):
        if created.status != 200:
            return failed(_("creating a test room answered {status}")
                          .format(status=created.status),
                          _("the SFU row must pass every path (and POST) to LiveKit; check the "
                            "API key in livekit.yaml matches secrets/"))
        token = mint(stack.api_key, stack.api_secret, "nasrtc-doctor", room, ttl=120)
        answer = ctx.net.websocket(f"{base}/rtc?access_token={quote(token)}")
    if answer.status == 101:
        return passed(_("wss://.../rtc upgraded (101)"))
    if answer.status in (400, 426):
        return failed(_("the upgrade to WebSocket was refused ({status}): the proxy does not "
                        "pass the Upgrade/Connection headers").format(status=answer.status),
                     _("enable WebSocket on the {sfu_host} row ({steps})")
                     .format(sfu_host=stack.sfu_host,
                             steps="; ".join(stack.profile.reverse_proxy["websocket_steps"])))
    if answer.status in (502, 503, 504):
        return failed(_("the proxy answered {status}").format(status=answer.status),
                     _("LiveKit is not reachable from the proxy at {upstream}")
                     .format(upstream=stack.sfu_route.upstream))
    if answer.status == 401:
        return failed(_("LiveKit refused the test token (401)"),
                     _("livekit.yaml's keys differ from secrets/: run `{nasrtc} render` and "
                       "`{nasrtc} up`"))
    return warned(_("unexpected answer {status} to the upgrade").format(status=answer.status),
                 _("see LiveKit's log (`docker logs <project>-livekit-1`)"))


@check(N_('router: RTC TCP'), PUBLIC, needs=_sfu)
def check_rtc_tcp(ctx: Context) -> Outcome:
    port = ctx.stack.livekit.rtc_tcp
    if ctx.net.tcp_open(ctx.stack.sfu_host, port):
        return passed(_("{sfu_host}:{port} accepts connections")
                      .format(sfu_host=ctx.stack.sfu_host, port=port))
    cannot = _("cannot connect to {sfu_host}:{port}").format(sfu_host=ctx.stack.sfu_host,
                                                             port=port)
    line = ctx.line()
    if line.forwarding_works is False:  # a forward cannot help there: say what does
        from nasrtc.reach.advice import advise

        advice = advise(line, ctx.stack.forwarded_summary())
        return failed(cannot + "; " + advice.headline, "; ".join(advice.steps))
    return failed(cannot,
                 _("forward TCP {port} to the NAS, same port (checklist.md, section Router); "
                   "from inside your network this also needs NAT loopback on the router")
                 .format(port=port))


@check(N_('router: UDP'), PUBLIC)
def check_udp(ctx: Context) -> Outcome:
    media = ctx.stack.forwarded_summary("udp")
    return skipped(_("UDP ({media}) cannot be proven from inside your network")
                   .format(media=media),
                   _("prove it from outside your network (mobile data): `{nasrtc} doctor "
                     "--public --media` places a real test call"))
