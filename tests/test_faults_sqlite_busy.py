"""SQLite allows one writer at a time: a desk that waits longer than ``database.busy_timeout_ms``
for another writer gets one clear "database busy" line (exit 1) and has written nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from clinic_desk.store.models import AuditEvent, LedgerEntry, TimeSlot
from tests.conftest import PG_URL
from tests.factories import login_env, make_doctor, make_patient, make_user
from tests.fault_support import sqlite_path

pytestmark = [
    pytest.mark.skipif(bool(PG_URL), reason="SQLite's single-writer lock: runs in the SQLite pass"),
    pytest.mark.usefixtures("frozen_clock"),
]

BUSY = "error: database busy: another desk holds the lock, try again\n"
SHORT_WAIT = {"CLINIC_DESK_DATABASE_BUSY_TIMEOUT_MS": "150"}


@contextmanager
def another_writer(url: str) -> Iterator[None]:
    """Another connection holds the write lock (``BEGIN IMMEDIATE``) for the length of the block."""
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _rows() -> tuple[int, int, int]:
    return LedgerEntry.select().count(), TimeSlot.select().count(), AuditEvent.select().count()


def test_a_deposit_waiting_past_the_busy_timeout_is_one_busy_line_and_writes_nothing(cli, db):
    make_user("reception", "desk")
    patient = make_patient()
    env = {**login_env("desk"), **SHORT_WAIT}
    with another_writer(db):
        result = cli("wallet", "deposit", str(patient.id), "25.00", env=env)
    assert (result.code, result.err, result.out) == (1, BUSY, "")
    assert _rows() == (0, 0, 0)
    # The lock was the only reason: once it is released the same command goes through.
    again = cli("wallet", "deposit", str(patient.id), "25.00", env=env)
    assert again.code == 0, again.err
    assert LedgerEntry.select().count() == 1


def test_a_slot_generation_waiting_past_the_busy_timeout_is_one_busy_line_and_writes_nothing(cli, db):
    make_user("admin", "boss")
    make_doctor("drlee")
    args = ("slots", "generate", "--doctor", "drlee", "--from", "2027-04-05", "--to", "2027-04-09")
    args += ("--start", "09:00", "--end", "12:00", "--length", "30")
    with another_writer(db):
        result = cli(*args, env={**login_env("boss"), **SHORT_WAIT})
    assert (result.code, result.err) == (1, BUSY)
    assert _rows() == (0, 0, 0)


def test_reading_goes_on_while_another_desk_holds_the_write_lock(cli, db):
    make_user("reception", "desk")
    patient = make_patient()
    with another_writer(db):
        result = cli("wallet", "show", str(patient.id), "--json", env={**login_env("desk"), **SHORT_WAIT})
    assert result.code == 0, result.err
    assert result.json()["balance"] == "0.00"
