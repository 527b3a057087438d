"""Checks on this machine: files, secrets, livekit.yaml, containers, local ports."""

from __future__ import annotations

import stat

from nasrtc.doctor.context import Context
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

    from nasrtc.output.livekit_keys import unknown_keys

    path = ctx.stack_dir / "livekit" / "livekit.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return failed(f"not valid YAML: {str(exc).splitlines()[0]}",
                     "run `nasrtc render --force` to rebuild it from nasrtc.yaml")
    unknown = unknown_keys(config)
    if unknown:
        return failed(f"keys LiveKit does not know (it will not start): {', '.join(unknown)}",
                     "remove them, or run `nasrtc render --force` to rebuild the file from "
                     "nasrtc.yaml (your copy is kept as .bak)")
    return passed("only keys LiveKit knows")


@check('containers', LOCAL)
def check_containers(ctx: Context) -> Outcome:
    rows = ctx.containers()
    bad = [f"{r.service}: {r.state}{'/' + r.health if r.health else ''}" for r in rows
           if r.state != "running" or r.health not in ("", "healthy")]
    if bad:
        return failed("; ".join(bad),
                     "run `nasrtc up` (it shows the log of a container that crashes)")
    return passed("livekit and jwt running and healthy")


@check('LiveKit (local)', LOCAL)
def check_livekit_http(ctx: Context) -> Outcome:
    route = ctx.stack.sfu_route
    answer = ctx.net.request("GET", f"{route.upstream}/")
    if answer.status == 200 and answer.text().strip() == "OK":
        return passed(f"{route.upstream}/ answers OK")
    return failed(f"{route.upstream}/ answered {answer.status}",
                 "see `nasrtc status` and `docker logs <project>-livekit-1`")


@check('auth service (local)', LOCAL)
def check_jwt_health(ctx: Context) -> Outcome:
    route = ctx.stack.jwt_route
    answer = ctx.net.request("GET", f"{route.upstream}/healthz")
    if answer.status == 200:
        return passed(f"{route.upstream}/healthz answers 200")
    return failed(f"/healthz answered {answer.status}",
                 "see `docker logs <project>-jwt-1`")


@check('ports', LOCAL)
def check_ports(ctx: Context) -> Outcome:
    from nasrtc.host.ports import busy

    try:
        rows = ctx.containers()
    except NasrtcError:
        rows = []
    if rows and all(r.state == "running" for r in rows):
        return passed("held by this stack's running containers")
    taken = [f"{b.rule.protocol.upper()} {b.port} ({b.owner})" for b in busy(ctx.stack.ports)]
    if taken:
        return failed("held by something else: " + ", ".join(taken),
                     "stop that program or choose other ports in nasrtc.yaml, then "
                     "`nasrtc render` and `nasrtc up`")
    return passed("no clash with other programs")
