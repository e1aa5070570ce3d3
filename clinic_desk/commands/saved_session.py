"""Where `clinic-desk login` keeps its session token on this computer.

The system keyring: service ``clinic-desk``, user name ``session:<database URL without its
password>``, so two databases keep two sessions. With no usable keyring backend the token goes
to a file readable only by the user (0600) in the user config dir, with a one-line warning.

Every command reads the token, so reading is cheap: the file first (keyring is not even imported
when the token is there), then the keyring backend that took the last token, loaded by its class
name (remembered in ``keyring-backend`` beside the file), without keyring's scan of every
installed backend. A backend chosen by ``PYTHON_KEYRING_BACKEND`` or keyring's own config file
still wins.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import config

SERVICE = config.APP_NAME
FALLBACK_FILE = "sessions.json"
BACKEND_FILE = "keyring-backend"


def key_for(database_url: str) -> str:
    """The keyring user name for a database: its URL, never with a password in it."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return "session:" + database_url
    host = f"{parts.hostname or ''}:{parts.port}" if parts.port else parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    return "session:" + urlunsplit(parts._replace(netloc=user + host))


def fallback_path() -> Path:
    return config.user_config_dir() / FALLBACK_FILE


def _keyring():
    """The keyring backend, or None when there is none that works."""
    import keyring
    from keyring.backends import fail

    backend = _remembered_backend() or keyring.get_keyring()
    return None if isinstance(backend, fail.Keyring) else backend


def _remembered_backend():
    """The backend class that took the last token, when nothing else chose one; else None."""
    import keyring.core

    if keyring.core._keyring_backend is not None or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return None
    try:
        name = (config.user_config_dir() / BACKEND_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not name.startswith("keyring.backends."):
        return None
    try:
        if keyring.core._config_path().exists():  # keyring's own config file chooses
            return None
        backend = keyring.core.load_keyring(name)
    except Exception:  # noqa: BLE001 - gone or not viable here: detect the backend as keyring does
        return None
    keyring.core.set_keyring(backend)
    return backend


def _remember_backend(backend) -> None:
    """Note the backend's class for ``_remembered_backend`` (a hint: failing to write it is fine)."""
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name.startswith("keyring.backends."):
        path = config.user_config_dir() / BACKEND_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(name + "\n", encoding="utf-8")
        except OSError:
            pass


_FAILED = object()


def _in_keyring(method: str, *args: str):
    """Call the keyring backend's ``method`` quietly: its result, or ``_FAILED`` when there is no
    working backend or it refused (the caller falls back to the file)."""
    from keyring.errors import KeyringError

    backend = _keyring()
    if backend is None:
        return _FAILED
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = getattr(backend, method)(SERVICE, *args)
    except (KeyringError, RuntimeError):
        return _FAILED
    if method == "set_password":
        _remember_backend(backend)
    return result


def save(database_url: str, token: str) -> Path | None:
    """Store the token; returns the fallback file's path when the keyring could not take it."""
    key = key_for(database_url)
    if _in_keyring("set_password", key, token) is not _FAILED:
        _drop_from_file(key)
        return None
    sessions = _read_file()
    sessions[key] = token
    return _write_file(sessions)


def load(database_url: str) -> str | None:
    """The saved token for this database, or None."""
    key = key_for(database_url)
    token = _read_file().get(key)
    if token:
        return token
    found = _in_keyring("get_password", key)
    return None if found is _FAILED else found or None


def forget(database_url: str) -> None:
    """Remove the token from the keyring and from the fallback file."""
    key = key_for(database_url)
    _in_keyring("delete_password", key)
    _drop_from_file(key)


def _drop_from_file(key: str) -> None:
    sessions = _read_file()
    if key in sessions:
        del sessions[key]
        _write_file(sessions)


def _read_file() -> dict[str, str]:
    try:
        data = json.loads(fallback_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_file(sessions: dict[str, str]) -> Path:
    """Write the file as 0600 (created that way, never briefly readable by others)."""
    path = fallback_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(sessions, handle, indent=1, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
