"""Puts nasrtc[media] (the LiveKit Python SDK, for `doctor --media`) into a folder for the
container image, run by the Dockerfile's build stage on the image's own Python.

Wheels in FOLDER (dist/media/ of the build context, fetched on a machine with PyPI) are
unpacked as they are, so a base without pip or without PyPI gets them too; else pip
fetches them when the base has it. The SDK exists for x86_64 and arm64 and Python 3.9+:
anywhere else the image goes without it and says so (doctor --media then names what is
missing). Standard library only, Python 3.8+.

Usage: python3 tools/media_wheels.py FOLDER TARGET"""

import glob
import os
import shutil
import subprocess
import sys
import zipfile

PACKAGE = "livekit>=1.2,<2"


def works(target: str) -> bool:
    check = subprocess.run([sys.executable, "-c", "import livekit.rtc"], env={
        **os.environ, "PYTHONPATH": target}, capture_output=True)
    return check.returncode == 0


def main() -> int:
    wheels, target = sys.argv[1], sys.argv[2]
    os.makedirs(target, exist_ok=True)
    found = sorted(glob.glob(os.path.join(wheels, "*.whl")))
    if sys.version_info < (3, 9):
        print("nasrtc image: no LiveKit SDK (it needs Python 3.9+): doctor --media is "
              "not available in this image")
        return 0
    if found:
        for wheel in found:
            with zipfile.ZipFile(wheel) as archive:  # extractall keeps names inside target
                archive.extractall(target)
    else:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir",
                        "--target", target, PACKAGE], check=False)
    if works(target):
        print("nasrtc image: the LiveKit SDK for doctor --media is in")
        return 0
    shutil.rmtree(target)
    os.makedirs(target)
    print("nasrtc image: no LiveKit SDK for this CPU or Python (or no pip and no wheels in "
          "dist/media/): doctor --media is not available in this image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
