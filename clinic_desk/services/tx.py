"""One transaction per service call, and database failures turned into one clear line.

``@writes``: the call runs in one transaction (``BEGIN IMMEDIATE`` on SQLite), joined by any
service it calls. ``@reads``: no write lock; on PostgreSQL a transaction for a consistent view.
A connection the server dropped (restart, ``pg_terminate_backend``) is replaced and the call is
tried once more when the failure came before any statement ran; otherwise the call fails with
"database unavailable" and nothing of it was written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from peewee import DatabaseError, IntegrityError, InterfaceError, OperationalError

from ..errors import Conflict, DatabaseBusy, DatabaseUnavailable, Refused
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


def is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    text = str(exc).lower()
    return any(hint in text for hint in _CONNECTION_HINTS)


def translate(exc: BaseException) -> Exception:
    """The user-facing error for a database exception that no service handled itself."""
    text = str(exc).lower()
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return Refused("the database has no schema yet: run `clinic-desk db upgrade`")
    if isinstance(exc, IntegrityError):
        return Conflict(f"refused by the database: {_first_line(exc)}")
    if is_busy(exc):
        return DatabaseBusy()
    if isinstance(exc, (OperationalError, InterfaceError)) or is_connection_lost(exc):
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
        except (OperationalError, InterfaceError) as exc:
            lost = is_connection_lost(exc)
            if lost:
                reset_connection()
            if lost and attempt == 1 and (not started or not write):
                continue  # nothing was written: a fresh connection gets one more try
            raise translate(exc) from exc
        except IntegrityError:
            raise
        except DatabaseError as exc:
            if is_connection_lost(exc):
                reset_connection()
            raise translate(exc) from exc
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
