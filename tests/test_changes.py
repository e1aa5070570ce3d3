"""Live changes: another desk's commit wakes the watcher; nothing else does."""

from __future__ import annotations

import os
import threading
import time

import pytest

from clinic_desk.errors import DatabaseUnavailable
from clinic_desk.services import booking, slots
from clinic_desk.services.changes import ChangeWatcher
from clinic_desk.store.db import db as proxy
from tests.booking_support import bookable, staff


@pytest.fixture
def watcher(db):
    with ChangeWatcher(db, poll_interval=0.02) as watching:
        yield watching


def test_quiet_database_times_out(watcher):
    started = time.monotonic()
    assert watcher.wait(0.2) is False
    assert time.monotonic() - started >= 0.15


def test_a_booking_by_another_connection_wakes_the_watcher(watcher, frozen_clock):
    _, slot, patient = bookable()
    watcher.wait(0.05)  # the fixtures' own writes
    booking.book(staff(), patient.id, slot.id)
    assert watcher.wait(2) is True
    assert watcher.wait(0.1) is False  # each change is reported once


def test_a_change_committed_while_waiting_ends_the_wait(watcher, frozen_clock):
    _, slot, _ = bookable()
    watcher.wait(0.05)
    desk = staff()
    timer = threading.Timer(0.2, lambda: slots.block_slot(desk, slot.id))
    timer.start()
    try:
        started = time.monotonic()
        assert watcher.wait(5) is True
        assert time.monotonic() - started < 4
    finally:
        timer.join()


def test_a_rolled_back_change_wakes_nobody(watcher, frozen_clock):
    _, slot, patient = bookable()
    watcher.wait(0.05)
    with pytest.raises(RuntimeError):
        with proxy.atomic():
            booking.book(staff(), patient.id, slot.id)
            raise RuntimeError("the desk changed its mind")
    assert watcher.wait(0.3) is False


def test_an_unreachable_database_is_one_clear_error():
    with pytest.raises(DatabaseUnavailable):
        ChangeWatcher("postgresql://postgres@127.0.0.1:1/nowhere")


@pytest.mark.skipif(not os.environ.get("CLINIC_DESK_TEST_DATABASE_URL"), reason="LISTEN is PostgreSQL's")
def test_a_dropped_listen_connection_fails_once_then_reconnects(watcher):
    proxy.execute_sql("SELECT pg_terminate_backend(%s)", (watcher._conn.info.backend_pid,))
    with pytest.raises(DatabaseUnavailable):
        watcher.wait(1)
    assert watcher.wait(1) is True  # back, and changes may have been missed meanwhile
    assert watcher.wait(0.1) is False
