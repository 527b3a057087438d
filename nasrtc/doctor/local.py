"""Checks on this machine: files, secrets, livekit.yaml, containers, local ports."""

from __future__ import annotations

import stat

from nasrtc.doctor.context import Context
from nasrtc.doctor.net import Response
from nasrtc.doctor.registry import LOCAL, Outcome, check, failed, passed, skipped, warned
from nasrtc.errors import NasrtcError
from nasrtc.i18n import N_, _, ngettext


@check(N_('files'), LOCAL)
def check_files(ctx: Context) -> Outcome:
    from nasrtc.output.plan import Plan
    from nasrtc.output.render import render_all

    status = Plan(ctx.stack_dir, ctx.answers, ctx.stack, render_all(ctx.stack), {}).status()
    edited = [rel for rel, s in status.items() if s == "edited"]
    stale = [rel for rel, s in status.items() if s in ("changes", "new")]
    if edited:
        return failed(_("edited by hand since nasrtc wrote them: {files}")
                      .format(files=', '.join(edited)),
                     _("put the change into nasrtc.yaml and run `{nasrtc} render --force` "
                       "(your copies are kept as .bak)"))
    if stale:
        return warned(_("older than nasrtc.yaml: {files}").format(files=', '.join(stale)),
                     _("run `{nasrtc} render` (then `{nasrtc} up` to apply)"))
    return passed(_("every generated file matches nasrtc.yaml"))


@check(N_('secrets'), LOCAL)
def check_secrets(ctx: Context) -> Outcome:
    folder = ctx.stack_dir / "secrets"
    problems = []
    if not folder.is_dir():
        return failed(_("secrets/ is missing"), _("run `{nasrtc} init` (keeps answers)"))
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        problems.append(_("secrets/ is readable by others"))
    for name in ("livekit_api_key", "livekit_api_secret"):
        path = folder / name
        if not path.is_file():
            problems.append(_("{name} is missing").format(name=name))
        elif stat.S_IMODE(path.stat().st_mode) & 0o077:
            problems.append(_("{name} is readable by others").format(name=name))
    livekit = ctx.stack_dir / "livekit" / "livekit.yaml"
    if livekit.is_file() and stat.S_IMODE(livekit.stat().st_mode) & 0o077:
        problems.append(_("livekit/livekit.yaml (holds the secret) is readable by others"))
    if problems:
        return failed("; ".join(problems),
                     _("run `{nasrtc} render` (it restores 0700/0600), or "
                       "`chmod 700 secrets && chmod 600 secrets/* livekit/livekit.yaml`"))
    return passed(_("present; folder 0700, files 0600"))


@check(N_('livekit.yaml'), LOCAL)
def check_livekit_keys(ctx: Context) -> Outcome:
    import yaml

    from nasrtc.answers.yaml_input import MAX_BYTES, RefusedYaml, load
    from nasrtc.output.livekit_keys import unknown_keys

    path = ctx.stack_dir / "livekit" / "livekit.yaml"
    fix = _("run `{nasrtc} render --force` to rebuild it from nasrtc.yaml")
    if path.is_dir() and not path.is_symlink():
        return failed(_("a folder, not the file LiveKit reads (Docker makes one where a "
                        "mounted file is missing as the container starts)"),
                      _("`{nasrtc} up` removes the empty folder and writes the file again"))
    if not path.is_file():
        return failed(_("missing"), _("run `{nasrtc} up`: it writes the file again from "
                                      "nasrtc.yaml"))
    if path.stat().st_size > MAX_BYTES:
        return failed(_("{size} bytes: far larger than nasrtc writes it")
                      .format(size=path.stat().st_size), fix)
    try:  # a hand-edited file: read with the same bounds as the answers
        config = load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, RefusedYaml) as exc:
        return failed(_("not valid YAML: {reason}").format(reason=str(exc).splitlines()[0]), fix)
    unknown = unknown_keys(config)
    if unknown:
        return failed(_("keys LiveKit does not know (it will not start): {keys}")
                      .format(keys=', '.join(unknown)),
                     _("remove them, or run `{nasrtc} render --force` to rebuild the file from "
                       "nasrtc.yaml (your copy is kept as .bak)"))
    return passed(_("only keys LiveKit knows"))


@check(N_('mounted files'), LOCAL)
def check_mounted_files(ctx: Context) -> Outcome:
    from nasrtc.engine.spec import unusable_mounts

    unusable = unusable_mounts(ctx.stack, ctx.stack_dir)
    if unusable:
        return failed("; ".join(what for what, _fix in unusable),
                      "; ".join(dict.fromkeys(fix for _what, fix in unusable)))
    mounts = [mount for service in ctx.stack.services for mount in service.volumes]
    files = sum(not mount.folder for mount in mounts)
    folders = len(mounts) - files
    found = ngettext("the {count} file the containers read is there",
                     "all {count} files the containers read are there", files).format(count=files)
    if folders:  # the data folders are made by `up` when missing
        found += ngettext(", and the data folder", ", and the data folders", folders)
    return passed(found)


@check(N_('containers'), LOCAL)
def check_containers(ctx: Context) -> Outcome:
    rows = ctx.containers()
    bad = [f"{r.service}: {r.state}{'/' + r.health if r.health else ''}" for r in rows
           if r.state != "running" or r.health not in ("", "healthy")]
    if bad:
        return failed("; ".join(bad),
                      _("run `{up_command}` (it shows the log of a container that crashes)")
                      .format(up_command=ctx.up_command))
    return passed(_("livekit and jwt running and healthy"))


def _not_running(ctx: Context, service: str, url: str) -> NasrtcError | None:
    """When the container is not running, that is the cause and `up` the fix; not the
    reverse proxy or the router a refused connection would otherwise point at."""
    try:
        rows = ctx.containers()
    except NasrtcError:
        return None
    row = next((r for r in rows if r.service == service), None)
    if row is None or row.state == "running":
        return None
    return NasrtcError(_("connection refused: nothing listens at {url} (the {service} "
                         "container is {state})").format(url=url, service=service,
                                                         state=row.state),
                       _("start the stack: `{up_command}`").format(up_command=ctx.up_command))


def _local_get(ctx: Context, service: str, url: str) -> Response:
    """GET on this host; a refused connection of a stopped container names that cause
    (raised as the row's failure, like any other)."""
    try:
        return ctx.net.request("GET", url)
    except OSError:
        stopped = _not_running(ctx, service, url)
        if stopped is not None:
            raise stopped from None
        raise


@check(N_('LiveKit (local)'), LOCAL)
def check_livekit_http(ctx: Context) -> Outcome:
    route = ctx.stack.sfu_route
    answer = _local_get(ctx, "livekit", f"{route.upstream}/")
    if answer.status == 200 and answer.text().strip() == "OK":
        return passed(_("{upstream}/ answers OK").format(upstream=route.upstream))
    return failed(_("{upstream}/ answered {status}")
                  .format(upstream=route.upstream, status=answer.status),
                 _("see `{nasrtc} status` and `docker logs <project>-livekit-1`"))


@check(N_('call size (estimate)'), LOCAL)
def check_call_size(ctx: Context) -> Outcome:
    """What one call on this NAS may carry, by the CPU cost measured per forwarded track;
    said, not judged: the upload line usually ends a call's growth first."""
    from nasrtc.capacity import summary

    return passed(summary())


@check(N_('auth service (local)'), LOCAL)
def check_jwt_health(ctx: Context) -> Outcome:
    route = ctx.stack.jwt_route
    answer = _local_get(ctx, "jwt", f"{route.upstream}/healthz")
    if answer.status == 200:
        return passed(_("{upstream}/healthz answers 200").format(upstream=route.upstream))
    return failed(_("/healthz answered {status}").format(status=answer.status),
                 _("see `docker logs <project>-jwt-1`"))


@check(N_('ports'), LOCAL)
def check_ports(ctx: Context) -> Outcome:
    from nasrtc.answers.rules import PROXY
    from nasrtc.host.ports import busy

    try:
        rows = ctx.containers()
    except NasrtcError:
        rows = []
    if rows and all(r.state == "running" for r in rows):
        return passed(_("held by this stack's running containers"))
    ours = [rule for rule in ctx.stack.ports if rule.owner != PROXY]  # the proxy's are its own
    taken = [f"{b.rule.protocol.upper()} {b.port} ({b.owner})" for b in busy(ours)]
    if taken:
        return failed(_("held by something else: {ports}").format(ports=", ".join(taken)),
                     _("stop that program or choose other ports in nasrtc.yaml, then "
                       "`{nasrtc} render` and `{nasrtc} up`"))
    return passed(_("no clash with other programs"))


@check(N_('media addresses'), LOCAL)
def check_media_addresses(ctx: Context) -> Outcome:
    """livekit.yaml's rtc.ips against this host's LAN address: a filter that leaves LiveKit
    nothing to offer callers is a call with no media."""
    import ipaddress

    from nasrtc.host.network import lan_address

    livekit = ctx.stack.livekit
    if not (livekit.ips_includes or livekit.ips_excludes):
        return skipped(_("bridge networking: LiveKit offers its container's address, "
                         "mapped to the public one"))
    here = lan_address()
    if here is None:
        return skipped(_("this host's LAN address is unknown (no route to a private network)"))
    fix = _("set network.lan_ip: {here} in nasrtc.yaml, then `{nasrtc} render` and "
            "`{nasrtc} up`").format(here=here)
    if livekit.ips_includes:
        offered = livekit.ips_includes[0].split("/")[0]
        if offered != here:
            return warned(_("LiveKit offers callers only {offered} (network.lan_ip), but this "
                            "host's LAN address is {here}").format(offered=offered, here=here),
                          fix + " " + _("(and point the router's rows at it); ignore this "
                                        "if {offered} is on another of the NAS's interfaces")
                          .format(offered=offered))
        return passed(_("LiveKit offers callers {here}, this host's LAN address")
                      .format(here=here))
    pool = livekit.ips_excludes[0]
    if ipaddress.ip_address(here) in ipaddress.ip_network(pool):
        return failed(_("this host's LAN address {here} is in {pool}, which LiveKit is told "
                        "never to offer (Docker's bridges): calls would get no media")
                      .format(here=here, pool=pool), fix)
    return passed(_("LiveKit offers callers this host's addresses, none on Docker's bridges "
                    "({pool})").format(pool=pool))


# What the auth service fetches before it can hand out a token (lk-jwt-service
# helper.go): the client well-known of the caller's server name, then, for the
# OpenID check, the federation API found through the server well-known or :8448.
# `timeout` rather than wget -T: some busybox builds crash on -T.
REACH_SCRIPT = """
fetch() {{
  body=$(timeout {t} wget -q -O - "$2" 2>/tmp/nasrtc-err); rc=$?
  echo "@@$1 $rc $3"
  if [ $rc -eq 0 ]; then printf '%s\\n' "$body"; else cat /tmp/nasrtc-err; fi
}}
fetch client "https://{domain}/.well-known/matrix/client"
fetch server "https://{domain}/.well-known/matrix/server"
target=$(printf '%s' "$body" | sed -n 's/.*"m.server" *: *"\\([^"]*\\)".*/\\1/p')
[ $rc -eq 0 ] && [ -n "$target" ] || target="{domain}"
case "$target" in *:*) ;; *) target="$target:8448" ;; esac
fetch federation "https://$target/_matrix/federation/v1/version" "$target"
"""


def _sections(output: str) -> dict[str, tuple[int, str, str]]:
    """'@@name rc [extra]' blocks of the script's output -> name: (rc, extra, body)."""
    found: dict[str, tuple[int, str, str]] = {}
    name, rc, extra, body = "", 1, "", []  # type: ignore[var-annotated]
    for line in [*output.splitlines(), "@@end 0"]:
        if line.startswith("@@"):
            if name:
                found[name] = (rc, extra, "\n".join(body).strip())
            head = line[2:].split()
            name, rc, extra, body = head[0], int(head[1]), " ".join(head[2:]), []
        else:
            body.append(line)
    return found


@check(N_("auth service reaches homeserver"), LOCAL)
def check_auth_service_reach(ctx: Context) -> Outcome:
    import json

    from nasrtc.engine.probe import ImageMissing, run_in_stack_network
    from nasrtc.stack import JWT_SERVICE

    stack, domain = ctx.stack, ctx.stack.domain
    seconds = max(1, int(ctx.net.timeout))
    jwt = stack.service(JWT_SERVICE)
    try:
        run = run_in_stack_network(stack, stack.images["livekit"],
                                   REACH_SCRIPT.format(t=seconds, domain=domain),
                                   jwt.extra_hosts, timeout=4 * seconds + 20)
    except ImageMissing:  # never started here: the containers row says what to do
        return skipped(_("runs in a container of the stack's LiveKit image, which is not on "
                         "this host until the stack has been started"),
                       _("run `{up_command}`").format(up_command=ctx.up_command))
    parts = _sections(run.output)
    if "client" not in parts:
        return warned(_("could not run the check in a container of {image}: {output}")
                      .format(image=stack.images['livekit'], output=run.output.strip()[:200]),
                      _("the LiveKit image needs sh and wget"))
    mapped = {host for host, _address in jwt.extra_hosts}
    how = (_("through this host (extra_hosts)") if domain in mapped
           else _("through DNS and your router"))
    rc, _extra, body = parts["client"]
    url = f"https://{domain}/.well-known/matrix/client"
    if rc != 0:
        return failed(_("from inside the stack's network, {url} could not be fetched ({how}): "
                        "{reason}")
                      .format(url=url, how=how,
                              reason=body.splitlines()[-1] if body else _('no answer')),
                      _reach_fix(domain, domain in mapped, "network.domain_here"))
    try:
        base = json.loads(body)["m.homeserver"]["base_url"]
    except (ValueError, KeyError, TypeError):
        return failed(_("{url} answers, but not with m.homeserver.base_url (the auth service "
                        "answers 400 'Unable to resolve client-server API' then)").format(url=url),
                      _("serve matrix/well-known-client.json merged into that file"))
    frc, target, fbody = parts.get("federation", (1, "", ""))
    if frc != 0:
        host = target.rsplit(":", 1)[0] or domain
        why = fbody.splitlines()[-1] if fbody else _("no answer")
        return failed(_("the homeserver's federation API at https://{target} cannot be "
                        "reached from inside the stack's network: the auth service cannot "
                        "check callers' OpenID tokens ({why})").format(target=target, why=why),
                      _("serve /.well-known/matrix/server on {domain} ({server}) with a "
                        "federation listener behind it, or forward 8448; {then}")
                      .format(domain=domain,
                              server=f'{{"m.server": "{stack.homeserver_host}:443"}}',
                              then=_reach_fix(host, host in mapped, "network.homeserver_here")))
    return passed(_("from the auth service's network: {url} -> {base}; federation at "
                    "https://{target} answers").format(url=url, base=base, target=target))


def _reach_fix(host: str, mapped: bool, key: str) -> str:
    if mapped:
        return _("{host} is sent to this host: its reverse proxy must answer for {host} on "
                 "443 with a valid certificate; if {host} is served elsewhere, set {key}: false "
                 "in nasrtc.yaml, then `{nasrtc} render` and `{nasrtc} up`").format(
                     host=host, key=key)
    return _("{host} goes out through DNS and the router, which needs NAT loopback if it "
             "points back here; if this host serves {host}, set {key}: true in nasrtc.yaml "
             "(or add it to network.local_hosts), then `{nasrtc} render` and `{nasrtc} up`"
             ).format(host=host, key=key)
