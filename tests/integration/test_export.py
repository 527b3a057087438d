"""`nasrtc export`: the manifests validate offline against the Kubernetes API schemas
(kubernetes-validate) and the ESS values against the ESS chart's own values schema
(tests/data, ESS 26.8.1); every value they share with compose.yaml, livekit.yaml, the
proxy files and secrets/ is the same; bad options and hand edits are handled."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import FIXED_KEY, FIXED_SECRET, seed_secrets, write_answers
from tests.integration.test_golden import CASES

KUBERNETES = "1.31.0"  # nasrtc/export/kubernetes.py names the same version
ESS_SCHEMA = Path(__file__).parent.parent / "data" / "ess-26.8.1-matrixRTC.schema.json"


def make_stack(cli: Any, tmp_path: Path, case: str) -> Path:
    stack = tmp_path / "stack"
    seed_secrets(stack, turn_credential="coturnCredential42", turn_secret="coturnSharedSecret7")
    result = cli("init", "--dir", str(stack), "--answers",
                 str(write_answers(tmp_path, CASES[case])))
    assert result.code == 0, result.err
    return stack


def export(cli: Any, stack: Path, out: Path, *options: str) -> dict[str, list[Any]]:
    result = cli("export", "--dir", str(stack), "--output", str(out), *options)
    assert result.code == 0, result.err
    return {path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
            for path in sorted(out.glob("*.yaml"))}


def by_kind(files: dict[str, list[Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc
            for docs in files.values() for doc in docs}


def validate_kubernetes(files: dict[str, list[Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for name, docs in files.items():
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, KUBERNETES, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {exc.message} "
                            f"at {'.'.join(str(p) for p in exc.path)}")


# Every shape on one node; on three, those that let each node find its own address (a fixed
# public address serves one node: test_a_fixed_public_address_serves_one_node_only).
PLACEMENTS = [(case, "1") for case in sorted(CASES)] + [
    (case, "3") for case in sorted(CASES) if "public_ip" not in CASES[case].get("network", {})]


@pytest.mark.parametrize("case, nodes", PLACEMENTS)
def test_kubernetes_manifests_validate_and_agree_with_compose(
        cli: Any, tmp_path: Path, case: str, nodes: str) -> None:
    stack = make_stack(cli, tmp_path, case)
    files = export(cli, stack, tmp_path / "k8s", "--to", "kubernetes", "--nodes", nodes)
    validate_kubernetes(files)
    objects = by_kind(files)
    compose = yaml.safe_load((stack / "compose.yaml").read_text())["services"]
    on_nas = yaml.safe_load((stack / "livekit" / "livekit.yaml").read_text())

    # The same images, LiveKit command and auth-service settings as compose.yaml.
    livekit = objects[("Deployment", "livekit")]["spec"]
    jwt = objects[("Deployment", "jwt")]["spec"]["template"]["spec"]["containers"][0]
    container = livekit["template"]["spec"]["containers"][0]
    assert container["image"] == compose["livekit"]["image"]
    assert jwt["image"] == compose["jwt"]["image"]
    assert container["args"] == compose["livekit"]["command"]
    env = {item["name"]: item["value"] for item in jwt["env"]}
    on_nas_env = {k: str(v) for k, v in compose["jwt"]["environment"].items()}
    on_nas_env.pop("LIVEKIT_REDIS_URL", None)  # Redis at its cluster address: below
    assert on_nas_env.items() <= env.items()
    if "redis" in compose:
        redis_pod = objects[("Deployment", "redis")]["spec"]["template"]["spec"]
        assert redis_pod["containers"][0]["image"] == compose["redis"]["image"]

    # livekit.yaml: the NAS's, but for what the cluster places differently.
    in_cluster = yaml.safe_load(objects[("ConfigMap", "livekit-config")]["data"]["livekit.yaml"]
                                if ("ConfigMap", "livekit-config") in objects else
                                objects[("Secret", "livekit-keys")]["stringData"]["livekit.yaml"])
    for key in ("bind_addresses", "keys", "webhook", "redis"):
        on_nas.pop(key, None)
    webhook = in_cluster.pop("webhook")
    redis = in_cluster.pop("redis", None)
    assert in_cluster == on_nas
    assert webhook["api_key"] == FIXED_KEY
    assert webhook["urls"] == [f"http://jwt.{ns(objects)}.svc:8080/sfu_webhook"]

    # Ports: the node's own, the numbers the router forwards today.
    ports = {(p["protocol"], p["containerPort"]) for p in container["ports"]}
    assert all(p["hostPort"] == p["containerPort"] for p in container["ports"])
    assert ("TCP", on_nas["port"]) in ports and ("TCP", on_nas["rtc"]["tcp_port"]) in ports
    if "udp_port" in on_nas["rtc"]:
        assert ("UDP", on_nas["rtc"]["udp_port"]) in ports
    assert livekit["template"]["spec"]["hostNetwork"] is True
    assert livekit["replicas"] == int(nodes)

    # The key pair: secrets/ in one Secret, read the way each service reads it.
    secret = objects[("Secret", "livekit-keys")]["stringData"]
    assert secret["livekit_api_key"] == FIXED_KEY and secret["livekit_api_secret"] == FIXED_SECRET
    assert secret["livekit_keys"] == f"{FIXED_KEY}: {FIXED_SECRET}"
    assert stat.S_IMODE((tmp_path / "k8s" / "10-secret.yaml").stat().st_mode) == 0o600
    for name in ("20-livekit.yaml", "30-jwt.yaml", "50-ingress.yaml"):
        assert FIXED_SECRET not in (tmp_path / "k8s" / name).read_text()

    # The public names and the WebSocket timeout of the reverse-proxy files.
    ingress = objects[("Ingress", "matrixrtc")]
    hosts = {rule["host"]: rule["http"]["paths"][0]["backend"]["service"]
             for rule in ingress["spec"]["rules"]}
    jwt_host = next(h for h, b in hosts.items() if b["name"] == "jwt")
    sfu_host = next(h for h, b in hosts.items() if b["name"] == "livekit")
    assert sorted(hosts) == sorted([jwt_host, sfu_host])
    proxy = (stack / "reverse-proxy.md").read_text()  # the NAS's 1:1 proxy table
    assert f"`https://{jwt_host}:443`" in proxy and f"`https://{sfu_host}:443`" in proxy
    assert env["LIVEKIT_URL"] == f"wss://{sfu_host}"
    assert hosts[sfu_host]["port"]["number"] == on_nas["port"]
    well_known = json.loads((stack / "matrix" / "well-known-client.json").read_text())
    assert well_known["org.matrix.msc4143.rtc_foci"][0]["livekit_service_url"] \
        == f"https://{jwt_host}"
    nginx = stack / "reverse-proxy" / "nginx.conf"
    if nginx.exists():
        timeout = ingress["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/proxy-read-timeout"]
        assert f"proxy_read_timeout {timeout}s;" in nginx.read_text()

    # Several nodes share their state through Redis; one node needs none, unless the NAS
    # stack chose Redis for the auth service.
    if nodes == "1" and not CASES[case].get("redis", {}).get("enabled"):
        assert redis is None and ("Deployment", "redis") not in objects
        assert "LIVEKIT_REDIS_URL" not in env
    else:
        assert redis == {"address": f"redis.{ns(objects)}.svc:6379"}
        assert env["LIVEKIT_REDIS_URL"] == f"redis://redis.{ns(objects)}.svc:6379"
        assert ("Service", "redis") in objects


def ns(objects: dict[tuple[str, str], dict[str, Any]]) -> str:
    return str(next(doc["metadata"]["name"] for (kind, _), doc in objects.items()
                    if kind == "Namespace"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_ess_values_follow_the_ess_chart_schema(cli: Any, tmp_path: Path, case: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    stack = make_stack(cli, tmp_path, case)
    out = tmp_path / "ess"
    result = cli("export", "--dir", str(stack), "--output", str(out), "--to", "ess")
    assert result.code == 0, result.err
    assert FIXED_SECRET not in result.out + result.err  # never printed
    values = yaml.safe_load((out / "ess-values.yaml").read_text())
    schema = json.loads(ESS_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(values), key=str)
    assert not errors, [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]
    secret_doc = yaml.safe_load((out / "ess-secret.yaml").read_text())
    validate_kubernetes({"ess-secret.yaml": [secret_doc]})
    assert stat.S_IMODE((out / "ess-secret.yaml").stat().st_mode) == 0o600

    rtc = values["matrixRTC"]
    on_nas = yaml.safe_load((stack / "livekit" / "livekit.yaml").read_text())
    exposed = rtc["sfu"]["exposedServices"]
    assert exposed["rtcTcp"]["port"] == on_nas["rtc"]["tcp_port"]
    if "udp_port" in on_nas["rtc"]:
        assert exposed["rtcMuxedUdp"] == {"enabled": True, "portType": "HostPort",
                                          "port": on_nas["rtc"]["udp_port"]}
    else:
        assert exposed["rtcUdp"]["portRange"] == {
            "startPort": on_nas["rtc"]["port_range_start"],
            "endPort": on_nas["rtc"]["port_range_end"]}
        assert exposed["rtcMuxedUdp"]["enabled"] is False
    assert rtc["sfu"]["useStunToDiscoverPublicIP"] == on_nas["rtc"]["use_external_ip"]
    assert rtc["sfu"].get("manualIP") == on_nas["rtc"].get("node_ip")
    assert rtc["livekitAuth"]["key"] == FIXED_KEY
    assert secret_doc["stringData"][rtc["livekitAuth"]["secret"]["secretKey"]] == FIXED_SECRET
    assert FIXED_SECRET not in (out / "ess-values.yaml").read_text()
    if "turn_servers" in on_nas["rtc"]:  # the external TURN server, credential and all
        extra = rtc["sfu"]["additional"]["nasrtc-turn.yaml"]
        fragment = yaml.safe_load(secret_doc["stringData"][extra["configSecretKey"]])
        assert fragment["rtc"]["turn_servers"] == on_nas["rtc"]["turn_servers"]

    # What changes for clients: one host for the auth service and the SFU.
    host = rtc["ingress"]["host"]
    sfu_host = on_nas_sfu_host(stack)
    assert host == sfu_host
    page = (out / "ess.md").read_text()
    assert f'livekit_service_url: "https://{host}"' in page
    assert f'"livekit_service_url": "https://{host}"' in page
    assert f"https://{host}/sfu/get" in page and "405" in page
    # An answer the chart has no key for is named, not dropped without a word.
    chose_redis = bool(CASES[case].get("redis", {}).get("enabled"))
    assert ("redis.enabled in nasrtc.yaml is not carried over" in page) == chose_redis
    # ...and the command prints both changes, not only the page.
    assert f'livekit_service_url: "https://{host}"' in result.out
    assert f'"livekit_service_url": "https://{host}"' in result.out


def on_nas_sfu_host(stack: Path) -> str:
    env = yaml.safe_load((stack / "compose.yaml").read_text())["services"]["jwt"]["environment"]
    return str(env["LIVEKIT_URL"]).replace("wss://", "")


def test_a_fixed_public_address_serves_one_node_only(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, "generic-range")
    out = tmp_path / "k8s"
    result = cli("export", "--dir", str(stack), "--output", str(out), "--to", "kubernetes",
                 "--nodes", "2")
    assert result.code != 0 and "Traceback" not in result.err
    assert "network.public_ip" in result.err and "93.184.216.34" in result.err
    assert "network.public_ip: stun" in result.err and "--nodes 1" in result.err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("options, named", [
    (["--to", "kubernetes", "--namespace", "Calls_Prod"], "--namespace"),
    (["--to", "kubernetes", "--nodes", "0"], "--nodes"),
    (["--to", "kubernetes", "--ingress-class", "nginx class"], "--ingress-class"),
    (["--to", "ess", "--host", "not a host"], "--host"),
])
def test_bad_options_are_named(cli: Any, tmp_path: Path, options: list[str],
                               named: str) -> None:
    stack = make_stack(cli, tmp_path, "generic-mux")
    result = cli("export", "--dir", str(stack), "--output", str(tmp_path / "out"), *options)
    assert result.code == 2, result.err
    assert named in result.err and "Traceback" not in result.err


def test_the_stack_folder_is_not_an_export_target(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, "generic-mux")
    manifest = (stack / ".nasrtc-manifest.json").read_bytes()
    result = cli("export", "--dir", str(stack), "--output", str(stack), "--to", "kubernetes")
    assert result.code == 2 and "--output" in result.err
    assert (stack / ".nasrtc-manifest.json").read_bytes() == manifest


def test_a_hand_edited_export_is_kept(cli: Any, tmp_path: Path) -> None:
    stack = make_stack(cli, tmp_path, "generic-mux")
    out = tmp_path / "k8s"
    export(cli, stack, out, "--to", "kubernetes")
    ingress = out / "50-ingress.yaml"
    ingress.write_text(ingress.read_text() + "# my cert-manager issuer\n")
    again = cli("export", "--dir", str(stack), "--output", str(out), "--to", "kubernetes",
                "--nodes", "1", "--ingress-class", "nginx")
    assert again.code != 0 and "50-ingress.yaml" in again.err and "--force" in again.err
    assert ingress.read_text().endswith("# my cert-manager issuer\n")
    forced = cli("export", "--dir", str(stack), "--output", str(out), "--to", "kubernetes",
                 "--ingress-class", "nginx", "--force")
    assert forced.code == 0, forced.err
    assert "ingressClassName: nginx" in ingress.read_text()
    assert (out / "50-ingress.yaml.bak").read_text().endswith("# my cert-manager issuer\n")
