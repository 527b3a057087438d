"""The real wizard, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.helpers import (
    profiles_with_defaults,
    run_subprocess,
    seed_secrets,
    snapshot,
    write_answers,
)

DOWN = "\x1b[B"
CLEAR = "\x15"  # Ctrl-U: clear the pre-filled default
DSM_VERSION = 'productversion="7.2.1"\nbuildnumber="69057"\nsmallfixnumber="5"\n'
NOT_COMPARED = {".nasrtc-manifest.json", "nasrtc.yaml"}


@pytest.fixture
def ip_service(tmp_path: Path) -> Iterator[str]:
    """A what-is-my-IP service on loopback (the wizard never leaves this machine here).
    A separate process, not a thread: forking a pty from a threaded process can deadlock."""
    folder = tmp_path / "ip-service"
    folder.mkdir()
    (folder / "ip").write_text("93.184.216.34\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/ip"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=5)


class Wizard:
    def __init__(self, tmp_path: Path, *args: str, root: Path | None = None,
                 ip_url: str = "http://127.0.0.1:9/", env: dict[str, str] | None = None,
                 before: tuple[str, ...] = (), prefix: tuple[str, ...] = ()) -> None:
        """`prefix`: a command the wizard runs under (the lab's `ip netns exec NAS`)."""
        env = {**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm",
               "NASRTC_PUBLIC_IP_URL": ip_url, "NASRTC_ROOT": str(root or tmp_path / "noroot"),
               **(env or {})}
        command = [*prefix, sys.executable, "-m", "nasrtc", *before, "init", *args]
        self.child = pexpect.spawn(command[0], command[1:],
                                   env=env,
                                   cwd=str(tmp_path), encoding="utf-8", timeout=20,
                                   dimensions=(50, 160))
        self.transcript: list[str] = []

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        seen = str(self.child.before) + str(self.child.after)
        self.transcript.append(seen)
        return seen

    def text(self, prompt: str, value: str | None = None) -> None:
        self.expect(prompt)
        self.child.send("\r" if value is None else CLEAR + value + "\r")

    def select(self, prompt: str, down: int = 0) -> None:
        self.expect(prompt)
        self.child.send(DOWN * down + "\r")

    def confirm(self, prompt: str, yes: bool) -> None:
        self.expect(prompt)
        self.child.send("y" if yes else "n")

    def where_things_run(self) -> None:
        """The domain's website and the homeserver: on this NAS (the defaults)."""
        self.expect("Is https://<your domain> served by this NAS")
        self.child.send("\r")
        self.expect("Does the homeserver run on this NAS")
        self.child.send("\r")

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.transcript.append(str(self.child.before))
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    @property
    def output(self) -> str:
        return "".join(self.transcript)


def defaults_through_turn(w: Wizard, domain: str = "example.org",
                          rtc_tcp: str | None = None) -> None:
    defaults_through_turn_until_tcp(w, domain)
    w.child.send("\r" if rtc_tcp is None else CLEAR + rtc_tcp + "\r")
    w.text("LiveKit's local HTTP port")
    w.text("Auth service's local HTTP port")


def artifacts(folder: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in snapshot(folder).items()
            if rel not in NOT_COMPARED and not rel.startswith("secrets/")}


def noninteractive(cli: Any, tmp_path: Path, answers: dict[str, Any],
                   turn_credential: str | None = None) -> Path:
    stack = tmp_path / "reference"
    seed_secrets(stack, turn_credential)
    source = write_answers(tmp_path, answers, "reference.yaml")
    assert cli("init", "--dir", str(stack), "--answers", str(source)).code == 0
    return stack


def test_generic_happy_path_equals_the_noninteractive_result(cli: Any, tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    seed_secrets(stack)
    w = Wizard(tmp_path, "--dir", "stack")
    defaults_through_turn(w, rtc_tcp="7001")
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", "192.168.1.10")
    w.expect("Write these files")
    assert "Router forwards     TCP 7001, UDP 7882" in w.output
    w.child.send("y")
    assert w.finish() == 0
    assert "Next steps" in w.output and "checklist.md" in w.output
    assert "forward TCP 7001, UDP 7882 to 192.168.1.10" in w.output
    assert "A drawing of all this, with your values:" in w.output and "setup.svg" in w.output
    reference = noninteractive(cli, tmp_path, {
        "profile": "generic", "domain": "example.org", "ports": {"rtc_tcp": 7001},
        "network": {"lan_ip": "192.168.1.10"}})
    assert artifacts(stack) == artifacts(reference)


def test_synology_happy_path_with_range_turn_and_found_address(
        cli: Any, tmp_path: Path, ip_service: str) -> None:
    root = tmp_path / "dsm"
    (root / "etc.defaults").mkdir(parents=True)
    (root / "etc.defaults" / "VERSION").write_text(DSM_VERSION)
    stack = tmp_path / "stack"
    seed_secrets(stack)
    w = Wizard(tmp_path, "--dir", "stack", root=root, ip_url=ip_service)
    first = w.expect("Platform")
    assert "Synology DSM 7.2.1-69057 Update 5" in first
    w.child.send("\r")  # the detected profile is the default
    w.text("Matrix server name", "example.org")
    for prompt in ("Homeserver URL", "Name for the auth service", "Name for the SFU"):
        w.text(prompt)
    w.where_things_run()
    w.select("How should media use UDP", down=1)
    w.text("UDP port range for media", "50000-50100")
    w.text("TCP port for media")
    w.text("LiveKit's local HTTP port")
    w.text("Auth service's local HTTP port")
    w.confirm("Enable LiveKit's TURN server", True)
    w.text("TURN UDP port")
    w.confirm("Add Redis for the auth service", True)
    seen = w.expect("How should LiveKit learn your public IP address")
    w.child.send(DOWN + "\r")  # the address the lookup found
    w.text("The NAS's LAN address", "192.168.1.10")
    w.confirm("Write these files", True)
    assert w.finish() == 0
    assert "93.184.216.34 (found just now via 127.0.0.1" in seen + w.output
    reference = noninteractive(cli, tmp_path, {
        "profile": "synology", "domain": "example.org",
        "ports": {"rtc_udp_range": "50000-50100"}, "turn": {"enabled": True},
        "redis": {"enabled": True},
        "network": {"public_ip": "93.184.216.34", "lan_ip": "192.168.1.10"}})
    assert artifacts(stack) == artifacts(reference)
    assert "  redis:\n" in (stack / "compose.yaml").read_text()
    assert "Control Panel › Login Portal" in (stack / "reverse-proxy.md").read_text()


def test_invalid_domain_is_explained_and_retyped(tmp_path: Path) -> None:
    w = Wizard(tmp_path, "--dir", "stack")
    w.select("Platform")
    w.text("Matrix server name", "https://example.org")
    w.expect("has a scheme")
    w.child.send(CLEAR + "example.org\r")
    w.text("Homeserver URL")
    w.expect("Name for the auth service")
    w.child.sendcontrol("c")
    assert w.finish() == 130


def test_reserved_port_on_dsm_is_flagged_as_typed(tmp_path: Path) -> None:
    root = tmp_path / "dsm"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "synoinfo.conf").write_text("x=1\n")
    w = Wizard(tmp_path, "--dir", "stack", root=root)
    defaults_through_turn_until_tcp(w)
    w.child.send(CLEAR + "5001\r")
    w.expect("TCP port 5001 is reserved on Synology DSM")
    w.child.sendcontrol("c")
    assert w.finish() == 130
    assert not (tmp_path / "stack").exists()


def test_port_in_use_on_this_host_is_flagged(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        w = Wizard(tmp_path, "--dir", "stack")
        defaults_through_turn_until_tcp(w)
        w.child.send(CLEAR + f"{busy}\r")
        w.expect(f"TCP port {busy} is already in use on this host")
        w.child.sendcontrol("c")
        assert w.finish() == 130


def defaults_through_turn_until_tcp(w: Wizard, domain: str = "example.org") -> None:
    w.select("Platform")
    w.text("Matrix server name", domain)
    for prompt in ("Homeserver URL", "Name for the auth service", "Name for the SFU"):
        w.text(prompt)
    w.where_things_run()
    w.select("How should media use UDP")
    w.text("UDP port for media")
    w.expect("TCP port for media")


def enter_only(w: Wizard, domain: str | None = None) -> None:
    """Every question answered with its default (Enter), the LAN address left empty."""
    w.select("Platform")
    w.text("Matrix server name", domain)
    for prompt in ("Homeserver URL", "Name for the auth service", "Name for the SFU"):
        w.text(prompt)
    w.where_things_run()
    w.select("How should media use UDP")
    for prompt in ("UDP port for media", "TCP port for media", "LiveKit's local HTTP port",
                   "Auth service's local HTTP port"):
        w.text(prompt)
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", "")
    w.confirm("Write these files", True)


@pytest.mark.parametrize("key", ["c", "d"])
def test_ctrl_c_or_ctrl_d_mid_way_leaves_everything_untouched(tmp_path: Path, key: str) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "notes.txt").write_text("mine\n")
    before = snapshot(stack)
    w = Wizard(tmp_path, "--dir", "stack")
    w.select("Platform")
    w.text("Matrix server name", "example.org")
    w.expect("Homeserver URL")
    w.child.sendcontrol(key)
    assert w.finish() == 130
    assert snapshot(stack) == before
    assert "Traceback" not in w.output
    assert "cancelled; nothing was written" in w.output


def test_rerun_uses_previous_answers_keeps_secrets_and_shows_changes(tmp_path: Path) -> None:
    first = Wizard(tmp_path, "--dir", "stack")
    defaults_through_turn(first, domain="example.org", rtc_tcp="7001")
    first.confirm("Enable LiveKit's TURN server", False)
    first.confirm("Add Redis for the auth service", False)
    first.select("How should LiveKit learn your public IP address")
    first.text("The NAS's LAN address", "192.168.1.10")
    first.confirm("Write these files", True)
    assert first.finish() == 0
    stack = tmp_path / "stack"
    secrets = snapshot(stack / "secrets")

    again = Wizard(tmp_path, "--dir", "stack")
    intro = again.expect("Platform")
    assert "its answers are the defaults" in intro
    again.child.send("\r")
    # The previous answers are the pre-filled defaults.
    again.expect(r"Matrix server name[^\n]*example\.org")
    again.child.send("\r")
    for text in ("Homeserver URL", "Name for the auth service", "Name for the SFU"):
        again.text(text)
    again.where_things_run()
    again.select("How should media use UDP")
    again.text("UDP port for media")
    again.expect(r"TCP port for media[^\n]*7001")
    again.child.send(CLEAR + "7002\r")
    again.text("LiveKit's local HTTP port")
    again.text("Auth service's local HTTP port")
    again.confirm("Enable LiveKit's TURN server", False)
    again.confirm("Add Redis for the auth service", False)
    again.select("How should LiveKit learn your public IP address")
    again.text("The NAS's LAN address")
    summary = again.expect("Write these files")
    again.child.send("y")
    assert again.finish() == 0
    assert "changes    livekit/livekit.yaml" in summary
    assert "unchanged  matrix/homeserver.yaml" in summary
    assert snapshot(stack / "secrets") == secrets, "secrets must be kept byte for byte"
    assert "tcp_port: 7002" in (stack / "livekit/livekit.yaml").read_text()
    assert "192.168.1.10" in (stack / "checklist.md").read_text()


def test_declining_writes_nothing(tmp_path: Path) -> None:
    w = Wizard(tmp_path, "--dir", "stack")
    defaults_through_turn(w)
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", "")
    w.confirm("Write these files", False)
    assert w.finish() == 1
    assert "nothing was written" in w.output
    assert not (tmp_path / "stack").exists()


def test_yes_accepts_defaults_without_a_terminal(tmp_path: Path) -> None:
    result = run_subprocess("init", "--yes", "--domain", "example.org", "--dir", "stack",
                            cwd=tmp_path, env={"NASRTC_ROOT": str(tmp_path / "noroot")})
    assert result.code == 0, result.err
    assert "Next steps" in result.out
    assert "domain: example.org" in (tmp_path / "stack" / "nasrtc.yaml").read_text()
    missing = run_subprocess("init", "--yes", "--dir", "other", cwd=tmp_path)
    assert missing.code == 2
    assert "- --domain: is needed with --yes" in missing.err and "--yes --domain" in missing.err
    assert not (tmp_path / "other").exists()


def test_without_dir_the_stack_folder_is_asked_with_the_profile_default(tmp_path: Path) -> None:
    root = tmp_path / "dsm"
    (root / "etc.defaults").mkdir(parents=True)
    (root / "etc.defaults" / "VERSION").write_text(DSM_VERSION)
    w = Wizard(tmp_path, root=root)
    w.expect(r"Stack folder[^\n]*/volume1/docker/matrixrtc")
    w.child.send(CLEAR + "mystack\r")
    enter_only(w, domain="example.org")
    assert w.finish() == 0
    assert (tmp_path / "mystack" / "compose.yaml").is_file()
    assert "profile: synology" in (tmp_path / "mystack" / "nasrtc.yaml").read_text()


def test_enter_only_takes_a_changed_profile_default(tmp_path: Path) -> None:
    """Defaults live in the schema and the profiles only: change a profile's default and
    the wizard offers the new value, exactly as --yes writes it."""
    profiles = profiles_with_defaults(tmp_path / "profiles", "generic",
                                      {"ports.rtc_tcp": 7991, "ports.jwt_http": 8181})
    env = {"NASRTC_PROFILES_DIR": str(profiles)}
    seed_secrets(tmp_path / "stack")
    seed_secrets(tmp_path / "yes")
    w = Wizard(tmp_path, "--dir", "stack", "--domain", "example.org", env=env)
    enter_only(w)
    assert w.finish() == 0, w.output
    livekit = (tmp_path / "stack" / "livekit" / "livekit.yaml").read_text()
    assert "tcp_port: 7991" in livekit
    assert '"127.0.0.1:8181:8080/tcp"' in (tmp_path / "stack" / "compose.yaml").read_text()
    yes = run_subprocess("init", "--yes", "--domain", "example.org", "--dir", "yes",
                         cwd=tmp_path, env={**env, "NASRTC_ROOT": str(tmp_path / "noroot")})
    assert yes.code == 0, yes.err
    assert (tmp_path / "yes" / "livekit" / "livekit.yaml").read_text() == livekit


def test_a_port_clash_is_refused_where_it_is_typed_and_nothing_is_lost(tmp_path: Path) -> None:
    w = Wizard(tmp_path, "--dir", "stack", "--domain", "example.org")
    defaults_through_turn_until_tcp(w)
    w.child.send("\r")  # TCP media port 7881
    w.text("LiveKit's local HTTP port", "7881")
    w.expect("overlaps ports.rtc_tcp")
    w.child.send(CLEAR + "7885\r")
    w.text("Auth service's local HTTP port")
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", "")
    w.confirm("Write these files", True)
    assert w.finish() == 0, w.output
    assert "port: 7885" in (tmp_path / "stack" / "livekit" / "livekit.yaml").read_text()


def test_answers_survive_a_refusal_at_the_end(tmp_path: Path) -> None:
    """A hand-edited compose.yaml stops the write after every question was answered: the
    answers are kept (nasrtc.yaml) and are the defaults of the next run."""
    made = run_subprocess("init", "--yes", "--domain", "example.org", "--dir", "stack",
                          cwd=tmp_path, env={"NASRTC_ROOT": str(tmp_path / "noroot")})
    assert made.code == 0, made.err
    compose = tmp_path / "stack" / "compose.yaml"
    compose.write_text(compose.read_text() + "# my tweak\n")
    w = Wizard(tmp_path, "--dir", "stack")
    defaults_through_turn(w, rtc_tcp="7002")
    w.confirm("Enable LiveKit's TURN server", False)
    w.confirm("Add Redis for the auth service", False)
    w.select("How should LiveKit learn your public IP address")
    w.text("The NAS's LAN address", "")
    assert w.finish() == 3
    assert "your answers are kept in" in w.output
    assert "rtc_tcp: 7002" in (tmp_path / "stack" / "nasrtc.yaml").read_text()
    assert compose.read_text().endswith("# my tweak\n"), "the edit is not touched"
    again = Wizard(tmp_path, "--dir", "stack")
    defaults_through_turn_until_tcp(again)
    again.expect(r"7002")
    again.child.sendcontrol("c")
    assert again.finish() == 130


# The same run in the user's language: (option or environment, the prompts in order, words
# of the summary, the error a URL typed as the server name gets). The files written for
# programs stay English, byte for byte.
IN_LANGUAGE = {
    "de": ((("--lang", "de"), {}), (
        "Plattform", "Matrix-Servername", "Homeserver-URL", "Name für den Auth-Dienst",
        "Name für die SFU", "von diesem NAS ausgeliefert", "Läuft der Homeserver auf diesem NAS",
        "Wie sollen Medien UDP nutzen", "UDP-Port für Medien", "TCP-Port für Medien",
        "Lokaler HTTP-Port von LiveKit", "Lokaler HTTP-Port des Auth-Dienstes",
        "TURN-Server von LiveKit einschalten", "Redis für den Auth-Dienst hinzufügen",
        "Wie soll LiveKit Ihre öffentliche IP-Adresse erfahren", "Die LAN-Adresse des NAS"),
        ("Zusammenfassung für example.org", "Router leitet weiter", "Diese Dateien schreiben"),
        "hat ein Schema"),
    "zh_CN": (((), {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "NASRTC_LANG": ""}), (
        "平台", "Matrix 服务器名", "Homeserver 地址", "认证服务的名称", "SFU 的名称",
        "是否由这台 NAS 提供", "Homeserver 是否运行在这台 NAS 上", "媒体如何使用 UDP",
        "媒体使用的 UDP 端口", "媒体使用的 TCP 端口", "LiveKit 的本地 HTTP 端口",
        "认证服务的本地 HTTP 端口", "启用 LiveKit 的 TURN 服务器", "为认证服务添加 Redis",
        "LiveKit 如何获知您的公网 IP 地址", "NAS 的局域网地址"),
        ("example.org 的摘要", "路由器转发", "写入这些文件"),
        "带有协议头"),
}


@pytest.mark.parametrize("language", sorted(IN_LANGUAGE))
def test_the_wizard_speaks_the_users_language(cli: Any, tmp_path: Path, language: str) -> None:
    (before, env), prompts, summary, refusal = IN_LANGUAGE[language]
    stack = tmp_path / "stack"
    seed_secrets(stack)
    w = Wizard(tmp_path, "--dir", "stack", before=before, env=env)
    answers = {"Matrix": "example.org", "LAN": "192.168.1.10", "局域网": "192.168.1.10"}
    for prompt in prompts:
        w.expect(prompt)
        typed = next((value for word, value in answers.items() if word in prompt), None)
        if typed == "example.org":  # a URL first: the answer's error is in the language too
            w.child.send(CLEAR + "https://example.org\r")
            w.expect(re.escape(refusal))
        if typed is not None:
            w.child.send(CLEAR + typed + "\r")
        elif "TURN" in prompt or "Redis" in prompt:
            w.child.send("n")
        else:
            w.child.send("\r")  # the default, as offered
    w.expect(summary[-1])
    for words in summary:
        assert words in w.output, words
    assert "Write these files" not in w.output and "Platform" not in w.output
    w.child.send("y")
    assert w.finish() == 0
    reference = noninteractive(cli, tmp_path, {
        "profile": "generic", "domain": "example.org", "network": {"lan_ip": "192.168.1.10"}})
    # What programs read is English, byte for byte; the pages people read are in their
    # language (the same text `checklist` prints in it).
    for_people = {"checklist.md", "reverse-proxy.md", "setup.svg"}
    ours, english = artifacts(stack), artifacts(reference)
    assert {k: v for k, v in ours.items() if k not in for_people | {"nasrtc.yaml"}} \
        == {k: v for k, v in english.items() if k not in for_people | {"nasrtc.yaml"}}
    # nasrtc.yaml records the pages' language (English, the default, is not written)
    assert f"\nlanguage: {language}\n" in (stack / "nasrtc.yaml").read_text()
    assert "\n# language: en\n" in (tmp_path / "reference" / "nasrtc.yaml").read_text()
    translated = cli("--lang", language, "checklist", "--dir", str(stack), "--format", "md",
                     "--offline")
    assert ours["checklist.md"].decode() == translated.out
    assert summary[1] not in english["checklist.md"].decode()
    assert ours["reverse-proxy.md"] != english["reverse-proxy.md"]
    assert ours["setup.svg"] != english["setup.svg"]
    # later runs in English keep the stack's pages in its language
    assert cli("render", "--dir", str(stack)).code == 0
    assert artifacts(stack)["checklist.md"] == ours["checklist.md"]
