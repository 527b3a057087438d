"""Puts one of nasrtc's extras into a folder for the container image, run by the
Dockerfile's build stage on the image's own Python:

    python3 tools/image_wheels.py media FOLDER TARGET   # nasrtc[media]: the LiveKit SDK
    python3 tools/image_wheels.py web FOLDER TARGET     # nasrtc[web]: waitress

Wheels in FOLDER (dist/media/ or dist/web/ of the build context, fetched on a machine with
PyPI) are unpacked as they are, so a base without pip or without PyPI gets them too; else
pip fetches them when the base has it. Both extras need Python 3.9+ (the LiveKit SDK also
x86_64 or arm64): anywhere else the image goes without and says so, and the command that
needs it names what is missing. Standard library only, Python 3.8+."""

import glob
import os
import shutil
import subprocess
import sys
import zipfile

EXTRAS = {
    # extra: (requirement, module to import, what it is for)
    "media": ("livekit>=1.2,<2", "livekit.rtc", "the LiveKit SDK for doctor --media"),
    "web": ("waitress>=3.0.2", "waitress", "waitress for the web page (nasrtc web)"),
}


def works(target: str, module: str) -> bool:
    check = subprocess.run([sys.executable, "-c", f"import {module}"], env={
        **os.environ, "PYTHONPATH": target}, capture_output=True)
    return check.returncode == 0


def main() -> int:
    extra, wheels, target = sys.argv[1], sys.argv[2], sys.argv[3]
    requirement, module, what = EXTRAS[extra]
    os.makedirs(target, exist_ok=True)
    if sys.version_info < (3, 9):
        print(f"nasrtc image: no {what} (it needs Python 3.9+)")
        return 0
    found = sorted(glob.glob(os.path.join(wheels, "*.whl")))
    if found:
        for wheel in found:
            with zipfile.ZipFile(wheel) as archive:  # extractall keeps names inside target
                archive.extractall(target)
    else:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir",
                        "--target", target, requirement], check=False)
    if works(target, module):
        print(f"nasrtc image: {what} is in")
        return 0
    shutil.rmtree(target)
    os.makedirs(target)
    print(f"nasrtc image: no {what} for this CPU or Python (or no pip and no wheels in "
          f"{wheels}): not available in this image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
