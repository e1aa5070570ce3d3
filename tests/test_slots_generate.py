"""`slots generate`: a weekly plan in local time, idempotent, conflicts reported, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from clinic_desk.errors import BadInput, PermissionDenied
from clinic_desk.services import audit, slotgen
from clinic_desk.services.slotbulk import utc_texts
from clinic_desk.store.fields import to_sqlite_text
from clinic_desk.store.models import AuditEvent, TimeSlot
from tests.booking_support import doctor_actor, local, shown, staff
from tests.factories import actor_for, login_env, make_doctor, make_slot, make_user

WEEK = dict(first=date(2027, 5, 3), last=date(2027, 5, 9))  # Monday .. Sunday


def _generate(actor, doctor, *, first=WEEK["first"], last=WEEK["last"], **plan):
    values = dict(start=time(9), end=time(12), length=30)
    values.update(plan)
    return slotgen.generate(actor, doctor, first, last, **values)


def _starts(doctor) -> list[str]:
    query = TimeSlot.select().where(TimeSlot.doctor == doctor.id).order_by(TimeSlot.starts_at)
    return [shown(slot.starts_at) for slot in query]


def test_weekday_plan_with_breaks_and_days_off(db):
    doctor = make_doctor("drplan")
    summary = _generate(
        staff("admin"),
        "drplan",
        start=time(9),
        end=time(13, 30),
        length=45,
        weekdays=slotgen.parse_weekdays("mon,wed,fri"),
        breaks=[slotgen.parse_break("10:30-11:00"), slotgen.parse_break("12:15-12:30")],
        skip=[date(2027, 5, 5)],
    )
    # 10:30 would cross the first break, 11:45 the second: each time the plan resumes at the break's end
    per_day = ["09:00", "09:45", "11:00", "12:30"]
    assert _starts(doctor) == [f"2027-05-03 {t}" for t in per_day] + [f"2027-05-07 {t}" for t in per_day]
    assert (summary.created, summary.skipped_existing, summary.conflicts, summary.skipped_nonexistent) == (8, 0, 0, 0)
    slot = TimeSlot.select().where(TimeSlot.doctor == doctor.id).first()
    assert (slot.ends_at - slot.starts_at).total_seconds() == 45 * 60 and slot.status == "open"
    assert AuditEvent.get(AuditEvent.action == "slots.generate").entity_id == doctor.id


def test_running_it_twice_creates_nothing_the_second_time(cli):
    make_user("admin", "admin1")
    doctor = make_doctor("drtwice")
    args = ("slots", "generate", "--doctor", "drtwice", "--from", "2027-05-03", "--to", "2027-05-09",
            "--start", "09:00", "--end", "17:00", "--length", "30", "--break", "12:00-13:00", "--json")
    first = cli(*args, env=login_env("admin1"))
    assert first.code == 0, first.err
    assert first.json() == {"created": 70, "skipped_existing": 0, "conflicts": 0, "skipped_nonexistent": 0,
                            "dry_run": False}
    second = cli(*args, env=login_env("admin1"))
    assert second.json()["created"] == 0 and second.json()["skipped_existing"] == 70
    assert TimeSlot.select().where(TimeSlot.doctor == doctor.id).count() == 70


def test_overlaps_with_a_different_slot_are_conflicts_and_not_created(db):
    doctor = make_doctor("drclash")
    existing = make_slot(doctor, local(2027, 5, 3, 9, 15), minutes=30)  # 09:15-09:45 on Monday
    summary = _generate(staff(), "drclash", weekdays=frozenset({0}))
    assert (summary.created, summary.conflicts) == (4, 2)  # 09:00 and 09:30 overlap it
    assert _starts(doctor) == ["2027-05-03 " + t for t in ("09:15", "10:00", "10:30", "11:00", "11:30")]
    assert [(shown(start), other) for start, other in summary.conflict_examples] == [
        ("2027-05-03 09:00", existing.id),
        ("2027-05-03 09:30", existing.id),
    ]


def test_longer_slots_over_an_existing_plan_are_all_conflicts(db):
    doctor = make_doctor("drlong")
    _generate(staff(), "drlong", weekdays=frozenset({0}))
    again = _generate(staff(), "drlong", weekdays=frozenset({0}), length=60)
    assert (again.created, again.skipped_existing, again.conflicts) == (0, 0, 3)
    assert len(_starts(doctor)) == 6


def test_progress_is_reported_up_to_the_total(db):
    make_doctor("drprogress")
    seen = []
    _generate(staff(), "drprogress", progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 30) and seen[-1] == (30, 30)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_dry_run_reports_and_writes_nothing(cli):
    make_user("admin", "admin1")
    make_doctor("drdry")
    result = cli("slots", "generate", "--doctor", "drdry", "--from", "2027-05-03", "--to", "2027-05-04",
                 "--start", "09:00", "--end", "10:00", "--length", "20", "--dry-run", env=login_env("admin1"))
    assert result.code == 0, result.err
    assert result.out.startswith("would create 6 slots")
    assert TimeSlot.select().count() == 0 and AuditEvent.select().count() == 0


def test_a_failure_in_the_middle_leaves_nothing_behind(db, monkeypatch):
    doctor = make_doctor("drfail")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        _generate(staff(), "drfail")
    assert TimeSlot.select().where(TimeSlot.doctor == doctor.id).count() == 0


def test_who_may_generate(db):
    doctor = make_doctor("drown")
    other = make_doctor("drother")
    assert _generate(doctor_actor(doctor), "drown", last=date(2027, 5, 3)).created == 6
    with pytest.raises(PermissionDenied):
        _generate(doctor_actor(doctor), "drother")
    with pytest.raises(PermissionDenied):
        _generate(actor_for(make_user("patient")), "drown")
    assert TimeSlot.select().where(TimeSlot.doctor == other.id).count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--weekdays", "mon-funday"), "unknown day 'funday'"),
        (("--weekdays", ","), "name at least one day"),
        (("--break", "12:00"), "--break must be HH:MM-HH:MM"),
        (("--break", "13:00-12:00"), "ends before it starts"),
        (("--start", "25:00"), "--start must be HH:MM"),
        (("--end", "08:00"), "must be after --start"),
        (("--length", "0"), "--length must be"),
        (("--to", "2027-05-01"), "before --from"),
        (("--to", "2030-01-01"), "at most 731 days"),
        (("--from", "2027-13-01"), "--from is not a real date"),
        (("--skip", "May 5"), "--skip must be YYYY-MM-DD"),
        (("--doctor", "nobody"), "unknown doctor 'nobody'"),
    ],
)
def test_bad_plans_are_exit_2_with_a_reason(cli, args, message):
    make_user("admin", "admin1")
    make_doctor("drbad")
    base = {"--doctor": "drbad", "--from": "2027-05-03", "--to": "2027-05-09", "--start": "09:00",
            "--end": "12:00", "--length": "30"}
    extra = dict(zip(args[::2], args[1::2]))
    argv = [part for key, value in {**base, **extra}.items() for part in (key, value)]
    result = cli("slots", "generate", *argv, env=login_env("admin1"))
    assert result.code == 2, result.err
    assert message in result.err and result.err.count("\n") == 1
    assert TimeSlot.select().count() == 0


def test_the_fast_timestamp_text_is_the_stored_form():
    epochs = [0, 59, 86399, 86400, 1_806_000_000 + 7 * 3600 + 30 * 60, 4_102_444_800 - 1]
    expected = [to_sqlite_text(datetime.fromtimestamp(e, UTC)) for e in epochs]
    assert list(utc_texts(epochs)) == expected
    assert list(utc_texts(epochs[:1], "+00")) == ["1970-01-01 00:00:00+00"]


def test_weekday_specs():
    assert slotgen.parse_weekdays("mon-fri") == frozenset(range(5))
    assert slotgen.parse_weekdays("Mon,Wed,Fri") == frozenset({0, 2, 4})
    assert slotgen.parse_weekdays("fri-mon") == frozenset({4, 5, 6, 0})
    assert slotgen.parse_weekdays("saturday,sun") == frozenset({5, 6})
    with pytest.raises(BadInput):
        slotgen.parse_weekdays("mon-tue-wed")


def test_several_doctors_in_one_run_with_one_of_them_already_planned(cli):
    make_user("admin", "admin1")
    fresh, planned = make_doctor("drfresh"), make_doctor("drplanned")
    make_slot(planned, local(2027, 5, 3, 9, 15))  # overlaps 09:00 and 09:30 of the plan
    result = cli("slots", "generate", "--doctor", "drfresh", "--doctor", "drplanned", "--from", "2027-05-03",
                 "--to", "2027-05-03", "--start", "09:00", "--end", "12:00", "--length", "30", "--json",
                 env=login_env("admin1"))
    assert result.code == 0, result.err
    assert (result.json()["created"], result.json()["conflicts"]) == (6 + 4, 2)
    assert len(_starts(fresh)) == 6 and len(_starts(planned)) == 5
    event = AuditEvent.get(AuditEvent.action == "slots.generate")
    assert event.entity_id is None and f"[{fresh.id}, {planned.id}]" in event.details
