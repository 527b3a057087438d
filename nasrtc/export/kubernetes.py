"""Stack -> plain Kubernetes manifests: the same answers, images, ports and host names as
compose.yaml, for a cluster instead of one NAS (`nasrtc export --to kubernetes`).

LiveKit runs with hostNetwork, one pod per node (a required anti-affinity): the RTC ports
it advertises must be the node's own, as on the NAS. With more than one node LiveKit
shares its state through Redis, which the auth service then uses too. The key pair lives
in one Secret; livekit.yaml (without the keys) in a ConfigMap."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from nasrtc.errors import NasrtcError, usage_error
from nasrtc.i18n import _
from nasrtc.services import JWT_SERVICE, LIVEKIT_SERVICE, REDIS_SERVICE
from nasrtc.stack import (
    JWT_CONTAINER_PORT,
    LIVEKIT_CONFIG_PATH,
    REDIS_PORT,
    SECRETS_MOUNT,
    Stack,
)

KUBERNETES_VERSION = "1.31.0"  # the API the manifests are validated against (tests)
KEYS_SECRET = "livekit-keys"
CONFIG_NAME = "livekit-config"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1123 label


@dataclass(frozen=True)
class Placement:
    """Where the stack goes: the namespace, how many LiveKit nodes, the ingress class."""

    namespace: str
    nodes: int = 1
    ingress_class: str | None = None
    redis_chosen: bool = False  # redis.enabled in nasrtc.yaml

    @property
    def redis(self) -> bool:
        """Several LiveKit nodes share their state through Redis; a stack that chose Redis
        on the NAS keeps it for the auth service."""
        return self.nodes > 1 or self.redis_chosen

    def address(self, service: str) -> str:
        """A Service's name as every pod resolves it (hostNetwork pods too, with
        ClusterFirstWithHostNet), whatever the cluster's domain."""
        return f"{service}.{self.namespace}.svc"


def namespace_for(project: str) -> str:
    """The project name as a namespace (Compose allows '_', Kubernetes does not)."""
    return project.replace("_", "-").strip("-")


def check_placement(stack: Stack, placement: Placement) -> None:
    if not _NAME.match(placement.namespace):
        raise usage_error("--namespace", _("{namespace!r} is not a Kubernetes name: use "
                                           "lowercase letters, digits and '-', starting and "
                                           "ending with a letter or digit, at most 63 "
                                           "characters (e.g. --namespace matrixrtc)")
                                         .format(namespace=placement.namespace))
    if not 1 <= placement.nodes <= 100:
        raise usage_error("--nodes", _("{nodes} is out of range: give the number of LiveKit "
                                       "nodes, 1 to 100").format(nodes=placement.nodes))
    if placement.nodes > 1 and not stack.livekit.use_external_ip:
        raise NasrtcError(
            _("network.public_ip in nasrtc.yaml is one fixed address ({node_ip}), but each of "
              "{nodes} LiveKit nodes must advertise its own")
            .format(node_ip=stack.livekit.node_ip, nodes=placement.nodes),
            _("set network.public_ip: stun in nasrtc.yaml (each node finds its address), or "
              "export with --nodes 1"))
    if placement.ingress_class is not None and not _NAME.match(placement.ingress_class):
        raise usage_error("--ingress-class", _("{ingress_class!r} is not a Kubernetes name: "
                                               "give the class `kubectl get ingressclass` "
                                               "lists (e.g. nginx)")
                                             .format(ingress_class=placement.ingress_class))


def _labels(stack: Stack, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": stack.project,
            "app.kubernetes.io/part-of": "nasrtc", "app.kubernetes.io/managed-by": "nasrtc"}


def _selector(stack: Stack, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": stack.project}


def _meta(stack: Stack, placement: Placement, name: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": placement.namespace,
            "labels": _labels(stack, component)}


def livekit_config(stack: Stack, placement: Placement) -> str:
    """livekit.yaml as on the NAS, placed in the cluster: the HTTP port open to the ingress
    controller (not only loopback), the webhook to the auth service's Service, the keys
    from the Secret, and Redis (needed with several nodes, harmless with one)."""
    from nasrtc.output.render import render_livekit_config

    webhook = f"http://{placement.address(JWT_SERVICE)}:{JWT_CONTAINER_PORT}/sfu_webhook"
    placed = replace(stack, livekit=replace(stack.livekit, bind_addresses=(),
                                            webhook_url=webhook))
    redis = f"{placement.address(REDIS_SERVICE)}:{REDIS_PORT}" if placement.redis else None
    return render_livekit_config(placed, keys_inline=False, redis_address=redis)


def _config_holds_secret(stack: Stack) -> bool:
    """An external TURN server's credential sits in livekit.yaml: then it is a Secret."""
    return stack.livekit.external_turn is not None


def manifests(stack: Stack, placement: Placement) -> dict[str, list[dict[str, Any]]]:
    """File name -> the objects in it, in the order `kubectl apply -f DIR` should meet
    them (the namespace first)."""
    check_placement(stack, placement)
    config = livekit_config(stack, placement)
    files: dict[str, list[dict[str, Any]]] = {
        "00-namespace.yaml": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": placement.namespace, "labels": _labels(stack, "namespace")}}],
        "10-secret.yaml": [_secret(stack, placement, config)],
        "20-livekit.yaml": _livekit(stack, placement, config),
        "30-jwt.yaml": _jwt(stack, placement),
    }
    if placement.redis:
        files["40-redis.yaml"] = _redis(stack, placement)
    files["50-ingress.yaml"] = [_ingress(stack, placement)]
    return files


def _secret(stack: Stack, placement: Placement, config: str) -> dict[str, Any]:
    data = {"livekit_api_key": stack.api_key, "livekit_api_secret": stack.api_secret,
            # LiveKit's own form for LIVEKIT_KEYS: "key: secret"
            "livekit_keys": f"{stack.api_key}: {stack.api_secret}"}
    if _config_holds_secret(stack):
        data["livekit.yaml"] = config
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _meta(stack, placement, KEYS_SECRET, "livekit"), "stringData": data}


def _livekit_ports(stack: Stack) -> list[dict[str, Any]]:
    """The ports LiveKit listens on, as the node's own (hostNetwork: hostPort equals
    containerPort). A UDP range is not listed one by one: with hostNetwork it needs no
    declaration, and hundreds of entries would only slow the API server."""
    lk = stack.livekit
    ports = [{"name": "http", "containerPort": lk.port, "hostPort": lk.port, "protocol": "TCP"},
             {"name": "rtc-tcp", "containerPort": lk.rtc_tcp, "hostPort": lk.rtc_tcp,
              "protocol": "TCP"}]
    if lk.rtc_udp is not None:
        ports.append({"name": "rtc-udp", "containerPort": lk.rtc_udp, "hostPort": lk.rtc_udp,
                      "protocol": "UDP"})
    if lk.turn_udp_port is not None:
        ports.append({"name": "turn-udp", "containerPort": lk.turn_udp_port,
                      "hostPort": lk.turn_udp_port, "protocol": "UDP"})
    if lk.turn_tls_port is not None:
        ports.append({"name": "turn-tls", "containerPort": lk.turn_tls_port,
                      "hostPort": lk.turn_tls_port, "protocol": "TCP"})
    return ports


def _livekit(stack: Stack, placement: Placement, config: str) -> list[dict[str, Any]]:
    service = stack.service(LIVEKIT_SERVICE)
    selector = _selector(stack, LIVEKIT_SERVICE)
    config_volume: dict[str, Any] = (
        {"name": "config", "secret": {"secretName": KEYS_SECRET, "defaultMode": 0o400,
                                      "items": [{"key": "livekit.yaml",
                                                 "path": "livekit.yaml"}]}}
        if _config_holds_secret(stack) else
        {"name": "config", "configMap": {"name": CONFIG_NAME}})
    mounts = [{"name": "config", "mountPath": LIVEKIT_CONFIG_PATH, "subPath": "livekit.yaml",
               "readOnly": True}]
    volumes = [config_volume]
    if stack.livekit.turn_tls_port is not None:
        # The TURN certificate: a kubernetes.io/tls Secret (cert-manager makes one).
        volumes.append({"name": "turn-tls", "secret": {
            "secretName": "turn-tls", "defaultMode": 0o400,
            "items": [{"key": "tls.crt", "path": "cert.pem"},
                      {"key": "tls.key", "path": "key.pem"}]}})
        mounts.append({"name": "turn-tls", "mountPath": "/etc/livekit-turn",
                       "readOnly": True})
    probe = {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10,
             "timeoutSeconds": 5, "failureThreshold": 3}
    pod = {
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirstWithHostNet",  # resolve the auth service and Redis
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": selector},
             "topologyKey": "kubernetes.io/hostname"}]}},
        "terminationGracePeriodSeconds": 10,
        "containers": [{
            "name": LIVEKIT_SERVICE, "image": service.image, "args": list(service.command),
            "env": [{"name": "LIVEKIT_KEYS", "valueFrom": {"secretKeyRef": {
                "name": KEYS_SECRET, "key": "livekit_keys"}}}],
            "ports": _livekit_ports(stack),
            "readinessProbe": {**probe, "initialDelaySeconds": 5},
            "livenessProbe": {**probe, "initialDelaySeconds": 15},
            "volumeMounts": mounts}],
        "volumes": volumes,
    }
    objects: list[dict[str, Any]] = []
    if not _config_holds_secret(stack):
        objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": _meta(stack, placement, CONFIG_NAME, LIVEKIT_SERVICE),
                        "data": {"livekit.yaml": config}})
    objects.append(_deployment(
        stack, placement, LIVEKIT_SERVICE, pod, replicas=placement.nodes,
        # One pod per node holds the node's ports: the old pod goes before the new one.
        strategy={"type": "RollingUpdate",
                  "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
        # A new livekit.yaml rolls the pods (LiveKit reads it at start only).
        annotations={"nasrtc.io/config-sha256": hashlib.sha256(config.encode()).hexdigest()}))
    objects.append(_service(stack, placement, LIVEKIT_SERVICE, stack.livekit.port))
    return objects


def _deployment(stack: Stack, placement: Placement, name: str, pod: dict[str, Any],
                replicas: int = 1, strategy: dict[str, Any] | None = None,
                annotations: dict[str, str] | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"labels": _labels(stack, name)}
    if annotations:
        template["annotations"] = annotations
    spec: dict[str, Any] = {"replicas": replicas,
                            "selector": {"matchLabels": _selector(stack, name)}}
    if strategy:
        spec["strategy"] = strategy
    spec["template"] = {"metadata": template, "spec": pod}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _meta(stack, placement, name, name), "spec": spec}


def _service(stack: Stack, placement: Placement, name: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(stack, placement, name, name),
            "spec": {"type": "ClusterIP", "selector": _selector(stack, name),
                     "ports": [{"name": "http" if name != REDIS_SERVICE else "redis",
                                "port": port, "targetPort": port, "protocol": "TCP"}]}}


def jwt_environment(stack: Stack, placement: Placement) -> list[tuple[str, str]]:
    """The auth service's settings: compose.yaml's, with Redis at its cluster address."""
    found = [(key, value) for key, value in stack.service(JWT_SERVICE).environment
             if key != "LIVEKIT_REDIS_URL"]
    if placement.redis:
        found.append(("LIVEKIT_REDIS_URL",
                      f"redis://{placement.address(REDIS_SERVICE)}:{REDIS_PORT}"))
    return found


def _jwt(stack: Stack, placement: Placement) -> list[dict[str, Any]]:
    service = stack.service(JWT_SERVICE)
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
    pod = {
        "containers": [{
            "name": JWT_SERVICE, "image": service.image,
            "env": [{"name": key, "value": value}
                    for key, value in jwt_environment(stack, placement)],
            "ports": [{"name": "http", "containerPort": JWT_CONTAINER_PORT, "protocol": "TCP"}],
            "readinessProbe": probe, "livenessProbe": probe,
            "volumeMounts": [{"name": "keys", "mountPath": SECRETS_MOUNT, "readOnly": True}]}],
        "volumes": [{"name": "keys", "secret": {
            "secretName": KEYS_SECRET, "defaultMode": 0o444,
            "items": [{"key": "livekit_api_key", "path": "livekit_api_key"},
                      {"key": "livekit_api_secret", "path": "livekit_api_secret"}]}}]}
    return [_deployment(stack, placement, JWT_SERVICE, pod),
        _service(stack, placement, JWT_SERVICE, JWT_CONTAINER_PORT)]


def _redis(stack: Stack, placement: Placement) -> list[dict[str, Any]]:
    pod = {"containers": [{
        "name": REDIS_SERVICE, "image": stack.images["redis"],
        # Coordination state only: nothing to keep across a restart.
        "args": ["--save", "", "--appendonly", "no"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 5}}]}
    return [_deployment(stack, placement, REDIS_SERVICE, pod),
        _service(stack, placement, REDIS_SERVICE, REDIS_PORT)]


def _ingress(stack: Stack, placement: Placement) -> dict[str, Any]:
    def rule(host: str, service: str, port: int) -> dict[str, Any]:
        return {"host": host, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": service, "port": {"number": port}}}}]}}

    timeout = str(stack.proxy_timeout)
    spec: dict[str, Any] = {
        "tls": [{"hosts": [stack.jwt_host, stack.sfu_host], "secretName": "matrixrtc-tls"}],
        "rules": [rule(stack.jwt_host, JWT_SERVICE, JWT_CONTAINER_PORT),
                  rule(stack.sfu_host, LIVEKIT_SERVICE, stack.livekit.port)]}
    if placement.ingress_class:
        spec["ingressClassName"] = placement.ingress_class
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {**_meta(stack, placement, "matrixrtc", "ingress"), "annotations": {
            # ingress-nginx: call signalling is a WebSocket that stays open for the call
            # (its default 60 s cuts idle calls), and must not be buffered.
            "nginx.ingress.kubernetes.io/proxy-read-timeout": timeout,
            "nginx.ingress.kubernetes.io/proxy-send-timeout": timeout,
            "nginx.ingress.kubernetes.io/proxy-buffering": "off"}},
        "spec": spec}


HEADER = """\
# {what}
# Generated by nasrtc {version} from nasrtc.yaml (`nasrtc export --to kubernetes`);
# checked against the Kubernetes {kubernetes} API. Export again after changing the answers.
"""


def render(stack: Stack, placement: Placement) -> dict[str, tuple[str, bool]]:
    """File name -> (text, holds a secret)."""
    import yaml

    from nasrtc import __version__

    what = {"00-namespace.yaml": "The namespace of the call stack.",
            "10-secret.yaml": "The LiveKit API key pair (keep this file private).",
            "20-livekit.yaml": "LiveKit SFU: its settings, one pod per node, its Service.",
            "30-jwt.yaml": "MatrixRTC auth service (lk-jwt-service) and its Service.",
            "40-redis.yaml": "Redis: LiveKit's shared state across nodes, and the auth "
                             "service's.",
            "50-ingress.yaml": f"HTTPS for {stack.jwt_host} and {stack.sfu_host} "
                               "(TLS secret matrixrtc-tls: cert-manager or your own)."}
    out = {}
    for name, objects in manifests(stack, placement).items():
        header = HEADER.format(what=what[name], version=__version__,
                               kubernetes=KUBERNETES_VERSION.rsplit(".", 1)[0])
        body = yaml.dump_all(objects, Dumper=_dumper(), sort_keys=False,
                             default_flow_style=False, width=100)
        out[name] = (header + "---\n" + body, name == "10-secret.yaml")
    return out


def _dumper() -> Any:
    """YAML's safe dumper, with text of several lines (livekit.yaml) as a readable block."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # no &id001 anchors: each object reads on its own

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper
