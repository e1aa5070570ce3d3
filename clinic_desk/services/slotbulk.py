"""Set-based slot creation shared by generation and CSV import.

Two paths, both in the caller's transaction and under a per-doctor advisory lock on PostgreSQL
(SQLite's ``BEGIN IMMEDIATE`` already lets one writer in at a time), so that two admins generating
for one doctor at once cannot create overlaps:

- *Clear schedule* (the common case: next year's slots): a doctor has no slot anywhere within the
  time span of their candidates, which one index probe shows. All their candidates are new, and
  the rows are written straight into ``time_slot``: ``COPY`` on PostgreSQL, ``executemany`` on the
  raw connection on SQLite.
- *The other doctors' candidates* (UTC epoch seconds) are streamed into a temporary table the same
  way; one statement sorts each into *new*, *existing* (an identical slot is already there) or
  *conflict* (it overlaps a different slot of that doctor), and one ``INSERT ... SELECT`` creates
  the new ones.

Why one lookup per candidate suffices: a doctor's slots never overlap, so sorted by start they
are sorted by end too; the only existing slot that can overlap a candidate is the latest one that
starts before the candidate ends (an index probe on ``UNIQUE (doctor_id, starts_at)``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..store.db import db, is_postgres
from ..store.fields import from_db
from ..store.models import TimeSlot

# (tag, doctor_id, starts_at, ends_at): tag is the CSV row number for imports, 0 for generation;
# times are UTC epoch seconds.
Candidate = tuple[int, int, int, int]
Progress = Callable[[int, int], None]

NEW, EXISTING, CONFLICT = 0, 1, 2
_CHUNK = 20_000
_LOCK_CLASS = 0x736C6F74  # "slot": the first key of pg_advisory_xact_lock(class, doctor_id)
_EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Overlap:
    """A candidate that overlaps a different existing slot."""

    tag: int
    doctor_id: int
    starts_at: datetime
    ends_at: datetime
    other_slot_id: int
    other_starts_at: datetime
    other_ends_at: datetime


@dataclass(frozen=True)
class BulkOutcome:
    created: int  # with dry_run: how many would be created
    existing: int
    conflicts: int
    overlaps: list[Overlap]  # the first ``overlap_limit`` conflicts, by doctor and time


def lock_doctors(doctor_ids: Sequence[int]) -> None:
    """Take each doctor's slot lock until the transaction ends (PostgreSQL; a no-op on SQLite)."""
    if is_postgres():
        for doctor_id in sorted(set(doctor_ids)):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, doctor_id))


def create_slots(
    candidates: Sequence[Candidate],
    *,
    dry_run: bool = False,
    overlap_limit: int = 10,
    progress: Progress | None = None,
) -> BulkOutcome:
    """Create the candidates that are new (unless ``dry_run``); count the existing and conflicting ones.

    Call inside a write transaction; candidates must not overlap one another. ``progress`` hears
    (rows written or loaded, all rows).
    """
    total = len(candidates)
    report = progress or (lambda done, all_rows: None)
    report(0, total)
    lock_doctors([c[1] for c in candidates])
    pg = is_postgres()
    clear = _doctors_with_clear_schedule(candidates)
    direct = [c for c in candidates if c[1] in clear]
    checked = [c for c in candidates if c[1] not in clear]
    if direct and not dry_run:
        _write_slots(pg, direct, lambda done: report(done, total))
    counts = {NEW: len(direct)}
    overlaps: list[Overlap] = []
    if checked:
        _load_candidates(pg, checked, lambda done: report(len(direct) + done, total))
        _classify(pg)
        for verdict, count in db.execute_sql("SELECT verdict, COUNT(*) FROM slot_verdict GROUP BY verdict"):
            counts[verdict] = counts.get(verdict, 0) + count
        if not dry_run:
            db.execute_sql(
                "INSERT INTO time_slot (doctor_id, starts_at, ends_at, status)"
                " SELECT doctor_id, starts_at, ends_at, 'open' FROM slot_verdict"
                f" WHERE verdict = {NEW} ORDER BY doctor_id, starts_at"
            )
        overlaps = _overlaps(pg, overlap_limit) if counts.get(CONFLICT) else []
        if not pg:  # PostgreSQL drops them at commit
            db.execute_sql("DROP TABLE temp.slot_verdict")
            db.execute_sql("DROP TABLE temp.slot_candidate")
    report(total, total)
    return BulkOutcome(
        created=counts.get(NEW, 0),
        existing=counts.get(EXISTING, 0),
        conflicts=counts.get(CONFLICT, 0),
        overlaps=overlaps,
    )


def _doctors_with_clear_schedule(candidates: Sequence[Candidate]) -> set[int]:
    """The doctors of these candidates who have no slot at all within their candidates' span.

    One index probe per doctor: the latest slot starting before the span ends must end before
    the span starts.
    """
    spans: dict[int, tuple[int, int]] = {}
    for _, doctor_id, starts, ends in candidates:
        low, high = spans.get(doctor_id, (starts, ends))
        spans[doctor_id] = (min(low, starts), max(high, ends))
    clear = set()
    for doctor_id, (low, high) in spans.items():
        latest = (
            TimeSlot.select(TimeSlot.ends_at)
            .where((TimeSlot.doctor == doctor_id) & (TimeSlot.starts_at < datetime.fromtimestamp(high, UTC)))
            .order_by(TimeSlot.starts_at.desc())
            .first()
        )
        if latest is None or latest.ends_at <= datetime.fromtimestamp(low, UTC):
            clear.add(doctor_id)
    return clear


def utc_texts(epochs: Sequence[int], suffix: str = "") -> Iterator[str]:
    """'YYYY-MM-DD HH:MM:SS' + suffix for whole-second UTC epochs: ``fields.to_sqlite_text`` for
    SQLite, with '+00' a timestamptz literal for PostgreSQL. Each date and each time of day is
    formatted once (a year of slots has a few hundred of each)."""
    dates: dict[int, str] = {}
    clock_times: dict[int, str] = {}
    for epoch in epochs:
        day, second = divmod(epoch, 86400)
        date_text = dates.get(day)
        if date_text is None:
            date_text = dates[day] = (_EPOCH_DAY + timedelta(days=day)).isoformat() + " "
        time_text = clock_times.get(second)
        if time_text is None:
            hours, rest = divmod(second, 3600)
            time_text = clock_times[second] = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{suffix}"
        yield date_text + time_text


def _write_slots(pg: bool, candidates: Sequence[Candidate], report: Callable[[int], None]) -> None:
    """Write the candidates straight into time_slot, in chunks."""
    cursor = db.connection().cursor()
    suffix = "+00" if pg else ""
    columns = "time_slot (doctor_id, starts_at, ends_at, status)"
    for first in range(0, len(candidates), _CHUNK):
        chunk = candidates[first : first + _CHUNK]
        starts = utc_texts([c[2] for c in chunk], suffix)
        ends = utc_texts([c[3] for c in chunk], suffix)
        rows = [(c[1], s, e) for c, s, e in zip(chunk, starts, ends)]
        if pg:
            text = "".join(f"{d}\t{s}\t{e}\topen\n" for d, s, e in rows)
            cursor.copy_expert(f"COPY {columns} FROM STDIN", io.StringIO(text))
        else:
            cursor.executemany(f"INSERT INTO {columns} VALUES (?, ?, ?, 'open')", rows)
        report(first + len(chunk))
    cursor.close()


def _load_candidates(pg: bool, candidates: Sequence[Candidate], report: Callable[[int], None]) -> None:
    """The candidates into the temporary table slot_candidate, in chunks."""
    columns = "tag integer NOT NULL, doctor_id integer NOT NULL, s bigint NOT NULL, e bigint NOT NULL"
    db.execute_sql(f"CREATE TEMP TABLE slot_candidate ({columns}){' ON COMMIT DROP' if pg else ''}")
    cursor = db.connection().cursor()
    for first in range(0, len(candidates), _CHUNK):
        chunk = candidates[first : first + _CHUNK]
        if pg:
            text = "".join(f"{t}\t{d}\t{s}\t{e}\n" for t, d, s, e in chunk)
            cursor.copy_expert("COPY slot_candidate (tag, doctor_id, s, e) FROM STDIN", io.StringIO(text))
        else:
            cursor.executemany("INSERT INTO temp.slot_candidate (tag, doctor_id, s, e) VALUES (?, ?, ?, ?)", chunk)
        report(first + len(chunk))
    cursor.close()


def _timestamp(pg: bool, epoch_column: str) -> str:
    """SQL turning epoch seconds into the backend's stored form: timestamptz, or the sortable UTC
    text of fields.py (slots are whole seconds, so the text has no fraction)."""
    if pg:
        return f"to_timestamp({epoch_column})"
    return f"strftime('%Y-%m-%d %H:%M:%S', {epoch_column}, 'unixepoch')"


def _classify(pg: bool) -> None:
    """Fill slot_verdict: each candidate, the latest existing slot starting before it ends, and the verdict."""
    verdict = f"""CASE WHEN p.id IS NULL OR p.ends_at <= c.starts_at THEN {NEW}
                    WHEN p.starts_at = c.starts_at AND p.ends_at = c.ends_at THEN {EXISTING}
                    ELSE {CONFLICT} END AS verdict"""
    columns = (
        "c.tag, c.doctor_id, c.starts_at, c.ends_at,"
        " p.id AS other_id, p.starts_at AS other_starts_at, p.ends_at AS other_ends_at"
    )
    candidates = (
        f"SELECT tag, doctor_id, {_timestamp(pg, 's')} AS starts_at, {_timestamp(pg, 'e')} AS ends_at"
        " FROM slot_candidate"
    )
    if pg:  # LATERAL: one index probe per candidate, whatever the planner thinks of the temp table
        db.execute_sql(
            f"""CREATE TEMP TABLE slot_verdict ON COMMIT DROP AS
            SELECT {columns}, {verdict}
            FROM ({candidates}) c
            LEFT JOIN LATERAL (
                SELECT x.id, x.starts_at, x.ends_at FROM time_slot x
                WHERE x.doctor_id = c.doctor_id AND x.starts_at < c.ends_at
                ORDER BY x.starts_at DESC LIMIT 1
            ) p ON TRUE"""
        )
        return
    db.execute_sql(
        f"""CREATE TEMP TABLE slot_verdict AS
        SELECT {columns}, {verdict}
        FROM (
            SELECT k.*, (SELECT x.id FROM time_slot x
                         WHERE x.doctor_id = k.doctor_id AND x.starts_at < k.ends_at
                         ORDER BY x.starts_at DESC LIMIT 1) AS latest_before_end
            FROM ({candidates}) k
        ) c
        LEFT JOIN time_slot p ON p.id = c.latest_before_end"""
    )


def _overlaps(pg: bool, limit: int) -> list[Overlap]:
    placeholder = "%s" if pg else "?"
    rows = db.execute_sql(
        "SELECT tag, doctor_id, starts_at, ends_at, other_id, other_starts_at, other_ends_at FROM slot_verdict"
        f" WHERE verdict = {CONFLICT} ORDER BY doctor_id, starts_at LIMIT {placeholder}",
        (limit,),
    ).fetchall()
    return [
        Overlap(tag, doctor_id, from_db(starts), from_db(ends), other_id, from_db(other_starts), from_db(other_ends))
        for tag, doctor_id, starts, ends, other_id, other_starts, other_ends in rows
    ]
