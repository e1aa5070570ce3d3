"""A bulk run killed (SIGKILL) in the middle of its write: afterwards the database holds all of that
run or none of it, and it is intact and usable.

The real CLI runs in a child process on a run large enough to be caught writing, and the test
watches the database from the side and kills the child once it is past its first chunk of rows
(see WriteWatch): a run that committed chunk by chunk would leave a part behind and fail here.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from clinic_desk.services import slotgen, slotimport
from clinic_desk.store.db import db as proxy
from clinic_desk.store.models import AuditEvent, TimeSlot
from tests.conftest import PG_URL
from tests.factories import actor_for, login_env, make_doctor, make_user
from tests.fault_support import (
    CEILING_S,
    cli_env,
    desk_user,
    pg_admin,
    pg_backend_gone,
    pg_rows,
    pg_writer_of,
    release_proxy,
    sqlite_path,
    sqlite_truncate_wal,
    sqlite_write_lock_held,
    start_cli,
    wait_for,
    wal_size,
)

DOCTORS = ("bulk0", "bulk1", "bulk2")
SLOTS_PER_DAY = 12 * 12  # 08:00-20:00 in 5-minute slots (never near a daylight-saving change)
FIRST = date(2028, 1, 3)
WRITTEN = 2 << 20  # past the first of the run's 20,000-row chunks: well into the write


@pytest.fixture
def fresh(db) -> str:
    """An admin the child logs in as, and the doctors of the run."""
    desk_user("admin", "boss")
    for username in DOCTORS:
        make_doctor(username)
    return db


def _generate_args(days: int) -> list[str]:
    args = ["slots", "generate", "--json", "--weekdays", "mon-sun", "--start", "08:00", "--end", "20:00"]
    args += ["--length", "5", "--from", FIRST.isoformat(), "--to", (FIRST + timedelta(days=days - 1)).isoformat()]
    for username in DOCTORS:
        args += ["--doctor", username]
    return args


def _import_file(path: Path, days: int) -> Path:
    lines = ["doctor,date,start,end"]
    for username in DOCTORS:
        for n in range(days):
            day = (FIRST + timedelta(days=n)).isoformat()
            for minute in range(8 * 60, 20 * 60, 5):
                end = minute + 5
                lines.append(f"{username},{day},{minute // 60:02d}:{minute % 60:02d},{end // 60:02d}:{end % 60:02d}")
    path.write_text("\n".join(lines) + "\n")
    return path


class WriteWatch:
    """Watches, from the database's side, for a run writing its rows uncommitted: on PostgreSQL a
    clinic-desk backend holding a write lock on time_slot while the table's file grows; on SQLite
    the write lock held while the write-ahead log grows."""

    def __init__(self, url: str) -> None:
        self.admin = pg_admin(url) if PG_URL else None
        self.path = None if PG_URL else sqlite_path(url)
        if self.path is not None:
            sqlite_truncate_wal(self.path)  # so that the run's own writes make it grow
        self.baseline = self._size()

    def _size(self) -> int:
        if self.admin is not None:
            return pg_rows(self.admin, "SELECT pg_relation_size('time_slot')")[0][0]
        return wal_size(self.path)

    def writer(self) -> int | bool:
        """The writing backend's pid (True on SQLite) once well into the write, else False."""
        if self._size() <= self.baseline + WRITTEN:
            return False
        if self.admin is not None:
            return pg_writer_of(self.admin, "time_slot") or False
        return sqlite_write_lock_held(self.path)

    def wait_until_gone(self, writer: int | bool) -> None:
        """The server ends a dead client's transaction when it notices: wait until it has."""
        if self.admin is not None:
            wait_for(lambda: pg_backend_gone(self.admin, writer), "the killed run's backend to end")

    def close(self) -> None:
        if self.admin is not None:
            self.admin.close()


def _kill_while_writing(process: subprocess.Popen, url: str) -> None:
    watch = WriteWatch(url)
    try:

        def writing() -> int | bool:
            if process.poll() is not None:
                raise AssertionError(f"the run ended before it was caught writing: {process.communicate()}")
            return watch.writer()

        writer = wait_for(writing, "the bulk run to write its rows")
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=CEILING_S)
        assert process.returncode == -signal.SIGKILL  # it was still running: the kill landed mid-run
        watch.wait_until_gone(writer)
    finally:
        watch.close()


def _slots() -> int:
    return TimeSlot.select().count()


def _assert_intact() -> None:
    if not PG_URL:
        assert proxy.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_sigkill_during_slots_generate_leaves_all_or_nothing_and_a_usable_database(fresh):
    days = slotgen.MAX_DAYS
    release_proxy()
    run = start_cli(*_generate_args(days), env=cli_env(fresh, **login_env("boss")))
    _kill_while_writing(run, fresh)

    _assert_intact()
    total = len(DOCTORS) * days * SLOTS_PER_DAY
    assert _slots() in (0, total)
    assert AuditEvent.select().where(AuditEvent.action == "slots.generate").count() == (1 if _slots() else 0)
    # Usable: the first week again creates what is missing and skips what is there.
    week = slotgen.generate(
        actor_for(make_user("admin")), list(DOCTORS), FIRST, FIRST + timedelta(days=6),
        start=time(8), end=time(20), length=5, weekdays=frozenset(range(7)),
    )
    week_total = len(DOCTORS) * 7 * SLOTS_PER_DAY
    assert (week.created, week.skipped_existing) in ((week_total, 0), (0, week_total))
    assert _slots() in (week_total, total)


def test_sigkill_during_slots_import_leaves_all_or_nothing_and_a_usable_database(fresh, tmp_path):
    days = 180
    csv_file = _import_file(tmp_path / "slots.csv", days)
    release_proxy()
    run = start_cli("slots", "import", str(csv_file), env=cli_env(fresh, **login_env("boss")))
    _kill_while_writing(run, fresh)

    _assert_intact()
    total = len(DOCTORS) * days * SLOTS_PER_DAY
    assert _slots() in (0, total)
    assert AuditEvent.select().where(AuditEvent.action == "slots.import").count() == (1 if _slots() else 0)
    # Usable: importing the first day again creates what is missing and skips what is there.
    first_day = "\n".join(csv_file.read_text().splitlines()[: 1 + SLOTS_PER_DAY]) + "\n"
    again = slotimport.import_slots(actor_for(make_user("admin")), first_day)
    assert (again.created, again.skipped_existing) in ((SLOTS_PER_DAY, 0), (0, SLOTS_PER_DAY))
