"""Build dist/nasrtc.pyz: nasrtc and its dependencies in one file that runs on any
Python >= 3.8 with no pip and no compiler (DSM's own Python, ARM NAS models).

    python3 tools/build_pyz.py [--output dist/nasrtc.pyz] [--wheels DIR]

Every dependency is pinned to a release that still supports Python 3.8 and is used as
pure Python: PyYAML and MarkupSafe ship optional C speedups, which are left out (both
fall back to their pure-Python code; nasrtc uses yaml's CSafeLoader only when present).
Needs pip and PyPI (or --wheels, a folder of the wheels below) on the building machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipapp
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Pinned: the last releases that install on Python 3.8, all pure Python once C speedups
# are dropped. Raising one is a change to test with `pytest tests/integration/test_pyz.py`.
PINS = (
    "docker==7.1.0",
    "requests==2.32.3",
    "urllib3==2.2.3",
    "idna==3.10",
    "certifi==2024.8.30",
    "charset-normalizer==3.4.0",
    "PyYAML==6.0.2",
    "Jinja2==3.1.4",
    "MarkupSafe==2.1.5",
    "questionary==2.0.1",
    "prompt-toolkit==3.0.48",
    "wcwidth==0.2.13",
)
# Compiled parts are skipped: the .pyz must run on any CPU and any Python >= 3.8.
SKIPPED_SUFFIXES = (".so", ".pyd", ".dylib", ".c", ".h", ".pyx")


# No pure-Python wheel on PyPI: a binary one is fetched and its compiled files dropped.
WITH_SPEEDUPS = ("PyYAML", "MarkupSafe")


def download(wheels: Path) -> None:
    """The pinned wheels: pure ones, and for PyYAML and MarkupSafe a CPython 3.8 Linux
    one whose compiled files are then left out."""
    wheels.mkdir(parents=True, exist_ok=True)
    common = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
              "--no-deps", "--only-binary=:all:", "--python-version", "3.8",
              "--implementation", "cp", "--abi", "cp38", "--dest", str(wheels)]
    pure = [pin for pin in PINS if pin.partition("==")[0] not in WITH_SPEEDUPS]
    binary = [pin for pin in PINS if pin.partition("==")[0] in WITH_SPEEDUPS]
    subprocess.run([*common, "--platform", "any", "--abi", "none", *pure], check=True)
    subprocess.run([*common, "--platform", "manylinux2014_x86_64", *binary], check=True)


def _find_wheel(wheels: Path, pin: str) -> Path | None:
    name, _, version = pin.partition("==")
    prefix = f"{name.replace('-', '_').lower()}-{version}-"
    found = sorted(w for w in wheels.glob("*.whl") if w.name.lower().startswith(prefix))
    return found[0] if found else None


def _wheel_for(wheels: Path, pin: str) -> Path:
    found = _find_wheel(wheels, pin)
    if found is None:
        raise SystemExit(f"build_pyz: no wheel for {pin} in {wheels}")
    return found


def stage(wheels: Path, target: Path) -> None:
    """Unpack the wheels' Python files and nasrtc itself (with its data folders)."""
    for pin in PINS:
        with zipfile.ZipFile(_wheel_for(wheels, pin)) as wheel:
            for item in wheel.namelist():
                if item.endswith(SKIPPED_SUFFIXES) or ".dist-info/RECORD" in item:
                    continue
                wheel.extract(item, target)
    shutil.copytree(REPO / "nasrtc", target / "nasrtc",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for data in ("profiles", "compose-templates"):
        shutil.copytree(REPO / data, target / "nasrtc" / data,
                        ignore=shutil.ignore_patterns("__pycache__"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "dist" / "nasrtc.pyz")
    parser.add_argument("--wheels", type=Path, default=REPO / "dist" / "wheels",
                        help="where the pinned wheels are (downloaded when missing)")
    args = parser.parse_args()
    if any(_find_wheel(args.wheels, pin) is None for pin in PINS):
        download(args.wheels)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "nasrtc"
        staging.mkdir()
        stage(args.wheels, staging)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        partial = args.output.with_name(args.output.name + ".partial")
        # zipapp's own `main=` drops the return value: the exit code must be main()'s.
        (staging / "__main__.py").write_text(
            "import sys\n\nfrom nasrtc.entry import main\n\nsys.exit(main())\n")
        zipapp.create_archive(staging, partial, interpreter="/usr/bin/env python3",
                              compressed=True)
        partial.replace(args.output)
    size = args.output.stat().st_size
    print(f"build_pyz: wrote {args.output} ({size / 1024 / 1024:.1f} MiB); run it with "
          f"`python3 {args.output.name} --help`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
