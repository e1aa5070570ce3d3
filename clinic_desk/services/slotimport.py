"""Importing slots from CSV (columns ``doctor,date,start,end``, local wall-clock times).

Every bad row is reported with its row and column (row 1 is the header). Nothing is imported when
any row is bad, unless ``skip_bad``: then the good rows go in and the bad ones are listed.
A row identical to an existing slot is skipped (importing twice creates nothing twice); a row that
overlaps a different existing slot, or another row of the file, is bad.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time

from ..errors import BadInput
from ..store.models import Doctor, User
from . import audit, changes, policy, slotbulk
from .actors import Actor
from .slotbulk import Candidate, Progress
from .slotgen import MAX_LENGTH, MIN_LENGTH, wall_interval
from .timeutil import clinic_tz, iso_local, parse_date, parse_hhmm
from .tx import writes

COLUMNS = ("doctor", "date", "start", "end")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str
    kind: str = "bad"  # or "conflict" (overlaps a slot or another row), "nonexistent" (a DST gap)

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int  # with dry_run: how many would be created
    skipped_existing: int
    skipped_bad: int  # every row skipped as bad, conflicts and nonexistent times included
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)

    @property
    def conflicts(self) -> int:
        return len({e.row for e in self.errors if e.kind == "conflict"})

    @property
    def skipped_nonexistent(self) -> int:
        return len({e.row for e in self.errors if e.kind == "nonexistent"})


class ImportRefused(BadInput):
    """Some rows are bad and ``skip_bad`` was not given: nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        rows = len({e.row for e in errors})
        super().__init__(f"{rows} bad row(s), nothing imported (fix them or use --skip-bad); first: {errors[0]}")
        self.errors = errors


@dataclass(frozen=True)
class _Row:
    number: int
    doctor: str
    day: date
    start: time
    end: time


def _read_rows(text: str) -> list[dict[str, str]]:
    if "\x00" in text:
        raise BadInput("the file holds NUL bytes: it is not a CSV text file")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput("the file is empty: expected a header row doctor,date,start,end") from None
    except csv.Error as exc:
        raise BadInput(f"row 1: not valid CSV: {exc}") from None
    names = [name.strip().lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BadInput(f"row 1: the header lacks the column(s) {', '.join(missing)} (expected doctor,date,start,end)")
    positions = {column: names.index(column) for column in COLUMNS}
    rows = []
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                rows.append({})  # a blank line keeps its row number and is skipped
                continue
            rows.append({c: values[i].strip() if i < len(values) else "" for c, i in positions.items()})
    except csv.Error as exc:
        raise BadInput(f"row {reader.line_num}: not valid CSV: {exc}") from None
    return rows


def _parse(raw_rows: list[dict[str, str]], errors: list[RowError]) -> list[_Row]:
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        if not raw:
            continue
        problems_before = len(errors)
        if not raw["doctor"]:
            errors.append(RowError(number, "doctor", "empty"))
        day = start = end = None
        try:
            day = parse_date(raw["date"], what="date")
        except BadInput as exc:
            errors.append(RowError(number, "date", exc.message))
        try:
            start = parse_hhmm(raw["start"], what="start")
        except BadInput as exc:
            errors.append(RowError(number, "start", exc.message))
        try:
            end = parse_hhmm(raw["end"], what="end")
        except BadInput as exc:
            errors.append(RowError(number, "end", exc.message))
        if start is not None and end is not None:
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            if minutes <= 0:
                errors.append(RowError(number, "end", f"{raw['end']} is not after the start {raw['start']}"))
            elif not MIN_LENGTH <= minutes <= MAX_LENGTH:
                errors.append(RowError(number, "end", f"a slot lasts {MIN_LENGTH}-{MAX_LENGTH} minutes, not {minutes}"))
        if len(errors) == problems_before:
            rows.append(_Row(number, raw["doctor"], day, start, end))
    return rows


def _doctor_ids(rows: list[_Row], errors: list[RowError]) -> dict[str, int]:
    names = sorted({row.doctor for row in rows})
    query = Doctor.select(User.username, Doctor.id).join(User, on=(Doctor.user == User.id))
    known = dict(query.where(User.username.in_(names)).tuples()) if names else {}
    for row in rows:
        if row.doctor not in known:
            errors.append(RowError(row.number, "doctor", f"unknown doctor {row.doctor!r}"))
    return known


def _candidates(rows: list[_Row], doctors: dict[str, int], errors: list[RowError]) -> list[Candidate]:
    tz = clinic_tz()
    by_doctor: dict[int, list[Candidate]] = defaultdict(list)
    for row in rows:
        if row.doctor not in doctors:
            continue
        a, b = row.start.hour * 60 + row.start.minute, row.end.hour * 60 + row.end.minute
        interval = wall_interval(row.day, a, b, tz)
        if interval is None:
            times = f"{row.start:%H:%M}-{row.end:%H:%M}"
            errors.append(
                RowError(row.number, "start", f"{times} does not exist on {row.day} (clocks go forward)", "nonexistent")
            )
            continue
        by_doctor[doctors[row.doctor]].append((row.number, doctors[row.doctor], *interval))
    candidates: list[Candidate] = []
    for slots in by_doctor.values():
        slots.sort(key=lambda c: c[2])
        previous: Candidate | None = None
        for candidate in slots:
            if previous is not None and candidate[2] < previous[3]:
                same = candidate[2:] == previous[2:]
                what = "repeats" if same else "overlaps"
                errors.append(RowError(candidate[0], "start", f"{what} row {previous[0]} for the same doctor", "conflict"))
                continue
            candidates.append(candidate)
            previous = candidate
    return candidates


@writes
def import_slots(
    actor: Actor, text: str, *, dry_run: bool = False, skip_bad: bool = False, progress: Progress | None = None
) -> ImportSummary:
    """Import the CSV ``text``; ImportRefused (nothing written) when rows are bad and not ``skip_bad``."""
    raw_rows = _read_rows(text)
    errors: list[RowError] = []
    rows = _parse(raw_rows, errors)
    doctors = _doctor_ids(rows, errors)
    for doctor_id in sorted(set(doctors.values())):
        policy.require(actor, "slot.manage", doctor_id=doctor_id)
    candidates = _candidates(rows, doctors, errors)
    refuse = bool(errors) and not skip_bad
    outcome = slotbulk.create_slots(
        candidates, dry_run=dry_run or refuse, overlap_limit=len(candidates), progress=progress
    )
    for overlap in outcome.overlaps:
        errors.append(
            RowError(
                overlap.tag,
                "start",
                f"overlaps slot {overlap.other_slot_id} "
                f"({iso_local(overlap.other_starts_at)} to {iso_local(overlap.other_ends_at)})",
                "conflict",
            )
        )
    errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column)))
    if errors and not skip_bad:
        raise ImportRefused(errors)  # the transaction rolls back: nothing was imported
    summary = ImportSummary(
        rows=sum(1 for raw in raw_rows if raw),
        created=outcome.created,
        skipped_existing=outcome.existing,
        skipped_bad=len({e.row for e in errors}),
        dry_run=dry_run,
        errors=errors,
    )
    if outcome.created and not dry_run:
        audit.record(actor, "slots.import", "slot", None, created=outcome.created, skipped_bad=summary.skipped_bad)
        for doctor_id in sorted({c[1] for c in candidates}):
            changes.announce("slot", "imported", doctor_id=doctor_id)
    return summary
