"""The emitted configs pass the real tools: nginx -t, caddy validate, and
docker-compose config (Debian's packages). Skipped where a tool is missing;
tests/run.sh installs them, so CI runs these."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import needs, write_answers

needs_nginx = needs("nginx", "nginx")
needs_caddy = needs("caddy", "caddy")
needs_compose = needs("docker-compose", "docker-compose")
needs_openssl = needs("openssl", "openssl")


def make_cert(folder: Path, host: str) -> None:
    target = folder / host
    target.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={host}", "-keyout", str(target / "privkey.pem"),
                    "-out", str(target / "fullchain.pem")], check=True, capture_output=True)


@pytest.fixture
def generic_stack(cli: Any, tmp_path: Path) -> Path:
    certs = tmp_path / "certs"
    for host in ("rtc-auth.example.com", "rtc.example.com"):
        make_cert(certs, host)
    source = write_answers(tmp_path, {
        "profile": "generic", "domain": "example.com", "jwt_host": "rtc-auth.example.com",
        "sfu_host": "rtc.example.com", "ports": {"jwt_http": 8099, "livekit_http": 7890},
        "proxy": {"cert_dir": str(certs)}})
    stack = tmp_path / "stack"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    return stack


def nginx_test(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` with the generated file included in the http context, as conf.d is."""
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    main = prefix / "nginx.conf"
    main.write_text(f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
                    f"events {{}}\nhttp {{\n    include {config};\n}}\n")
    return subprocess.run(["nginx", "-t", "-p", str(prefix), "-c", str(main)],
                          capture_output=True, text=True)


@needs_nginx
@needs_openssl
@pytest.mark.parametrize("name", ["nginx.conf", "nginx-single-host.conf"])
def test_nginx_accepts_the_config(generic_stack: Path, tmp_path: Path, name: str) -> None:
    config = generic_stack / "reverse-proxy" / name
    result = nginx_test(tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    text = config.read_text()
    assert "add_header" not in text, "the proxy must not add a second CORS header"
    assert "proxy_pass http://127.0.0.1:8099" in text and "proxy_pass http://127.0.0.1:7890" in text


@needs_nginx
@needs_openssl
def test_nginx_check_can_fail(generic_stack: Path, tmp_path: Path) -> None:
    """Guard: the harness really runs nginx (a broken file is rejected)."""
    config = generic_stack / "reverse-proxy" / "nginx.conf"
    config.write_text(config.read_text().replace("proxy_pass", "proxy_pas", 1))
    assert nginx_test(tmp_path, config).returncode != 0


@needs_caddy
def test_caddy_accepts_the_caddyfile(generic_stack: Path) -> None:
    result = subprocess.run(["caddy", "validate", "--adapter", "caddyfile", "--config",
                             str(generic_stack / "reverse-proxy" / "Caddyfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


@needs_compose
@pytest.mark.parametrize("mode", ["host", "bridge"])
def test_docker_compose_accepts_compose_yaml(cli: Any, tmp_path: Path, mode: str) -> None:
    source = write_answers(tmp_path, {"profile": "synology", "domain": "example.org",
                                      "project": "calls", "network": {"livekit_mode": mode}})
    stack = tmp_path / "somefolder"
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    result = subprocess.run(["docker-compose", "config"], cwd=stack, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert sorted(config["services"]) == ["jwt", "livekit"]
    assert "name" not in config or config.get("name") == "calls"
    # The project name comes from .env (v1 and v2 read it), not from the folder name.
    assert "COMPOSE_PROJECT_NAME=calls\n" in (stack / ".env").read_text()
