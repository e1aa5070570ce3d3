"""The booking race's child processes (spawned: each opens the database itself).

Every worker gets its own picks from the hot set (a seeded shuffle, so desks collide like real
ones), books one warm-up slot before the start barrier (connections open, templates compiled) and
reports (index, started, finished, booked, conflicts, other refusals, first refusal).
"""

from __future__ import annotations

import time
from collections.abc import Sequence


def _profiled(profile_path: str | None, work):
    if not profile_path:
        return work()
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(work)
    finally:
        profiler.dump_stats(profile_path)


def service_worker(
    url: str,
    index: int,
    actor,
    picks: Sequence[tuple[int, int]],
    warm_up: tuple[int, int],
    now,
    profile_path: str | None,
    barrier,
    results,
) -> None:
    """Book (slot, patient) pairs through ``services.booking.book``: the desk's whole path."""
    from clinic_desk.errors import ClinicError, Conflict
    from clinic_desk.services import booking, clock
    from clinic_desk.store.db import db

    from .scratch import bind

    bind(url)
    clock.set_now(now)
    booking.book(actor, warm_up[1], warm_up[0])
    barrier.wait()

    def work():
        booked = conflicts = other = 0
        first_error = ""
        started = time.perf_counter()
        for slot_id, patient_id in picks:
            try:
                booking.book(actor, patient_id, slot_id, "race")
                booked += 1
            except Conflict:
                conflicts += 1
            except ClinicError as exc:
                other += 1
                first_error = first_error or exc.message
        return started, time.perf_counter(), booked, conflicts, other, first_error

    outcome = _profiled(profile_path, work)
    db.close()
    results.put((index, *outcome))


def raw_worker(
    backend: str,
    target: str,
    index: int,
    picks: Sequence[tuple[int, int]],
    warm_up: tuple[int, int],
    profile_path: str | None,
    barrier,
    results,
) -> None:
    """The baseline: a plain ``INSERT`` per booking into ``bench_race`` (UNIQUE(slot_id)),
    autocommit, on the bare driver; a unique violation is a lost race."""
    if backend == "postgresql":
        import psycopg2
        from psycopg2 import errors

        conn = psycopg2.connect(target)
        conn.autocommit = True
        cursor = conn.cursor()
        sql = "INSERT INTO bench_race (slot_id, patient_id, booked_at) VALUES (%s, %s, now())"
        lost = errors.UniqueViolation
    else:
        import sqlite3

        conn = sqlite3.connect(target, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = normal")
        cursor = conn.cursor()
        sql = "INSERT INTO bench_race (slot_id, patient_id, booked_at) VALUES (?, ?, datetime('now'))"
        lost = sqlite3.IntegrityError
    cursor.execute(sql, warm_up)
    barrier.wait()

    def work():
        booked = conflicts = 0
        started = time.perf_counter()
        for pair in picks:
            try:
                cursor.execute(sql, pair)
                booked += 1
            except lost:
                conflicts += 1
        return started, time.perf_counter(), booked, conflicts, 0, ""

    outcome = _profiled(profile_path, work)
    conn.close()
    results.put((index, *outcome))
