"""Scratch databases: a fresh PostgreSQL database per run (dropped WITH (FORCE) at the end) or a
SQLite file in a temporary directory; bound, configured for the clinic's time zone, migrated."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .sizes import TIMEZONE

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_URL_ENV = "CLINIC_DESK_BENCH_DATABASE_URL"


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


@dataclass(frozen=True)
class Scratch:
    backend: str  # sqlite | postgresql
    url: str
    workdir: Path  # temporary files of this backend's run (the SQLite file, XDG dirs, ...)

    @property
    def sqlite_path(self) -> str:
        return self.url[len("sqlite:///"):]


def postgres_version() -> str | None:
    """The server's version, or None when the admin URL does not answer."""
    try:
        conn = _admin_connect()
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL for this run
        return None
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        conn.close()


def _admin_connect():
    import psycopg2

    conn = psycopg2.connect(admin_url(), connect_timeout=5)
    conn.autocommit = True
    return conn


@contextmanager
def scratch_database(backend: str) -> Iterator[Scratch]:
    """A new empty database on ``backend`` with the schema migrated and the proxy bound to it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"clinic-desk-bench-{backend}-"))
    name = f"clinic_desk_bench_{os.getpid()}"
    if backend == "postgresql":
        conn = _admin_connect()
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        url = urlunsplit(urlsplit(admin_url())._replace(path="/" + name))
    else:
        url = f"sqlite:///{workdir / 'clinic.db'}"
    scratch = Scratch(backend, url, workdir)
    try:
        bind(url)
        from clinic_desk.store import migrate

        migrate.upgrade()
        yield scratch
    finally:
        from clinic_desk.store.db import db

        if db.obj is not None and not db.is_closed():
            db.close()
        if backend == "postgresql":
            conn = _admin_connect()
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()
        shutil.rmtree(workdir, ignore_errors=True)


def bind(url: str) -> None:
    """Configure this process for the clinic (time zone) and bind the store to ``url``."""
    from clinic_desk import config
    from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
    from clinic_desk.store.db import open_database

    config.use(
        Settings(database=DatabaseSettings(url=url), clinic=ClinicSettings(name="Bench Clinic", timezone=TIMEZONE))
    )
    open_database(url)


def child_environment(scratch: Scratch) -> dict[str, str]:
    """The environment of a clinic-desk child process: this database, the clinic's time zone,
    private config/data dirs (so no user file interferes; the keyring is the machine's own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_DESK_")}
    xdg = scratch.workdir / "xdg"
    env.update(
        CLINIC_DESK_DATABASE_URL=scratch.url,
        CLINIC_DESK_CLINIC_TIMEZONE=TIMEZONE,
        CLINIC_DESK_CLINIC_NAME="Bench Clinic",
        CLINIC_DESK_LOG_DIR=str(scratch.workdir / "log"),
        XDG_CONFIG_HOME=str(xdg / "config"),
        XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"),
        XDG_CACHE_HOME=str(xdg / "cache"),
        # Byte-code caches as an installed program has them (the first, untimed run writes them),
        # kept out of the source tree; this environment may have PYTHONDONTWRITEBYTECODE set.
        PYTHONPYCACHEPREFIX=str(scratch.workdir / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
