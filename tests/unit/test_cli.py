"""The command line a person sees: help with examples, light start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import run_subprocess


@pytest.mark.parametrize("command", ["init", "render", "up", "down", "status", "checklist",
                                     "doctor"])
def test_every_command_has_help_with_examples(command: str) -> None:
    result = run_subprocess(command, "--help")
    assert result.code == 0
    assert "examples:" in result.out
    assert f"nasrtc {command} --dir" in result.out


def test_top_level_help_lists_commands() -> None:
    result = run_subprocess("--help")
    assert result.code == 0
    for command in ("init", "render", "up", "down", "status"):
        assert command in result.out
    assert "examples:" in result.out


def test_no_command_prints_help_and_fails() -> None:
    result = run_subprocess()
    assert result.code == 2
    assert "COMMAND" in result.out


def test_unknown_option_is_a_usage_error_with_a_hint() -> None:
    result = run_subprocess("render", "--frobnicate")
    assert result.code == 2
    assert "unrecognized arguments: --frobnicate" in result.err
    assert "nasrtc render --help" in result.err
    assert "Traceback" not in result.err


def loaded_after(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after `nasrtc ARGV` (help exits are fine)."""
    code = ("import sys\n"
            "from nasrtc.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('LOADED=' + ','.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    return set(out.rsplit("LOADED=", 1)[1].strip().split(","))


def test_help_does_not_import_heavy_libraries() -> None:
    """`--help` must stay fast on a NAS: no yaml, jinja2, docker or questionary."""
    heavy = {"yaml", "jinja2", "docker", "questionary", "requests"}
    if sys.version_info >= (3, 9):  # 3.8's argparse imports shutil itself, at the top
        # argparse asks shutil for the terminal width, and shutil brings bz2, lzma, zlib.
        heavy.add("shutil")
    assert heavy & loaded_after(["--help"]) == set()


@pytest.mark.parametrize("columns", ["40", "132", "", "junk"])
def test_help_wraps_as_argparse_would(columns: str) -> None:
    """The width nasrtc finds without shutil is the one argparse finds with it."""
    import argparse
    import os
    import shutil

    from nasrtc.cli import help_width

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = columns
    try:
        assert help_width() == shutil.get_terminal_size().columns - 2
        assert help_width() == argparse.HelpFormatter("x")._width
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def test_version() -> None:
    result = run_subprocess("--version")
    assert result.code == 0 and result.out.startswith("nasrtc ")


def test_the_top_level_help_lines_are_the_commands_own() -> None:
    """`nasrtc --help` lists the commands from a table, without importing them: the table
    must say what each command module says."""
    import importlib

    from nasrtc.commands import COMMANDS

    for name, help_line in COMMANDS.items():
        assert help_line == importlib.import_module(f"nasrtc.commands.{name}").HELP, name


def test_a_command_run_imports_no_other_command() -> None:
    """Only the command named is built: `up` does not pay for init's or doctor's options."""
    commands = {m for m in loaded_after(["up", "--help"])
                if m.startswith("nasrtc.commands.") and m != "nasrtc.commands._common"}
    assert commands == {"nasrtc.commands.up"}
