"""query.next_free and query.month_occupancy: the service functions in-process on the full data
set, the median of several calls after a warm-up. Baseline: the very SQL the service sent
(captured from Peewee's query log) replayed on the bare driver cursor, so the ratio is what the
service layer and the ORM add on top of the database's own time."""

from __future__ import annotations

import cProfile
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .dataset import Dataset
from .processes import median
from .report import Row
from .scratch import Scratch
from .sizes import NOW, Sizes


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            sql, params = record.msg
            if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
                self.statements.append((sql, tuple(params or ())))


def _statements_of(call: Callable[[], object]) -> list[tuple[str, tuple]]:
    logger = logging.getLogger("peewee")
    handler, level = _Captured(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        call()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return handler.statements


def _timed(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Milliseconds per call, the calls taking turns; one warm-up call each first."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def _replay(statements: list[tuple[str, tuple]]) -> Callable[[], None]:
    from clinic_desk.store.db import db

    def run() -> None:
        cursor = db.connection().cursor()
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
        cursor.close()

    return run


def run(data: Dataset, scratch: Scratch, sizes: Sizes, profile_dir: Path | None, names: set[str]) -> list[Row]:
    from clinic_desk.services import queries

    reception = data.people.actor("reception")
    specialty = data.people.specialty[data.busiest_doctor]
    month = NOW.month
    cases = {
        "query.next_free": (
            lambda: queries.next_free_slot(reception, specialty, NOW),
            f"next free {specialty} slot after {NOW:%Y-%m-%d %H:%M} UTC"
            f" ({sum(1 for s in data.people.specialty.values() if s == specialty)} doctors)",
        ),
        "query.month_occupancy": (
            lambda: queries.month_occupancy(reception, data.busiest_doctor, NOW.year, month),
            f"{data.busiest_username} (busiest doctor), {NOW.year}-{month:02d}",
        ),
    }
    rows = []
    for name, (call, what) in cases.items():
        if name not in names:
            continue
        statements = _statements_of(call)
        measured = _timed({"service": call, "raw": _replay(statements)}, sizes.query_runs)
        times, raw_times = measured["service"], measured["raw"]
        if profile_dir:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [call() for _ in range(sizes.query_runs)])
            profiler.dump_stats(profile_dir / f"{name}-{scratch.backend}.prof")
        rows.append(Row(
            name, scratch.backend, median(times), "ms", f"same SQL ({len(statements)} stmt) on the bare cursor",
            median(raw_times), f"{what}; median of {len(times)} (max {max(times):.2f} ms)",
            extra={"runs_ms": [round(t, 3) for t in times], "sql": [sql for sql, _ in statements]},
        ))
    return rows
