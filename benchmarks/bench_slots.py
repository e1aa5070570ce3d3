"""slots.generate: a year of weekday half-hour slots 09:00-17:00 for every doctor through the
service that `clinic-desk slots generate` calls (one call for all doctors, one transaction, as an
admin scripts it: `slots generate --doctor a --doctor b ...`), against the raw
limit of writing the same rows into a same-shaped table: one ``COPY`` (psycopg2 ``copy_expert``)
on PostgreSQL, one ``executemany`` transaction on raw ``sqlite3`` on SQLite. The baseline's rows
are formatted before its clock starts: it is the pure write."""

from __future__ import annotations

import io
import sqlite3
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from .dataset import People
from .report import Row
from .scratch import Scratch
from .sizes import FIRST_DAY, LAST_DAY, SLOTS_PER_DAY

ROUNDS = 3

# The same shape as time_slot (migration 0001): key, foreign key, checks, unique, index.
RAW_TABLE = """
CREATE TABLE bench_raw_slot (
    id {id},
    doctor_id INTEGER NOT NULL REFERENCES doctor (id) ON DELETE CASCADE,
    starts_at {ts} NOT NULL,
    ends_at {ts} NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'blocked')),
    CHECK (ends_at > starts_at),
    UNIQUE (doctor_id, starts_at)
)"""
RAW_INDEX = "CREATE INDEX bench_raw_slot_starts_at ON bench_raw_slot (starts_at)"


def _plan() -> dict[str, object]:
    from datetime import time as clock_time

    return dict(start=clock_time(9), end=clock_time(17), length=30)


def generate_all(people: People) -> tuple[float, int]:
    """Every doctor's year through one ``slotgen.generate`` call; (seconds, slots created)."""
    from clinic_desk.services import slotgen

    admin = people.actor("admin")
    usernames = [people.usernames[doctor_id] for doctor_id in people.doctor_ids]
    started = time.perf_counter()
    summary = slotgen.generate(admin, usernames, FIRST_DAY, LAST_DAY, **_plan())
    return time.perf_counter() - started, summary.created


def _candidate_rows(people: People, pg: bool) -> list[tuple[int, str, str]]:
    """The same slots the service creates, as text rows for the raw write."""
    from clinic_desk.services import slotgen
    from clinic_desk.services.timeutil import clinic_tz
    from clinic_desk.store.fields import to_sqlite_text

    plan = _plan()
    pattern = slotgen.day_pattern(plan["start"], plan["end"], plan["length"], ())
    rows = []
    for doctor_id in people.doctor_ids:
        candidates, _ = slotgen.plan(
            doctor_id, FIRST_DAY, LAST_DAY, weekdays=frozenset(range(5)), pattern=pattern, tz=clinic_tz()
        )
        for _, doctor, start, end in candidates:
            if pg:
                rows.append((doctor, time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(start)),
                             time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(end))))
            else:
                rows.append((doctor, to_sqlite_text(datetime.fromtimestamp(start, UTC)),
                             to_sqlite_text(datetime.fromtimestamp(end, UTC))))
    return rows


def raw_copy(rows: list[tuple[int, str, str]], scratch: Scratch) -> tuple[float, int]:
    """The baseline: (seconds, rows written)."""
    from clinic_desk.store.db import db

    if scratch.backend == "postgresql":
        ddl = RAW_TABLE.format(id="SERIAL PRIMARY KEY", ts="TIMESTAMPTZ")
        db.execute_sql(ddl)
        db.execute_sql(RAW_INDEX)
        text = "".join(f"{d}\t{s}\t{e}\n" for d, s, e in rows)
        conn = db.connection()
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.copy_expert("COPY bench_raw_slot (doctor_id, starts_at, ends_at) FROM STDIN", io.StringIO(text))
            cursor.execute("COMMIT")
        seconds = time.perf_counter() - started
        count = db.execute_sql("SELECT COUNT(*) FROM bench_raw_slot").fetchone()[0]
        db.execute_sql("DROP TABLE bench_raw_slot")
        return seconds, count
    db.close()  # the raw connection gets the file to itself
    conn = sqlite3.connect(scratch.sqlite_path, isolation_level=None)
    for pragma in ("journal_mode = wal", "synchronous = normal", "foreign_keys = 1", "busy_timeout = 5000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(RAW_TABLE.format(id="INTEGER PRIMARY KEY AUTOINCREMENT", ts="TEXT"))
    conn.execute(RAW_INDEX)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO bench_raw_slot (doctor_id, starts_at, ends_at) VALUES (?, ?, ?)", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    count = conn.execute("SELECT COUNT(*) FROM bench_raw_slot").fetchone()[0]
    conn.execute("DROP TABLE bench_raw_slot")
    conn.close()
    return seconds, count


def _remove_slots(scratch: Scratch) -> None:
    from clinic_desk.store.db import db

    if scratch.backend == "postgresql":
        db.execute_sql("TRUNCATE time_slot RESTART IDENTITY CASCADE")  # nothing references them yet
    else:
        db.execute_sql("DELETE FROM time_slot")


def run(people: People, scratch: Scratch, *, measure: bool, profile_dir: Path | None = None) -> list[Row]:
    """Generate the year's slots (always: the data set stands on them). When ``measure``: ROUNDS
    rounds, each the service from an empty slot table then the raw write, taking turns so that
    both see the same machine; the medians count. With ``profile_dir`` the first round runs under
    cProfile (its time then includes the profiler's overhead)."""
    if profile_dir:
        import cProfile

        profiler = cProfile.Profile()
        seconds, created = profiler.runcall(generate_all, people)
        profiler.dump_stats(profile_dir / f"slots.generate-{scratch.backend}.prof")
    else:
        seconds, created = generate_all(people)
    if not measure:
        return []
    expected = len(people.doctor_ids) * 261 * SLOTS_PER_DAY
    rows = _candidate_rows(people, scratch.backend == "postgresql")
    service, raw = [seconds], []
    counts = {created}
    for round_number in range(ROUNDS):
        raw_seconds, raw_count = raw_copy(rows, scratch)
        raw.append(raw_seconds)
        counts.add(raw_count)
        if round_number < ROUNDS - 1:
            _remove_slots(scratch)
            seconds, created = generate_all(people)
            service.append(seconds)
            counts.add(created)
    baseline = "raw COPY, same-shaped table" if scratch.backend == "postgresql" else "raw sqlite3 executemany, 1 tx"
    note = (f"{created:,} slots, one service call for {len(people.doctor_ids)} doctors; median of {ROUNDS} rounds"
            f" (service {', '.join(f'{t:.2f}' for t in service)} s; raw {', '.join(f'{t:.2f}' for t in raw)} s)")
    if counts != {expected}:
        note += f"; EXPECTED {expected:,} slots each time, got {sorted(counts)}"
    value = statistics.median(service)
    return [Row("slots.generate", scratch.backend, value, "s", baseline, statistics.median(raw), note,
                extra={"slots": created, "slots_per_second": round(created / value), "service_s": service, "raw_s": raw})]
