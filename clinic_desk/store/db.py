"""Database setup: one ``DatabaseProxy`` bound to SQLite or PostgreSQL from a URL.

Peewee keeps one connection per thread, so TUI workers each get their own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from peewee import Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase

db = DatabaseProxy()

CHANGES_CHANNEL = "clinic_desk_changes"


def open_database(url: str, *, password: str = "", busy_timeout_ms: int = 5000, connect_timeout_s: int = 5) -> Database:
    """Bind the proxy to the database at ``url`` and return it (the connection opens lazily)."""
    database = make_database(
        url, password=password, busy_timeout_ms=busy_timeout_ms, connect_timeout_s=connect_timeout_s
    )
    if db.obj is not None and not db.is_closed() and not db.in_transaction():
        db.close()
    db.initialize(database)
    return database


def make_database(url: str, *, password: str = "", busy_timeout_ms: int = 5000, connect_timeout_s: int = 5) -> Database:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////absolute/path.db")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            str(Path(path).expanduser()) if path != ":memory:" else path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_ms,
                "synchronous": "normal",
                "wal_autocheckpoint": 10000,  # pages: bulk writes checkpoint ~40 MB at a time, not 4 MB
            },
            timeout=busy_timeout_ms / 1000,
            lock_type="IMMEDIATE",
            check_same_thread=False,
        )
    if parts.scheme in {"postgresql", "postgres"}:
        params: dict[str, object] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else (password or None),
            "connect_timeout": connect_timeout_s,
            "options": "-c timezone=UTC",
            "application_name": "clinic-desk",
        }
        name = unquote(parts.path.lstrip("/")) or "clinic_desk"
        return PostgresqlDatabase(name, **{k: v for k, v in params.items() if v is not None})
    raise ValueError(f"unsupported database URL {url!r}")


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def reset_connection() -> None:
    """Drop this thread's connection after a failure so that the next call reconnects."""
    state = db.obj._state
    conn = state.conn
    state.reset()
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - the connection is already broken
            pass


def notify_change(payload: str) -> None:
    """Tell other desks that slots or appointments changed (delivered at commit on PostgreSQL).

    SQLite needs nothing: readers poll ``PRAGMA data_version``.
    """
    if is_postgres():
        db.execute_sql("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, payload))
