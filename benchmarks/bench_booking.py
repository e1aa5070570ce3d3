"""booking.race: worker processes book from a hot set of free slots at once, through the service
layer (permission, checks, audit, outbox mail, change notice: the real path), with the full data
set in the database; then the database is searched for double bookings. Baseline: a plain INSERT
per booking into a table with UNIQUE(slot_id), holding as many rows as the appointment table,
from the same number of processes with the same picks.

Each worker takes its own seeded shuffle of the hot set and tries the first hot/workers of it,
each attempt for a different walk-in patient: some slots are wanted by two desks, most by one.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

from .dataset import Dataset
from .race_worker import raw_worker, service_worker
from .report import Row
from .scratch import Scratch
from .sizes import NOW, Sizes

SPAWN = multiprocessing.get_context("spawn")
TIMEOUT_S = 900


def _picks(data: Dataset, sizes: Sizes) -> list[list[tuple[int, int]]]:
    """Per worker: (slot, patient) pairs."""
    per_worker = len(data.hot_slots) // sizes.race_workers
    walk_ins = data.people.walk_in_ids
    picks = []
    for worker in range(sizes.race_workers):
        order = random.Random(1000 + worker).sample(data.hot_slots, len(data.hot_slots))[:per_worker]
        patients = walk_ins[worker * per_worker : (worker + 1) * per_worker]
        picks.append(list(zip(order, patients)))
    return picks


def _warm_ups(data: Dataset, sizes: Sizes) -> list[tuple[int, int]]:
    patients = data.people.walk_in_ids[sizes.race_slots :]
    return list(zip(data.warm_up_slots, patients))


def _race(target, arguments: list[tuple]) -> list[tuple]:
    barrier = SPAWN.Barrier(len(arguments))
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    return sorted(outcomes)


def _summary(outcomes: list[tuple]) -> tuple[float, int, int, int, str, float]:
    """(bookings per second, booked, conflicts, other refusals, first refusal, seconds)."""
    started = min(o[1] for o in outcomes)
    finished = max(o[2] for o in outcomes)
    booked = sum(o[3] for o in outcomes)
    conflicts = sum(o[4] for o in outcomes)
    other = sum(o[5] for o in outcomes)
    first_error = next((o[6] for o in outcomes if o[6]), "")
    seconds = finished - started
    return booked / seconds, booked, conflicts, other, first_error, seconds


def _prepare_raw_table(scratch: Scratch) -> None:
    from clinic_desk.store.db import db

    key = "SERIAL PRIMARY KEY" if scratch.backend == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    ts = "TIMESTAMPTZ" if scratch.backend == "postgresql" else "TEXT"
    db.execute_sql("DROP TABLE IF EXISTS bench_race")
    db.execute_sql(
        f"CREATE TABLE bench_race (id {key}, slot_id INTEGER NOT NULL UNIQUE, patient_id INTEGER NOT NULL,"
        f" booked_at {ts} NOT NULL)"
    )
    db.execute_sql(  # as many rows as the appointment table has active ones
        "INSERT INTO bench_race (slot_id, patient_id, booked_at)"
        " SELECT slot_id, patient_id, created_at FROM appointment WHERE status <> 'cancelled'"
    )
    if scratch.backend == "postgresql":
        db.execute_sql("VACUUM ANALYZE bench_race")


def double_bookings(data: Dataset) -> tuple[int, str]:
    """Slots with two active appointments, plus pairs of overlapping active visits of one race
    patient, plus hot slots whose appointment count differs from what the workers reported."""
    from clinic_desk.store.db import db

    slots = db.execute_sql(
        "SELECT COUNT(*) FROM (SELECT slot_id FROM appointment WHERE status <> 'cancelled'"
        " GROUP BY slot_id HAVING COUNT(*) > 1) AS doubled"
    ).fetchone()[0]
    first_walk_in = min(data.people.walk_in_ids)
    patients = db.execute_sql(
        "SELECT COUNT(*) FROM appointment a JOIN appointment b ON a.patient_id = b.patient_id AND a.id < b.id"
        f" WHERE a.patient_id >= {int(first_walk_in)} AND a.status <> 'cancelled' AND b.status <> 'cancelled'"
        " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
    ).fetchone()[0]
    return slots + patients, f"{slots} slots with 2+ active appointments, {patients} overlapping visits of one patient"


def run(data: Dataset, scratch: Scratch, sizes: Sizes, profile_dir: Path | None) -> list[Row]:
    from clinic_desk.store.db import db

    picks = _picks(data, sizes)
    warm_ups = _warm_ups(data, sizes)
    reception = data.people.actor("reception")
    attempts = sum(len(p) for p in picks)
    distinct = len({slot for worker in picks for slot, _ in worker})

    def profile(kind: str, index: int) -> str | None:
        return str(profile_dir / f"booking.race-{kind}-{scratch.backend}-w{index}.prof") if profile_dir else None

    _prepare_raw_table(scratch)
    db.close()  # the children get the database to themselves
    service = _race(
        service_worker,
        [(scratch.url, i, reception, picks[i], warm_ups[i], NOW, profile("service", i)) for i in range(len(picks))],
    )
    raw_target = scratch.url if scratch.backend == "postgresql" else scratch.sqlite_path
    raw = _race(
        raw_worker,
        [(scratch.backend, raw_target, i, picks[i], warm_ups[i], profile("raw", i)) for i in range(len(picks))],
    )
    rate, booked, conflicts, other, first_error, seconds = _summary(service)
    raw_rate, raw_booked, raw_conflicts, *_ = _summary(raw)
    found, how = double_bookings(data)
    hot_booked = db.execute_sql(
        "SELECT COUNT(*) FROM appointment WHERE status <> 'cancelled' AND reason = 'race'"
    ).fetchone()[0]
    db.execute_sql("DROP TABLE bench_race")
    note = (
        f"{sizes.race_workers} processes, {attempts:,} attempts on {distinct:,} distinct hot slots in {seconds:.2f} s:"
        f" {booked:,} booked, {conflicts:,} lost races, {other:,} other refusals"
        + (f" (first: {first_error})" if first_error else "")
        + f"; raw: {raw_booked:,} booked, {raw_conflicts:,} lost"
    )
    double_note = how + (f"; EXPECTED {booked} race appointments, found {hot_booked}" if hot_booked != booked else "")
    return [
        Row("booking.race", scratch.backend, rate, "bookings/s", f"plain INSERT, UNIQUE(slot_id), {sizes.race_workers} procs",
            raw_rate, note, extra={"attempts": attempts, "booked": booked, "conflicts": conflicts, "other": other,
                                   "raw_booked": raw_booked, "seconds": round(seconds, 3)}),
        Row("booking.double_bookings", scratch.backend, found, "count", None, None,
            f"{double_note} (no baseline: a count that must be 0)"),
    ]
