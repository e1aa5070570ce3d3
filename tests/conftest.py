"""Shared fixtures: every test on SQLite, and on PostgreSQL too when CLINIC_DESK_TEST_DATABASE_URL is set.

The session gets a fresh database (a new PostgreSQL database, or a new SQLite file), migrated once;
``db`` empties every table after each test. ``cli`` runs the real CLI in-process.
"""

from __future__ import annotations

import io
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import keyring
import pytest
from keyring.backend import KeyringBackend

from clinic_desk import config
from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
from clinic_desk.services import clock
from clinic_desk.store import migrate
from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import open_database
from clinic_desk.store.models import ALL_MODELS

PG_URL = os.environ.get("CLINIC_DESK_TEST_DATABASE_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"
TEST_TZ = "Europe/Berlin"
# A Thursday morning, before the 2027 spring DST change; tests move it when they need to.
FROZEN_NOW = datetime(2027, 3, 4, 7, 30, tzinfo=UTC)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring so that no test touches the user's real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


# -- databases ----------------------------------------------------------------


def _admin_connect(url: str):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def create_scratch_database(tmp_dir) -> str:
    """A new, empty database on the backend under test; returns its URL."""
    if not PG_URL:
        return f"sqlite:///{tmp_dir}/clinic-{uuid.uuid4().hex[:8]}.db"
    name = f"clinic_desk_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = _admin_connect(PG_URL)
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path="/" + name))


def drop_scratch_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    name = urlsplit(url).path.lstrip("/")
    conn = _admin_connect(PG_URL)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def test_settings(url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url),
        clinic=ClinicSettings(name="Test Clinic", timezone=TEST_TZ, currency="EUR"),
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = create_scratch_database(tmp_path_factory.mktemp("db"))
    open_database(url)
    migrate.upgrade()
    proxy.close()
    yield url
    if not proxy.is_closed():
        proxy.close()
    drop_scratch_database(url)


@pytest.fixture
def scratch_database_url(tmp_path) -> Iterator[str]:
    """A second, unmigrated database for migration and restore tests."""
    url = create_scratch_database(tmp_path)
    yield url
    drop_scratch_database(url)


def _empty_all_tables() -> None:
    tables = [model._meta.table_name for model in reversed(ALL_MODELS)]
    if PG_URL:
        proxy.execute_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        with proxy.atomic():
            for table in tables:
                proxy.execute_sql(f"DELETE FROM {table}")
            proxy.execute_sql("DELETE FROM sqlite_sequence")


@pytest.fixture
def db(database_url: str) -> Iterator[str]:
    """The migrated test database, bound and empty; yields its URL."""
    config.use(test_settings(database_url))
    open_database(database_url)
    yield database_url
    clock.set_now(None)
    if proxy.obj is not None and not proxy.is_closed() and proxy.in_transaction():
        proxy.rollback()
    open_database(database_url)  # a CLI run may have bound the proxy elsewhere
    try:
        _empty_all_tables()
    finally:
        proxy.close()


@pytest.fixture
def frozen_clock() -> Iterator[datetime]:
    clock.set_now(FROZEN_NOW)
    yield FROZEN_NOW
    clock.set_now(None)


# -- the environment each test runs in ------------------------------------------


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch) -> Iterator[MemoryKeyring]:
    """No test reads the user's config, keyring, data or log dirs, or leaks env settings."""
    for name in list(os.environ):
        if name.startswith("CLINIC_DESK_") and name != "CLINIC_DESK_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    monkeypatch.setenv("CLINIC_DESK_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setenv("CLINIC_DESK_CLINIC_TIMEZONE", TEST_TZ)
    monkeypatch.setenv("CLINIC_DESK_CLINIC_NAME", "Test Clinic")
    from argon2 import PasswordHasher

    from clinic_desk.services import accounts

    # Real argon2id, at the cheapest parameters, so that hundreds of logins stay fast.
    monkeypatch.setattr(accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", None)
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    config.use(Settings(clinic=ClinicSettings(name="Test Clinic", timezone=TEST_TZ)))
    yield backend
    keyring.set_keyring(previous)
    clock.set_now(None)


# -- the CLI, in-process --------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(db: str, monkeypatch):
    """Run ``clinic-desk ARGS`` in-process against the test database: cli("doctor", "list", env={...})."""
    from clinic_desk.cli import run

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        with monkeypatch.context() as m:
            m.setenv("CLINIC_DESK_DATABASE_URL", db)
            for key, value in (env or {}).items():
                m.setenv(key, value)
            m.setattr(sys, "stdin", io.StringIO(input or ""))
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = run(list(args))
        return CliResult(code, out.getvalue(), err.getvalue())

    return invoke

