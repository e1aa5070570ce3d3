"""Calendars: the invitations that appointment mails carry, and `clinic-desk export ics`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from clinic_desk.services import notify
from clinic_desk.store.models import Appointment, Outbox
from tests.factories import login_env, make_appointment, make_doctor, make_patient, make_slot, make_user

BERLIN = ZoneInfo("Europe/Berlin")


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _invitation(outbox_id: int) -> Calendar:
    [attachment] = notify.attachments_of(Outbox.get_by_id(outbox_id))
    return Calendar.from_ical(attachment.content)


def _method_of(outbox_id: int) -> str:
    [attachment] = notify.attachments_of(Outbox.get_by_id(outbox_id))
    return attachment.content_type


# -- invitations ---------------------------------------------------------------------


def test_confirm_reschedule_cancel_keep_one_uid_with_rising_sequence(db, frozen_clock):
    doctor = make_doctor(room="3")
    patient = make_patient("Ann Lee", email="ann@example.test")
    appointment = make_appointment(make_slot(doctor, _local(2027, 3, 10, 9)), patient, status="confirmed")

    confirmed = notify.appointment_event("confirmed", appointment.id)
    new_slot = make_slot(doctor, _local(2027, 3, 12, 14, 30))
    Appointment.update(slot=new_slot, starts_at=new_slot.starts_at, ends_at=new_slot.ends_at).where(
        Appointment.id == appointment.id
    ).execute()
    moved = notify.appointment_event("rescheduled", appointment.id)
    Appointment.update(status="cancelled", cancel_reason="doctor ill").where(Appointment.id == appointment.id).execute()
    cancelled = notify.appointment_event("cancelled", appointment.id)

    assert _method_of(confirmed.id) == "text/calendar; method=REQUEST"
    assert _method_of(cancelled.id) == "text/calendar; method=CANCEL"
    events = []
    for outbox_id, method in ((confirmed.id, "REQUEST"), (moved.id, "REQUEST"), (cancelled.id, "CANCEL")):
        calendar = _invitation(outbox_id)
        assert str(calendar["METHOD"]) == method
        [event] = calendar.walk("VEVENT")
        events.append(event)
    uids = {str(event["UID"]) for event in events}
    assert uids == {f"appointment-{appointment.id}@localhost"}  # the default sender is clinic-desk@localhost
    sequences = [int(event["SEQUENCE"]) for event in events]
    assert sequences[0] < sequences[1] < sequences[2]
    assert events[0].decoded("DTSTART").astimezone(BERLIN).strftime("%d %H:%M") == "10 09:00"
    assert events[1].decoded("DTSTART").astimezone(BERLIN).strftime("%d %H:%M") == "12 14:30"
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert str(events[0]["LOCATION"]) == "3"
    assert Appointment.get_by_id(appointment.id).ics_sequence == sequences[2]


def test_booked_mail_has_no_invitation_and_cancelling_it_sends_no_cancel(db, frozen_clock):
    appointment = make_appointment(make_slot(make_doctor(), _local(2027, 3, 10, 9)), make_patient())
    booked = notify.appointment_event("booked", appointment.id)
    cancelled = notify.appointment_event("cancelled", appointment.id)
    assert notify.attachments_of(Outbox.get_by_id(booked.id)) == []
    assert notify.attachments_of(Outbox.get_by_id(cancelled.id)) == []
    assert Appointment.get_by_id(appointment.id).ics_sequence == 0


# -- export ----------------------------------------------------------------------------


@pytest.fixture
def dst_visits(db):
    """A doctor with 09:00 visits on both sides of both 2027 DST changes in Berlin, and one cancelled."""
    make_user("reception", "desk")
    doctor = make_doctor("dr_stone", room="7", full_name="Dr. Mira Stone")
    patient = make_patient("Ann Lee")
    days = [(3, 26), (3, 29), (10, 29), (11, 1)]
    for month, day in days:
        appointment = make_appointment(make_slot(doctor, _local(2027, month, day, 9)), patient, status="confirmed")
        Appointment.update(reason=f"check-up {month}/{day}").where(Appointment.id == appointment.id).execute()
    make_appointment(make_slot(doctor, _local(2027, 3, 30, 9)), patient, status="cancelled")
    return doctor, patient


def test_export_keeps_nine_oclock_local_across_both_dst_changes(dst_visits, cli, tmp_path):
    target = tmp_path / "stone.ics"
    result = cli("export", "ics", "--doctor", "dr_stone", "-o", str(target), env=login_env("desk"))
    assert result.code == 0, result.err
    assert result.out == ""

    calendar = Calendar.from_ical(target.read_bytes())
    events = sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("DTSTART"))
    assert len(events) == 4  # the cancelled visit is left out
    starts = [event.decoded("DTSTART") for event in events]
    assert [start.astimezone(BERLIN).strftime("%m-%d %H:%M %z") for start in starts] == [
        "03-26 09:00 +0100",
        "03-29 09:00 +0200",
        "10-29 09:00 +0200",
        "11-01 09:00 +0100",
    ]
    assert [start.astimezone(UTC).hour for start in starts] == [8, 7, 7, 8]
    assert all(event["DTSTART"].params["TZID"] == "Europe/Berlin" for event in events)
    assert [str(event["SUMMARY"]) for event in events] == ["Appointment: Ann Lee"] * 4
    assert str(events[0]["LOCATION"]) == "7" and str(events[0]["DESCRIPTION"]) == "check-up 3/26"
    assert [event.decoded("DTEND") - event.decoded("DTSTART") for event in events] == [timedelta(minutes=30)] * 4


def test_the_exported_vtimezone_changes_offset_at_the_real_instants(dst_visits, cli):
    result = cli("export", "ics", "--doctor", "dr_stone", env=login_env("desk"))
    [vtimezone] = Calendar.from_ical(result.out).walk("VTIMEZONE")
    # RFC 5545: an observance starts at DTSTART read in the offset in force before it (TZOFFSETFROM).
    onsets = set()
    for observance in vtimezone.walk():
        if observance.name in ("STANDARD", "DAYLIGHT"):
            offset_from = observance.decoded("TZOFFSETFROM")
            offset_to = observance.decoded("TZOFFSETTO")
            if offset_from != offset_to:
                onsets.add((observance.decoded("DTSTART") - offset_from).replace(tzinfo=UTC))
    assert onsets == {datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)}
    # And read as a time zone (the VTIMEZONE as written, not the zone its name points to):
    zone = vtimezone.to_tz(lookup_tzid=False)
    walls = {"2027-03-28 01:59": "+0100", "2027-03-28 03:30": "+0200", "2027-10-31 03:30": "+0100"}
    assert {wall: datetime.strptime(wall, "%Y-%m-%d %H:%M").replace(tzinfo=zone).strftime("%z") for wall in walls} == walls


def test_export_by_range_and_to_stdout(dst_visits, cli):
    result = cli("export", "ics", "--doctor", "dr_stone", "--from", "2027-03-27", "--to", "2027-10-29",
                 env=login_env("desk"))
    assert result.code == 0
    events = Calendar.from_ical(result.out).walk("VEVENT")
    assert sorted(event.decoded("DTSTART").strftime("%m-%d") for event in events) == ["03-29", "10-29"]


def test_a_clinic_on_utc_exports_plain_utc_times(dst_visits, cli):
    result = cli("export", "ics", "--doctor", "dr_stone", env={**login_env("desk"), "CLINIC_DESK_CLINIC_TIMEZONE": "UTC"})
    assert result.code == 0
    assert "VTIMEZONE" not in result.out and "TZID" not in result.out
    assert "DTSTART:20270326T080000Z" in result.out


def test_who_may_export_whose_calendar(dst_visits, cli):
    doctor, patient = dst_visits
    patient_user = make_user("patient", "ann")
    patient.user = patient_user
    patient.save()
    other_patient = make_patient("Bo Other")
    make_user("doctor", "dr_other")
    from clinic_desk.store.models import Doctor, User

    Doctor.create(user=User.get(User.username == "dr_other"), room="9")
    stone_user = doctor.user.username

    own = cli("export", "ics", "--patient", str(patient.id), env=login_env("ann"))
    assert own.code == 0 and len(Calendar.from_ical(own.out).walk("VEVENT")) == 4
    assert "Appointment with Dr. Mira Stone" in own.out
    assert cli("export", "ics", "--patient", str(other_patient.id), env=login_env("ann")).code == 1
    assert cli("export", "ics", "--doctor", stone_user, env=login_env(stone_user)).code == 0
    denied = cli("export", "ics", "--doctor", stone_user, env=login_env("dr_other"))
    assert denied.code == 1 and "permission denied" in denied.err


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "exactly one of --doctor or --patient"),
        (("--doctor", "dr_stone", "--patient", "1"), "exactly one of --doctor or --patient"),
        (("--doctor", "nobody"), "no doctor with username 'nobody'"),
        (("--patient", "999"), "no patient with id 999"),
        (("--doctor", "dr_stone", "--from", "2027-13-01"), "--from is not a real date"),
        (("--doctor", "dr_stone", "--from", "2027-05-01", "--to", "2027-04-01"), "ends (2027-04-01) before it starts"),
    ],
)
def test_bad_export_requests_say_what_is_wrong(dst_visits, cli, args, message):
    result = cli("export", "ics", *args, env=login_env("desk"))
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_export_to_a_missing_directory_is_bad_input(dst_visits, cli, tmp_path):
    result = cli("export", "ics", "--doctor", "dr_stone", "-o", str(tmp_path / "no" / "x.ics"), env=login_env("desk"))
    assert result.code == 2 and "no such directory" in result.err

    directory = cli("export", "ics", "--doctor", "dr_stone", "-o", str(tmp_path), env=login_env("desk"))
    assert directory.code == 2 and "is a directory" in directory.err


def test_visits_in_the_hour_the_clocks_go_back_land_at_their_real_instant(db, cli):
    """02:30 happens twice on 2027-10-31 in Berlin; RFC 5545 reads a local 02:30 as the first, so
    the second is written in UTC. Every other visit keeps the clinic's wall clock."""
    make_user("reception", "desk")
    doctor = make_doctor("dr_night")
    patient = make_patient("Ann Lee")
    instants = [datetime(2027, 10, 31, hour, 30, tzinfo=UTC) for hour in (0, 1, 2)]  # 02:30 CEST, 02:30 CET, 03:30 CET
    for instant in instants:
        make_appointment(make_slot(doctor, instant, minutes=20), patient, status="confirmed")

    result = cli("export", "ics", "--doctor", "dr_night", env=login_env("desk"))

    events = Calendar.from_ical(result.out).walk("VEVENT")
    assert sorted(event.decoded("DTSTART").astimezone(UTC) for event in events) == instants
    assert sorted(event.decoded("DTEND").astimezone(UTC) for event in events) == [i + timedelta(minutes=20) for i in instants]
