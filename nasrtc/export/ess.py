"""Stack -> the values for Element Server Suite's MatrixRTC component (`nasrtc export
--to ess`): the same ports, public address, TURN and key pair, in the key names of ESS's
matrix-stack chart (values.schema.json, ESS 26.8.1; docs/upstream-facts.md).

ESS serves the auth service and the SFU under one host (the auth service's paths
/sfu/get, /get_token, /delegate_delayed_leave, everything else to the SFU), so the
address clients are given changes: the page written next to the values says how."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nasrtc.errors import usage_error
from nasrtc.i18n import _
from nasrtc.stack import REDIS_SERVICE, Stack

ESS_VERSION = "26.8.1"  # the chart whose schema the values are checked against (tests)
SECRET_NAME = "nasrtc-matrix-rtc"
SECRET_KEY = "livekitSecret"
TURN_CONFIG_KEY = "turn.yaml"


def values(stack: Stack, host: str) -> dict[str, Any]:
    """The matrixRTC section of an ESS values file."""
    lk = stack.livekit
    sfu: dict[str, Any] = {"useStunToDiscoverPublicIP": lk.use_external_ip}
    if lk.node_ip:
        sfu["manualIP"] = lk.node_ip
    # HostPort: the node's own port numbers, as the router forwards them today.
    exposed: dict[str, Any] = {
        "rtcTcp": {"enabled": True, "portType": "HostPort", "port": lk.rtc_tcp},
        "rtcMuxedUdp": {"enabled": lk.rtc_udp is not None, "portType": "HostPort",
                        "port": lk.rtc_udp if lk.rtc_udp is not None else 30002},
    }
    if lk.rtc_udp_range is not None:
        exposed["rtcUdp"] = {"enabled": True, "portType": "HostPort", "portRange": {
            "startPort": lk.rtc_udp_range[0], "endPort": lk.rtc_udp_range[1]}}
    else:
        exposed["rtcUdp"] = {"enabled": False, "portType": "HostPort",
                             "portRange": {"startPort": 31000, "endPort": 32000}}
    if lk.turn_udp_port is not None:
        exposed["turn"] = {"enabled": True, "portType": "HostPort", "port": lk.turn_udp_port}
    if lk.turn_tls_port is not None:
        # ESS advertises turns:<domain>:443 too; with HostPort the pod takes 443 on the
        # node (the ingress controller must not hold it there).
        exposed["turnTLS"] = {"enabled": True, "portType": "HostPort", "port": 443,
                              "domain": lk.turn_domain}
    sfu["exposedServices"] = exposed
    if lk.external_turn is not None:
        sfu["additional"] = {"nasrtc-turn.yaml": {"configSecret": SECRET_NAME,
                                                  "configSecretKey": TURN_CONFIG_KEY}}
    return {"matrixRTC": {
        "enabled": True,
        "ingress": {"host": host},
        "livekitAuth": {"key": stack.api_key,
                        "secret": {"secret": SECRET_NAME, "secretKey": SECRET_KEY}},
        "sfu": sfu,
    }}


def turn_config(stack: Stack) -> str | None:
    """The external TURN server as a LiveKit config fragment (it holds a credential)."""
    import yaml

    server = stack.livekit.external_turn
    if server is None:
        return None
    return str(yaml.safe_dump({"rtc": {"turn_servers": [dict(server)]}}, sort_keys=False))


def secret(stack: Stack, namespace: str) -> dict[str, Any]:
    """The existing Secret livekitAuth (and the TURN fragment) points at."""
    data = {SECRET_KEY: stack.api_secret}
    turn = turn_config(stack)
    if turn is not None:
        data[TURN_CONFIG_KEY] = turn
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": SECRET_NAME, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "nasrtc"}},
            "stringData": data}


def check_host(stack: Stack, host: str | None) -> str:
    """The one name ESS serves MatrixRTC under: --host, or the SFU's name today (it has
    DNS and a certificate already)."""
    chosen = (host or stack.sfu_host).strip().lower()
    labels = chosen.split(".")
    if len(labels) < 2 or not all(
            label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
            and label[0] != "-" and label[-1] != "-" for label in labels):
        raise usage_error("--host", _("{chosen!r} is not a host name: give a DNS name, e.g. "
                                      "--host mrtc.{domain}")
                                    .format(chosen=chosen, domain=stack.domain))
    return chosen


def client_changes(stack: Stack, host: str) -> tuple[str, str]:
    """(homeserver.yaml's matrix_rtc section, the .well-known/matrix/client JSON) for the
    ESS address: what the homeserver and clients must be told instead of today's."""
    import json

    from nasrtc.output.render import well_known_client

    moved = replace(stack, jwt_url=f"https://{host}")
    transports = ("matrix_rtc:\n  transports:\n    - type: livekit\n"
                  f"      livekit_service_url: {json.dumps(moved.jwt_url)}\n")
    return transports, json.dumps(well_known_client(moved), indent=2) + "\n"


def page(stack: Stack, host: str, namespace: str) -> str:
    """ess.md: which value came from which answer, and what changes for clients."""
    from nasrtc import __version__

    lk = stack.livekit
    transports, well_known = client_changes(stack, host)
    rows = [
        ("matrixRTC.ingress.host", host,
         "--host (default: sfu_host, which already has DNS and a certificate)"),
        ("matrixRTC.livekitAuth.key", "(your API key)", "secrets/livekit_api_key"),
        ("matrixRTC.livekitAuth.secret", f"Secret {SECRET_NAME}, key {SECRET_KEY}",
         "secrets/livekit_api_secret (in ess-secret.yaml)"),
        ("matrixRTC.sfu.useStunToDiscoverPublicIP", str(lk.use_external_ip).lower(),
         "network.public_ip (stun or a fixed address)"),
    ]
    if lk.node_ip:
        rows.append(("matrixRTC.sfu.manualIP", lk.node_ip, "network.public_ip"))
    rows.append(("matrixRTC.sfu.exposedServices.rtcTcp.port", str(lk.rtc_tcp),
                 "ports.rtc_tcp"))
    if lk.rtc_udp is not None:
        rows.append(("matrixRTC.sfu.exposedServices.rtcMuxedUdp.port", str(lk.rtc_udp),
                     "ports.rtc_udp"))
    if lk.rtc_udp_range is not None:
        rows.append(("matrixRTC.sfu.exposedServices.rtcUdp.portRange",
                     f"{lk.rtc_udp_range[0]}-{lk.rtc_udp_range[1]}", "ports.rtc_udp_range"))
    if lk.turn_udp_port is not None:
        rows.append(("matrixRTC.sfu.exposedServices.turn.port", str(lk.turn_udp_port),
                     "turn.udp_port"))
    if lk.turn_tls_port is not None:
        rows.append(("matrixRTC.sfu.exposedServices.turnTLS.domain", lk.turn_domain,
                     "turn.domain (advertised as turns:<domain>:443)"))
    if lk.external_turn is not None:
        rows.append(("matrixRTC.sfu.additional", f"Secret {SECRET_NAME}, key "
                     f"{TURN_CONFIG_KEY}", "external_turn.* (holds its credential)"))
    table = "\n".join(f"| `{key}` | {value} | {source} |" for key, value, source in rows)
    # Chart 26.8.1 has no key for MatrixRTC's Redis (26.9.2 adds matrixRTC.redisOrValkey):
    # say so rather than drop the answer without a word.
    redis_note = ("\n\nredis.enabled in nasrtc.yaml is not carried over either: ESS "
                  f"{ESS_VERSION} has no setting for a Redis of MatrixRTC (one SFU needs none; "
                  "chart 26.9.2 adds `matrixRTC.redisOrValkey`)."
                  if stack.runs(REDIS_SERVICE) else "")
    return f"""# Moving the call stack of {stack.domain} to Element Server Suite

Generated by nasrtc {__version__} from nasrtc.yaml (`nasrtc export --to ess`), for the
ESS matrix-stack chart {ESS_VERSION}.

1. Create the Secret the values point at (it holds the API secret; keep the file private):
   `kubectl apply -n {namespace} -f ess-secret.yaml`
2. Add ess-values.yaml to your ESS install: `helm upgrade --install ... -f ess-values.yaml`
   (next to your other values files).
3. DNS: `{host}` points at your ingress controller. The router keeps forwarding
   {stack.forwarded_summary()} to the node that runs the SFU (HostPort: the node's own ports).
4. Tell the homeserver and clients the new address (next section), then stop the NAS stack:
   `sudo nasrtc down`.

## Which value came from which answer

| ESS value | value | from |
|---|---|---|
{table}

ESS runs its own tested images of LiveKit and the auth service; nasrtc's image pins
(images.* in nasrtc.yaml) are not carried over.{redis_note}

## What changes for clients

ESS serves the auth service and the SFU under one host, `https://{host}`: the auth
service at `/sfu/get`, `/get_token` and `/delegate_delayed_leave`, the SFU at every other
path. So the address the homeserver hands to clients changes from `{stack.jwt_url}` to
`https://{host}`.

If ESS also runs your Synapse, it writes both settings below itself. Otherwise, in
homeserver.yaml replace the `matrix_rtc` section with:

```yaml
{transports}```

and serve this at `https://{stack.domain}/.well-known/matrix/client` (older clients read it):

```json
{well_known}```

Check: `https://{host}/sfu/get` answers 405 (it takes POST only).
"""
