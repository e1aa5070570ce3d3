"""Live changes between desks: announce them in a transaction, wait for them in a worker thread.

PostgreSQL: ``NOTIFY`` on ``store.db.CHANGES_CHANNEL`` (delivered when the transaction commits, never
for one that rolls back) and ``LISTEN`` on a connection of the watcher's own. SQLite needs no
announcement: ``PRAGMA data_version`` changes whenever another connection commits, so the watcher
polls it.

    watcher = ChangeWatcher()          # the configured database
    while running:
        if watcher.wait(timeout=5):    # True: something changed, reload what is on screen
            ...
    watcher.close()
"""

from __future__ import annotations

import json
import select
import time
from typing import Any

from peewee import PostgresqlDatabase

from .. import config
from ..errors import DatabaseUnavailable
from ..store.db import CHANGES_CHANNEL, make_database, notify_change


def announce(entity: str, action: str, **ids: int | None) -> None:
    """Tell other desks that a slot or an appointment changed (inside the changing transaction)."""
    notify_change(json.dumps({"entity": entity, "action": action, **ids}, sort_keys=True))


class ChangeWatcher:
    """Waits for commits by other connections; one watcher per thread that waits."""

    def __init__(self, url: str | None = None, *, password: str | None = None, poll_interval: float = 0.25) -> None:
        settings = config.current()
        self._database = make_database(
            url or settings.database_url,
            password=settings.database.password if password is None else password,
            connect_timeout_s=settings.database.connect_timeout_s,
        )
        self._postgres = isinstance(self._database, PostgresqlDatabase)
        self._poll_interval = poll_interval
        self._conn: Any = None
        self._version: int | None = None
        self._connect()

    def _connect(self) -> None:
        try:
            conn = self._database._connect()
            if self._postgres:
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(f'LISTEN "{CHANGES_CHANNEL}"')
            else:
                self._version = conn.execute("PRAGMA data_version").fetchone()[0]
        except Exception as exc:  # noqa: BLE001 - any driver failure means the same to the desk
            raise DatabaseUnavailable() from exc
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as another desk committed a change.

        After a lost connection it reconnects and answers True (changes may have been missed);
        DatabaseUnavailable while the database cannot be reached.
        """
        if self._conn is None:
            self._connect()
            return True
        try:
            return self._wait_postgres(timeout) if self._postgres else self._wait_sqlite(timeout)
        except Exception as exc:  # noqa: BLE001 - the connection broke: start over next time
            self.close()
            raise DatabaseUnavailable() from exc

    def _wait_postgres(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self._conn.poll()
            if self._conn.notifies:
                self._conn.notifies.clear()
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            select.select([self._conn], [], [], remaining)

    def _wait_sqlite(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._version = version
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(self._poll_interval, remaining))

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
