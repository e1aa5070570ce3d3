"""Slot generation across Europe/Berlin's daylight-saving changes of 2027 (28 March, 31 October)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_desk.services import slotgen
from clinic_desk.store.models import TimeSlot
from tests.booking_support import BERLIN, shown, staff
from tests.factories import make_doctor

SPRING, AUTUMN = date(2027, 3, 28), date(2027, 10, 31)  # both Sundays


def _slots(doctor) -> list[TimeSlot]:
    return list(TimeSlot.select().where(TimeSlot.doctor == doctor.id).order_by(TimeSlot.starts_at))


def _utc(slot: TimeSlot) -> str:
    return f"{slot.starts_at:%m-%d %H:%M}Z"


def test_nine_stays_nine_on_the_weekdays_around_both_changes(db):
    doctor = make_doctor("drweek")
    for first, last in ((date(2027, 3, 25), date(2027, 3, 30)), (date(2027, 10, 28), date(2027, 11, 2))):
        slotgen.generate(staff(), "drweek", first, last, start=time(9), end=time(10), length=60)
    slots = _slots(doctor)
    assert [shown(s.starts_at) for s in slots] == [
        "2027-03-25 09:00", "2027-03-26 09:00", "2027-03-29 09:00", "2027-03-30 09:00",
        "2027-10-28 09:00", "2027-10-29 09:00", "2027-11-01 09:00", "2027-11-02 09:00",
    ]
    assert [_utc(s) for s in slots] == [
        "03-25 08:00Z", "03-26 08:00Z", "03-29 07:00Z", "03-30 07:00Z",
        "10-28 07:00Z", "10-29 07:00Z", "11-01 08:00Z", "11-02 08:00Z",
    ]


def test_spring_forward_skips_and_counts_the_hour_that_does_not_exist(db):
    doctor = make_doctor("drspring")
    summary = slotgen.generate(
        staff(), "drspring", SPRING, SPRING, start=time(1), end=time(4), length=30, weekdays=frozenset({6})
    )
    assert (summary.created, summary.skipped_nonexistent) == (4, 2)  # 02:00 and 02:30 do not exist
    slots = _slots(doctor)
    assert [shown(s.starts_at) for s in slots] == [
        "2027-03-28 01:00", "2027-03-28 01:30", "2027-03-28 03:00", "2027-03-28 03:30"
    ]
    # 01:30-02:00 ends exactly when the clocks jump to 03:00: back to back, 30 real minutes each
    assert [_utc(s) for s in slots] == ["03-28 00:00Z", "03-28 00:30Z", "03-28 01:00Z", "03-28 01:30Z"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)


def test_a_slot_running_into_the_gap_is_skipped_too(db):
    make_doctor("drgap")
    summary = slotgen.generate(
        staff(), "drgap", SPRING, SPRING, start=time(1), end=time(4), length=60, weekdays=frozenset({6})
    )
    # 01:00-02:00 ends at the jump (kept); 02:00-03:00 does not exist; 03:00-04:00 is kept
    assert (summary.created, summary.skipped_nonexistent) == (2, 1)
    summary = slotgen.generate(
        staff(), "drgap", SPRING, SPRING, start=time(1, 30), end=time(4), length=60, weekdays=frozenset({6})
    )
    # 01:30-02:30 would end at a time that does not exist; 02:30-03:30 starts in the gap
    assert (summary.created, summary.conflicts, summary.skipped_nonexistent) == (0, 0, 2)


def test_fall_back_takes_the_first_occurrence_and_nothing_overlaps(db):
    doctor = make_doctor("drautumn")
    summary = slotgen.generate(
        staff(), "drautumn", AUTUMN, AUTUMN, start=time(1), end=time(4), length=30, weekdays=frozenset({6})
    )
    assert (summary.created, summary.skipped_nonexistent) == (6, 0)
    slots = _slots(doctor)
    assert [shown(s.starts_at) for s in slots] == [
        "2027-10-31 01:00", "2027-10-31 01:30", "2027-10-31 02:00", "2027-10-31 02:30",
        "2027-10-31 03:00", "2027-10-31 03:30",
    ]
    # 02:00 and 02:30 are the summer-time ones (fold=0); the repeated hour 01:00Z-02:00Z stays empty
    assert [_utc(s) for s in slots] == [
        "10-30 23:00Z", "10-30 23:30Z", "10-31 00:00Z", "10-31 00:30Z", "10-31 02:00Z", "10-31 02:30Z"
    ]
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:]))
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    again = slotgen.generate(
        staff(), "drautumn", AUTUMN, AUTUMN, start=time(1), end=time(4), length=30, weekdays=frozenset({6})
    )
    assert (again.created, again.skipped_existing) == (0, 6)


def _wall(instant_epoch: int) -> datetime:
    return datetime.fromtimestamp(instant_epoch, UTC).astimezone(BERLIN).replace(tzinfo=None)


@settings(max_examples=300, deadline=None)
@given(
    day=st.sampled_from([SPRING, AUTUMN, date(2027, 3, 27), date(2027, 10, 30), date(2027, 7, 1)]),
    start_minute=st.integers(0, 23 * 60),
    span=st.integers(5, 8 * 60),
    length=st.integers(5, 180),
    break_at=st.integers(0, 24 * 60 - 1),
    break_length=st.integers(0, 120),
)
def test_planned_slots_never_overlap_and_keep_their_local_times(
    day, start_minute, span, length, break_at, break_length
):
    def hhmm(minute: int) -> time:
        return time(minute // 60, minute % 60)

    end_minute = min(start_minute + span, 24 * 60 - 1)
    start, end = hhmm(start_minute), hhmm(end_minute)
    if end <= start:
        return
    breaks = []
    if break_length and break_at + break_length < 24 * 60:
        breaks.append((hhmm(break_at), hhmm(break_at + break_length)))
    pattern = slotgen.day_pattern(start, end, length, breaks)
    candidates, nonexistent = slotgen.plan(
        1, day, day, weekdays=frozenset(range(7)), pattern=pattern, tz=BERLIN
    )
    assert len(candidates) + nonexistent == len(pattern)
    if day != SPRING:
        assert nonexistent == 0  # only the spring-forward gap has local times that do not exist
    planned_starts = {a for a, _ in pattern}
    midnight = datetime.combine(day, time())
    for _, _, s, e in candidates:
        assert e - s == length * 60  # every slot lasts its length in real time
        local_start = _wall(s)
        assert local_start.date() == day
        assert int((local_start - midnight).total_seconds() // 60) in planned_starts  # shown as planned
    ordered = sorted(candidates, key=lambda c: c[2])
    assert all(a[3] <= b[2] for a, b in zip(ordered, ordered[1:]))  # no two overlap in real time
