"""One transaction per service call, and database failures turned into one clear line.

``@writes``: the call runs in one transaction (``BEGIN IMMEDIATE`` on SQLite), joined by any
service it calls. ``@reads``: no write lock; on PostgreSQL a transaction for a consistent view.
A connection the server dropped (restart, ``pg_terminate_backend``) is replaced and the call is
tried once more when nothing of it can have been written (a read, or a write whose transaction
never began); otherwise the call fails with "database unavailable" and its transaction is gone.
Another writer holding SQLite's lock past the busy timeout, or PostgreSQL rolling this
transaction back for a deadlock or a concurrent update, is "database busy". Driver errors from
raw cursors (bulk COPY), which Peewee does not wrap, are judged the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from peewee import IntegrityError

from ..errors import BadInput, Conflict, DatabaseBusy, DatabaseUnavailable, Refused
from ..store.db import db, is_postgres, reset_connection

P = ParamSpec("P")
R = TypeVar("R")

_CONNECTION_HINTS = (
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "could not connect",
    "connection refused",
    "connection to server",
    "the database system is",
    "ssl syscall",
    "no connection to the server",
    "connection has been closed",
    "cursor already closed",
)


# SQLSTATEs: a deadlock or serialization failure rolled the transaction back, or a lock was refused.
_BUSY_CODES = {"40P01", "40001", "55P03"}
# Admin shutdown, crash shutdown, cannot connect now; class 08 is "connection exception".
_LOST_CODES = {"57P01", "57P02", "57P03"}


def _driver_error(exc: BaseException) -> BaseException:
    """The driver's exception: Peewee keeps it as ``orig`` on its own."""
    inner = getattr(exc, "orig", None)
    return inner if isinstance(inner, BaseException) else exc


def _is_a(exc: BaseException, dbapi_class: str) -> bool:
    """Whether ``exc`` is a DB-API ``dbapi_class`` of Peewee, psycopg2 or sqlite3 (matched by name,
    as Peewee itself does)."""
    return any(cls.__name__ == dbapi_class for cls in type(exc).__mro__)


def is_database_error(exc: BaseException) -> bool:
    return _is_a(exc, "DatabaseError") or _is_a(exc, "InterfaceError")


def _sqlstate(exc: BaseException) -> str:
    return getattr(_driver_error(exc), "pgcode", None) or ""


def is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    locked = "database is locked" in text or "database table is locked" in text or "database is busy" in text
    return locked or _sqlstate(exc) in _BUSY_CODES


def is_connection_lost(exc: BaseException) -> bool:
    if _is_a(exc, "InterfaceError"):
        return True
    code = _sqlstate(exc)
    if code.startswith("08") or code in _LOST_CODES:
        return True
    text = str(exc).lower()
    return any(hint in text for hint in _CONNECTION_HINTS)


def translate(exc: BaseException) -> Exception:
    """The user-facing error for a database exception that no service handled itself."""
    text = str(exc).lower()
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return Refused("the database has no schema yet: run `clinic-desk db upgrade`")
    if "file is not a database" in text:
        return BadInput("the database file is not an SQLite database: check --database or database.url")
    if _is_a(exc, "IntegrityError"):
        return Conflict(f"refused by the database: {_first_line(exc)}")
    if is_busy(exc):
        return DatabaseBusy()
    if _is_a(exc, "OperationalError") or is_connection_lost(exc):
        return DatabaseUnavailable()
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _run(call: Callable[[], R], *, write: bool) -> R:
    if db.in_transaction():
        return call()
    use_transaction = write or is_postgres()
    for attempt in (1, 2):
        started = False
        try:
            if not use_transaction:
                return call()
            with db.atomic():
                started = True
                return call()
        except IntegrityError:
            raise  # the service's own business (a lost race it may turn into a clear refusal)
        except Exception as exc:
            if not is_database_error(exc):
                raise
            lost = is_connection_lost(exc)
            if lost:
                reset_connection()
                if attempt == 1 and (not started or not write):
                    continue  # nothing was written: a fresh connection gets one more try
            translated = translate(exc)
            if translated is exc:
                raise  # a database error with no user-facing meaning: a bug, logged by the front end
            raise translated from exc
    raise DatabaseUnavailable()


def writes(fn: Callable[P, R]) -> Callable[P, R]:
    """Run the service function in one write transaction."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return _run(lambda: fn(*args, **kwargs), write=True)

    return wrapper


def reads(fn: Callable[P, R]) -> Callable[P, R]:
    """Run the service function as a read (no write lock on SQLite)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return _run(lambda: fn(*args, **kwargs), write=False)

    return wrapper
