"""Generate, store (0600 in a 0700 folder) and load the stack's secrets.

Secrets are never printed or logged: the dataclass hides them from repr, and
messages name the file, never its content.
"""

from __future__ import annotations

import os
import secrets as random_source
import string
from dataclasses import dataclass, field
from pathlib import Path

from nasrtc.errors import NasrtcError
from nasrtc.i18n import N_, _

SECRETS_DIR = "secrets"
API_KEY_FILE = "livekit_api_key"
API_SECRET_FILE = "livekit_api_secret"
TURN_CREDENTIAL_FILE = "external_turn_credential"
TURN_CREDENTIAL_ENV = "NASRTC_EXTERNAL_TURN_CREDENTIAL"
TURN_SECRET_FILE = "external_turn_secret"  # coturn's static-auth-secret
TURN_SECRET_ENV = "NASRTC_EXTERNAL_TURN_SECRET"
# external_turn.auth -> (file in secrets/, environment variable for the init run, what it is)
TURN_AUTH_SECRETS = {
    "password": (TURN_CREDENTIAL_FILE, TURN_CREDENTIAL_ENV, N_("credential")),
    "secret": (TURN_SECRET_FILE, TURN_SECRET_ENV,
               N_("shared secret (coturn's static-auth-secret)")),
}

_ALPHANUMERIC = string.ascii_letters + string.digits
MIN_SECRET_LENGTH = 32  # LiveKit logs an error for shorter secrets
SECRET_LENGTH = 48


@dataclass(frozen=True)
class Secrets:
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    # The existing TURN server's credential or shared secret (external_turn.auth says which).
    turn_credential: str | None = field(default=None, repr=False)


def _random(length: int) -> str:
    return "".join(random_source.choice(_ALPHANUMERIC) for _index in range(length))


def new_api_key() -> str:
    # LiveKit's own generator: "API" and 12 characters.
    return "API" + _random(12)


def new_api_secret() -> str:
    return _random(SECRET_LENGTH)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise NasrtcError(
            _("cannot read the secret file {path}: {error}")
            .format(path=path, error=exc.__class__.__name__),
            _("check its owner and permissions (run with sudo on DSM)"),
        ) from None


def _check_secret(path: Path, value: str, min_length: int) -> None:
    if len(value) < min_length or any(ch not in _ALPHANUMERIC for ch in value):
        raise NasrtcError(
            _("the secret in {path} is not {min_length}+ letters and digits")
            .format(path=path, min_length=min_length),
            _("delete the file and run `{nasrtc} init` again to generate a new one, or use "
              "`{nasrtc} init --rotate-secrets` (a running stack must then be restarted)"),
        )


def plan_secrets(stack_dir: Path, rotate: bool = False,
                 turn_auth: str | None = None) -> tuple[Secrets, dict[str, str]]:
    """The secrets to use, and those still to store (new ones). Writes nothing.
    turn_auth: the existing TURN server's external_turn.auth, None without one."""
    folder = stack_dir / SECRETS_DIR
    values: dict[str, str] = {}
    pending: dict[str, str] = {}
    for name, make, min_length in (
        (API_KEY_FILE, new_api_key, 3),
        (API_SECRET_FILE, new_api_secret, MIN_SECRET_LENGTH),
    ):
        path = folder / name
        current = None if rotate else _read(path)
        if current is None:
            current = pending[name] = make()
        else:
            _check_secret(path, current, min_length)
        values[name] = current
    turn_credential = None
    if turn_auth is not None:
        name, env, what = TURN_AUTH_SECRETS[turn_auth]
        path = folder / name
        turn_credential = _read(path)
        if not turn_credential:
            turn_credential = os.environ.get(env, "").strip()
            if not turn_credential:
                raise NasrtcError(
                    _("external_turn is set but its {what} is missing ({path})")
                    .format(what=_(what), path=path),
                    _("put it on one line in {path}, or set {env} for this run; it is stored "
                      "0600 and never written to nasrtc.yaml").format(path=path, env=env),
                )
            pending[name] = turn_credential
    return Secrets(values[API_KEY_FILE], values[API_SECRET_FILE], turn_credential), pending


def secret_files(stack_dir: Path, pending: dict[str, str]) -> list[tuple[Path, bytes, int]]:
    """The secret files to write (0600), for the writer's all-or-nothing batch; makes
    sure the folder is 0700 and the secrets already there are 0600."""
    from nasrtc.files import ensure_folder, set_mode

    folder = stack_dir / SECRETS_DIR
    ensure_folder(stack_dir, folder, 0o700)
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            set_mode(path, 0o600)
    return [(folder / name, (value + "\n").encode("ascii"), 0o600)
            for name, value in pending.items()]


def require_secrets(stack_dir: Path) -> None:
    """For `render`: the secrets must exist already (init creates them)."""
    folder = stack_dir / SECRETS_DIR
    for name in (API_KEY_FILE, API_SECRET_FILE):
        if _read(folder / name) is None:
            raise NasrtcError(
                _("the secret file {path} is missing").format(path=folder / name),
                _("run `{nasrtc} init --dir ...` to generate the secrets (existing ones are kept)"),
            )
