"""Helpers for the fault tests: the real CLI in a child process, bounded waits, and looks at the
database from the side (which backend is doing what, who holds which lock)."""

from __future__ import annotations

import functools
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import open_database
from clinic_desk.store.models import User
from tests.factories import DEFAULT_PASSWORD, make_user

T = TypeVar("T")

# Waits end on an event; these ceilings only stop a broken run from hanging on a loaded machine.
CEILING_S = 120.0


def wait_for(check: Callable[[], T], what: str, *, timeout: float = CEILING_S, interval: float = 0.01) -> T:
    """Poll ``check`` until it returns something truthy, and return that; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# -- users a child process can log in as ------------------------------------------


@functools.cache
def _production_hash() -> str:
    """DEFAULT_PASSWORD hashed with the production argon2 parameters: a child process running the
    real CLI then finds nothing to rehash, so logging in writes nothing."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(DEFAULT_PASSWORD)


def desk_user(role: str, username: str) -> User:
    user = make_user(role, username)
    User.update(password_hash=_production_hash()).where(User.id == user.id).execute()
    return user


# -- the real CLI in a child process ------------------------------------------------


def cli_env(url: str, **extra: str) -> dict[str, str]:
    """This test's environment (isolated dirs and clinic time zone) aimed at ``url``."""
    return {**os.environ, "CLINIC_DESK_DATABASE_URL": url, **extra}


def start_cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "clinic_desk", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clinic_desk", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CEILING_S,
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=CEILING_S)
    return process.returncode, out, err


# -- a fresh database for one test ----------------------------------------------------


def bind_fresh(url: str) -> None:
    """Bind this process to the empty database at ``url`` and migrate it."""
    from clinic_desk.store import migrate

    open_database(url)
    migrate.upgrade()


def release_proxy() -> None:
    if proxy.obj is not None and not proxy.is_closed():
        proxy.close()


# -- PostgreSQL, seen from another connection -------------------------------------------


def pg_admin(url: str):
    """An autocommit psycopg2 connection to the database at ``url`` (not the proxy's)."""
    import psycopg2

    conn = psycopg2.connect(url, application_name="fault-test")
    conn.autocommit = True
    return conn


def pg_rows(conn, sql: str, params: tuple = ()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def pg_backend_gone(conn, pid: int) -> bool:
    return not pg_rows(conn, "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))


def pg_terminate(conn, pid: int) -> None:
    """End the server process of another connection and wait until it is gone."""
    [(done,)] = pg_rows(conn, "SELECT pg_terminate_backend(%s)", (pid,))
    assert done, f"backend {pid} was not there to terminate"
    wait_for(lambda: pg_backend_gone(conn, pid), f"backend {pid} to end")


def pg_writer_of(conn, table: str) -> int | None:
    """The clinic-desk backend that holds a write lock on ``table`` in an open transaction, if any."""
    rows = pg_rows(
        conn,
        "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.relation = %s::regclass AND l.mode = 'RowExclusiveLock' AND l.granted"
        " AND a.datname = current_database() AND a.application_name = 'clinic-desk'"
        " AND a.pid <> pg_backend_pid()",
        (table,),
    )
    return rows[0][0] if rows else None


# -- SQLite, seen from another connection -------------------------------------------------


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def sqlite_write_lock_held(path: Path) -> bool:
    """True when another connection holds the write lock (probed with a zero busy timeout)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return True
    finally:
        conn.close()


def sqlite_truncate_wal(path: Path) -> None:
    """Checkpoint the write-ahead log into the database and cut it to nothing."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert not busy, "another connection kept the write-ahead log from being truncated"
    finally:
        conn.close()


def wal_size(path: Path) -> int:
    try:
        return os.path.getsize(f"{path}-wal")
    except FileNotFoundError:
        return 0
