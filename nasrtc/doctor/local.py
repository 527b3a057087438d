"""Checks on this machine: files, secrets, livekit.yaml, containers, local ports."""

from __future__ import annotations

import stat

from nasrtc.doctor.context import Context
from nasrtc.doctor.net import Response
from nasrtc.doctor.registry import LOCAL, Outcome, check, failed, passed, warned
from nasrtc.errors import NasrtcError


@check('files', LOCAL)
def check_files(ctx: Context) -> Outcome:
    from nasrtc.output.plan import Plan
    from nasrtc.output.render import render_all

    status = Plan(ctx.stack_dir, ctx.answers, ctx.stack, render_all(ctx.stack), {}).status()
    edited = [rel for rel, s in status.items() if s == "edited"]
    stale = [rel for rel, s in status.items() if s in ("changes", "new")]
    if edited:
        return failed(f"edited by hand since nasrtc wrote them: {', '.join(edited)}",
                     "put the change into nasrtc.yaml and run `nasrtc render --force` "
                     "(your copies are kept as .bak)")
    if stale:
        return warned(f"older than nasrtc.yaml: {', '.join(stale)}",
                     "run `nasrtc render` (then `nasrtc up` to apply)")
    return passed("every generated file matches nasrtc.yaml")


@check('secrets', LOCAL)
def check_secrets(ctx: Context) -> Outcome:
    folder = ctx.stack_dir / "secrets"
    problems = []
    if not folder.is_dir():
        return failed("secrets/ is missing", "run `nasrtc init` (keeps answers)")
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        problems.append("secrets/ is readable by others")
    for name in ("livekit_api_key", "livekit_api_secret"):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif stat.S_IMODE(path.stat().st_mode) & 0o077:
            problems.append(f"{name} is readable by others")
    livekit = ctx.stack_dir / "livekit" / "livekit.yaml"
    if livekit.is_file() and stat.S_IMODE(livekit.stat().st_mode) & 0o077:
        problems.append("livekit/livekit.yaml (holds the secret) is readable by others")
    if problems:
        return failed("; ".join(problems),
                     "run `nasrtc render` (it restores 0700/0600), or "
                     "`chmod 700 secrets && chmod 600 secrets/* livekit/livekit.yaml`")
    return passed("present; folder 0700, files 0600")


@check('livekit.yaml', LOCAL)
def check_livekit_keys(ctx: Context) -> Outcome:
    import yaml

    from nasrtc.answers.yaml_input import MAX_BYTES, RefusedYaml, load
    from nasrtc.output.livekit_keys import unknown_keys

    path = ctx.stack_dir / "livekit" / "livekit.yaml"
    fix = "run `nasrtc render --force` to rebuild it from nasrtc.yaml"
    if path.stat().st_size > MAX_BYTES:
        return failed(f"{path.stat().st_size} bytes: far larger than nasrtc writes it", fix)
    try:  # a hand-edited file: read with the same bounds as the answers
        config = load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, RefusedYaml) as exc:
        return failed(f"not valid YAML: {str(exc).splitlines()[0]}", fix)
    unknown = unknown_keys(config)
    if unknown:
        return failed(f"keys LiveKit does not know (it will not start): {', '.join(unknown)}",
                     "remove them, or run `nasrtc render --force` to rebuild the file from "
                     "nasrtc.yaml (your copy is kept as .bak)")
    return passed("only keys LiveKit knows")


@check('mounted files', LOCAL)
def check_mounted_files(ctx: Context) -> Outcome:
    from nasrtc.engine.spec import unusable_mounts

    unusable = unusable_mounts(ctx.stack, ctx.stack_dir)
    if unusable:
        return failed("; ".join(what for what, _ in unusable),
                      "; ".join(dict.fromkeys(fix for _, fix in unusable)))
    mounts = [mount for service in ctx.stack.services for mount in service.volumes]
    files = sum(not mount.folder for mount in mounts)
    folders = len(mounts) - files
    return passed(f"all {files} files the containers read are there"
                  + (f", and the data folder{'s' if folders > 1 else ''}" if folders else ""))


@check('containers', LOCAL)
def check_containers(ctx: Context) -> Outcome:
    rows = ctx.containers()
    bad = [f"{r.service}: {r.state}{'/' + r.health if r.health else ''}" for r in rows
           if r.state != "running" or r.health not in ("", "healthy")]
    if bad:
        return failed("; ".join(bad),
                      f"run `{ctx.up_command}` (it shows the log of a container that crashes)")
    return passed("livekit and jwt running and healthy")


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
    return NasrtcError(f"connection refused: nothing listens at {url} (the {service} "
                       f"container is {row.state})", f"start the stack: `{ctx.up_command}`")


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


@check('LiveKit (local)', LOCAL)
def check_livekit_http(ctx: Context) -> Outcome:
    route = ctx.stack.sfu_route
    answer = _local_get(ctx, "livekit", f"{route.upstream}/")
    if answer.status == 200 and answer.text().strip() == "OK":
        return passed(f"{route.upstream}/ answers OK")
    return failed(f"{route.upstream}/ answered {answer.status}",
                 "see `nasrtc status` and `docker logs <project>-livekit-1`")


@check('auth service (local)', LOCAL)
def check_jwt_health(ctx: Context) -> Outcome:
    route = ctx.stack.jwt_route
    answer = _local_get(ctx, "jwt", f"{route.upstream}/healthz")
    if answer.status == 200:
        return passed(f"{route.upstream}/healthz answers 200")
    return failed(f"/healthz answered {answer.status}",
                 "see `docker logs <project>-jwt-1`")


@check('ports', LOCAL)
def check_ports(ctx: Context) -> Outcome:
    from nasrtc.answers.rules import PROXY
    from nasrtc.host.ports import busy

    try:
        rows = ctx.containers()
    except NasrtcError:
        rows = []
    if rows and all(r.state == "running" for r in rows):
        return passed("held by this stack's running containers")
    ours = [rule for rule in ctx.stack.ports if rule.owner != PROXY]  # the proxy's are its own
    taken = [f"{b.rule.protocol.upper()} {b.port} ({b.owner})" for b in busy(ours)]
    if taken:
        return failed("held by something else: " + ", ".join(taken),
                     "stop that program or choose other ports in nasrtc.yaml, then "
                     "`nasrtc render` and `nasrtc up`")
    return passed("no clash with other programs")


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


@check("auth service reaches homeserver", LOCAL)
def check_auth_service_reach(ctx: Context) -> Outcome:
    import json

    from nasrtc.engine.probe import run_in_stack_network
    from nasrtc.stack import JWT_SERVICE

    stack, domain = ctx.stack, ctx.stack.domain
    seconds = max(1, int(ctx.net.timeout))
    jwt = stack.service(JWT_SERVICE)
    run = run_in_stack_network(stack, stack.images["livekit"],
                               REACH_SCRIPT.format(t=seconds, domain=domain),
                               jwt.extra_hosts, timeout=4 * seconds + 20)
    parts = _sections(run.output)
    if "client" not in parts:
        return warned(f"could not run the check in a container of {stack.images['livekit']}: "
                      f"{run.output.strip()[:200]}", "the LiveKit image needs sh and wget")
    mapped = {host for host, _ in jwt.extra_hosts}
    how = ("through this host (extra_hosts)" if domain in mapped
           else "through DNS and your router")
    rc, _, body = parts["client"]
    url = f"https://{domain}/.well-known/matrix/client"
    if rc != 0:
        return failed(f"from inside the stack's network, {url} could not be fetched ({how}): "
                      f"{body.splitlines()[-1] if body else 'no answer'}",
                      _reach_fix(domain, domain in mapped, "network.domain_here"))
    try:
        base = json.loads(body)["m.homeserver"]["base_url"]
    except (ValueError, KeyError, TypeError):
        return failed(f"{url} answers, but not with m.homeserver.base_url (the auth service "
                      "answers 400 'Unable to resolve client-server API' then)",
                      "serve matrix/well-known-client.json merged into that file")
    frc, target, fbody = parts.get("federation", (1, "", ""))
    if frc != 0:
        host = target.rsplit(":", 1)[0] or domain
        why = fbody.splitlines()[-1] if fbody else "no answer"
        return failed(f"the homeserver's federation API at https://{target} cannot be reached "
                      "from inside the stack's network: the auth service cannot check "
                      f"callers' OpenID tokens ({why})",
                      f"serve /.well-known/matrix/server on {domain} ({{\"m.server\": "
                      f"\"{stack.homeserver_host}:443\"}}) with a federation listener behind "
                      f"it, or forward 8448; " + _reach_fix(host, host in mapped,
                                                            "network.homeserver_here"))
    return passed(f"from the auth service's network: {url} -> {base}; federation at "
                  f"https://{target} answers")


def _reach_fix(host: str, mapped: bool, key: str) -> str:
    if mapped:
        return (f"{host} is sent to this host: its reverse proxy must answer for {host} on "
                f"443 with a valid certificate; if {host} is served elsewhere, set {key}: false "
                "in nasrtc.yaml, then `nasrtc render` and `nasrtc up`")
    return (f"{host} goes out through DNS and the router, which needs NAT loopback if it "
            f"points back here; if this host serves {host}, set {key}: true in nasrtc.yaml "
            "(or add it to network.local_hosts), then `nasrtc render` and `nasrtc up`")
