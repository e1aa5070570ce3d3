"""Generating doctors' slots from a weekly plan, in the clinic's local wall-clock time.

The plan says "weekdays, 09:00-17:00, 30 minutes, lunch 12:00-13:00"; 09:00 stays 09:00 across a
daylight-saving change. A slot that would start in the spring-forward gap, or run into it, is
skipped and counted; an ambiguous start (the fall-back hour) means its first occurrence, and every
slot lasts exactly its length in real time, so no two generated slots overlap.

Planning is plain Python over integers: a day whose UTC offset is the same from its first slot to
its last (every day but two a year) is one offset applied to the day's pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import BadInput
from . import audit, changes, policy, slotbulk
from .actors import Actor
from .doctors import find_doctor
from .slotbulk import Candidate, Progress
from .timeutil import clinic_tz, parse_hhmm
from .tx import writes

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 731  # two years per run keeps one transaction's size sane
MIN_LENGTH, MAX_LENGTH = 5, 12 * 60
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class GenerateSummary:
    created: int  # with dry_run: how many would be created
    skipped_existing: int
    conflicts: int
    skipped_nonexistent: int
    dry_run: bool = False
    # The first few conflicting slots (local start, the existing slot it overlaps), for people.
    conflict_examples: list[tuple[datetime, int]] = field(default_factory=list)


# -- parsing the plan --------------------------------------------------------------


def parse_weekdays(text: str) -> frozenset[int]:
    """'mon-fri', 'mon,wed,fri', 'mon-wed,sat', 'fri-mon' -> weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in str(text).lower().replace(" ", "").split(","):
        if not part:
            continue
        ends = part.split("-")
        if len(ends) > 2:
            raise BadInput(f"--weekdays: {part!r} is not a day or a range like mon-fri")
        numbers = [_weekday(name) for name in ends]
        first, last = numbers[0], numbers[-1]
        span = (last - first) % 7
        days.update((first + step) % 7 for step in range(span + 1))
    if not days:
        raise BadInput("--weekdays: name at least one day (mon-fri, or mon,wed,fri)")
    return frozenset(days)


def _weekday(name: str) -> int:
    try:
        return _DAY_NUMBERS[name]
    except KeyError:
        raise BadInput(f"--weekdays: unknown day {name!r} (use mon, tue, wed, thu, fri, sat, sun)") from None


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: n for n, names in enumerate(zip(WEEKDAYS, _FULL_NAMES)) for name in names}


def parse_break(text: str) -> tuple[time, time]:
    match = re.fullmatch(r"\s*(\S+)\s*-\s*(\S+)\s*", str(text))
    if not match:
        raise BadInput(f"--break must be HH:MM-HH:MM: {text!r}")
    start = parse_hhmm(match.group(1), what="--break start")
    end = parse_hhmm(match.group(2), what="--break end")
    if end <= start:
        raise BadInput(f"--break ends before it starts: {text!r}")
    return start, end


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def day_pattern(start: time, end: time, length: int, breaks: Sequence[tuple[time, time]]) -> list[tuple[int, int]]:
    """The (start, end) minutes after local midnight of one day's slots; after a break the slots
    start again at the break's end."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise BadInput(f"--length must be {MIN_LENGTH}-{MAX_LENGTH} minutes, got {length}")
    first, last = _minutes(start), _minutes(end)
    if last <= first:
        raise BadInput(f"--end ({end:%H:%M}) must be after --start ({start:%H:%M})")
    pauses = sorted((_minutes(a), _minutes(b)) for a, b in breaks)
    pattern = []
    at = first
    while at + length <= last:
        blocking = next((b for a, b in pauses if a < at + length and at < b), None)
        if blocking is not None:
            at = blocking
            continue
        pattern.append((at, at + length))
        at += length
    return pattern


# -- local wall-clock time to UTC ---------------------------------------------------


def wall_interval(day: date, start_minute: int, end_minute: int, tz: ZoneInfo) -> tuple[int, int] | None:
    """UTC epoch seconds of the slot from ``start_minute`` to ``end_minute`` local time on ``day``,
    or None when a local time of it does not exist (the spring-forward gap).

    An ambiguous start is its first occurrence; every slot lasts exactly its wall-clock length in
    real time (one that starts in the first pass of a repeated hour and ends after it shows its
    end in the second pass: it still ends before the next slot starts).
    """
    wall_start = datetime.combine(day, time()) + timedelta(minutes=start_minute)
    wall_end = wall_start + timedelta(minutes=end_minute - start_minute)
    starts = wall_start.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the first occurrence
    if _shown(starts, tz) != wall_start:
        return None  # the start is in the gap
    ends = starts + (wall_end - wall_start)
    if _shown(ends - _TINY, tz) > wall_end - _TINY:
        return None  # the clocks jump forward inside the slot (ending exactly at the jump is fine)
    return int(starts.timestamp()), int(ends.timestamp())


def _shown(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _steady_offset(day: date, first_minute: int, last_minute: int, tz: ZoneInfo) -> int | None:
    """The day's UTC offset in seconds when it holds from the first slot to the last, else None.

    Both ends must be unambiguous and share one offset; time zones change offsets months apart,
    never twice within one working day, so then no change happens in between.
    """
    offsets = []
    for minute in (first_minute, last_minute):
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        early, late = tz.utcoffset(wall.replace(fold=0)), tz.utcoffset(wall.replace(fold=1))
        if early != late:
            return None
        offsets.append(early)
    return int(offsets[0].total_seconds()) if offsets[0] == offsets[1] else None


def plan(
    doctor_id: int,
    first: date,
    last: date,
    *,
    weekdays: frozenset[int],
    pattern: Sequence[tuple[int, int]],
    skip: Sequence[date] = (),
    tz: ZoneInfo,
) -> tuple[list[Candidate], int]:
    """The candidate slots (tag 0) and how many were skipped because their local time does not exist."""
    candidates: list[Candidate] = []
    nonexistent = 0
    if not pattern:
        return candidates, 0
    skipped = set(skip)
    lo, hi = pattern[0][0], pattern[-1][1]
    day = first
    while day <= last:
        if day.weekday() in weekdays and day not in skipped:
            offset = _steady_offset(day, lo, hi, tz)
            if offset is not None:
                base = (day.toordinal() - _EPOCH_ORDINAL) * 86400 - offset
                candidates.extend((0, doctor_id, base + a * 60, base + b * 60) for a, b in pattern)
            else:
                for a, b in pattern:
                    interval = wall_interval(day, a, b, tz)
                    if interval is None:
                        nonexistent += 1
                    else:
                        candidates.append((0, doctor_id, *interval))
        day += timedelta(days=1)
    return candidates, nonexistent


# -- the service ---------------------------------------------------------------------


@writes
def generate(
    actor: Actor,
    doctors: str | int | Sequence[str | int],
    first: date,
    last: date,
    *,
    start: time,
    end: time,
    length: int,
    weekdays: frozenset[int] = frozenset(range(5)),
    breaks: Sequence[tuple[time, time]] = (),
    skip: Sequence[date] = (),
    dry_run: bool = False,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Create the slots of one doctor, or of several with one plan, for every chosen weekday from
    ``first`` to ``last`` (local dates).

    Idempotent: slots that exist already are skipped, slots overlapping a different slot are
    reported as conflicts and not created. One transaction: all of it or nothing.
    """
    refs = [doctors] if isinstance(doctors, (str, int)) else list(doctors)
    if not refs:
        raise BadInput("name at least one --doctor")
    targets = {doctor.id: doctor for doctor in map(find_doctor, refs)}
    for doctor_id in targets:
        policy.require(actor, "slot.manage", doctor_id=doctor_id)
    if last < first:
        raise BadInput(f"--to ({last}) is before --from ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadInput(f"at most {MAX_DAYS} days per run; split the range")
    pattern = day_pattern(start, end, length, breaks)
    candidates: list[Candidate] = []
    nonexistent = 0
    for doctor_id in targets:
        planned, skipped = plan(doctor_id, first, last, weekdays=weekdays, pattern=pattern, skip=skip, tz=clinic_tz())
        candidates.extend(planned)
        nonexistent += skipped
    outcome = slotbulk.create_slots(candidates, dry_run=dry_run, progress=progress)
    summary = GenerateSummary(
        created=outcome.created,
        skipped_existing=outcome.existing,
        conflicts=outcome.conflicts,
        skipped_nonexistent=nonexistent,
        dry_run=dry_run,
        conflict_examples=[(o.starts_at, o.other_slot_id) for o in outcome.overlaps],
    )
    if not dry_run and outcome.created:
        audit.record(
            actor,
            "slots.generate",
            "doctor",
            next(iter(targets)) if len(targets) == 1 else None,
            doctor_ids=sorted(targets),
            first=first,
            last=last,
            created=outcome.created,
            skipped_existing=outcome.existing,
            conflicts=outcome.conflicts,
            skipped_nonexistent=nonexistent,
        )
        for doctor_id in targets:
            changes.announce("slot", "generated", doctor_id=doctor_id)
    return summary
