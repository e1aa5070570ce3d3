"""`slots list | block | unblock | delete`: local times, free slots, and what may not be touched."""

from __future__ import annotations

import pytest

from clinic_desk.errors import PermissionDenied, Refused
from clinic_desk.services import booking, slots
from clinic_desk.store.models import AuditEvent, TimeSlot
from tests.booking_support import doctor_actor, local, patient_with_login, staff
from tests.factories import login_env, make_appointment, make_doctor, make_patient, make_slot, make_user


def test_list_json_has_local_times_with_the_clinic_offset(cli, frozen_clock):
    make_user("reception", "desk1")
    doctor = make_doctor("drlist")
    winter = make_slot(doctor, local(2027, 3, 26, 9))
    summer = make_slot(doctor, local(2027, 3, 29, 9))
    booked = make_slot(doctor, local(2027, 3, 29, 10))
    make_appointment(booked, make_patient("Ann Booked"))
    result = cli("slots", "list", "--doctor", "drlist", "--from", "2027-03-26", "--to", "2027-03-29", "--json",
                 env=login_env("desk1"))
    assert result.code == 0, result.err
    rows = result.json()
    assert [r["id"] for r in rows] == [winter.id, summer.id, booked.id]
    assert rows[0] == {
        "id": winter.id, "doctor": "drlist", "starts_at": "2027-03-26T09:00:00+01:00",
        "ends_at": "2027-03-26T09:30:00+01:00", "status": "open", "free": True,
        "appointment_id": None, "patient_id": None, "patient_name": None,
    }
    assert rows[1]["starts_at"] == "2027-03-29T09:00:00+02:00"
    assert (rows[2]["free"], rows[2]["patient_name"]) == (False, "Ann Booked")
    free = cli("slots", "list", "--doctor", "drlist", "--date", "2027-03-29", "--free", "--json",
               env=login_env("desk1"))
    assert [r["id"] for r in free.json()] == [summer.id]
    both = cli("slots", "list", "--doctor", "drlist", "--date", "2027-03-29", "--from", "2027-03-01",
               env=login_env("desk1"))
    assert both.code == 2


def test_without_dates_the_list_shows_the_next_30_days(db, frozen_clock):
    doctor = make_doctor("drsoon")
    soon = make_slot(doctor, local(2027, 4, 2, 9))
    make_slot(doctor, local(2027, 4, 3, 9))  # day 31 from 2027-03-04
    assert [s.id for s in slots.list_slots(staff(), "drsoon")] == [soon.id]


def test_a_blocked_slot_cannot_be_booked_and_a_booked_one_cannot_be_blocked(db, frozen_clock):
    doctor = make_doctor()
    slot = make_slot(doctor, local(2027, 3, 10, 9))
    view = slots.block_slot(staff(), slot.id)
    assert (view.status, view.free) == ("blocked", False)
    with pytest.raises(Refused, match="is blocked"):
        booking.book(staff(), make_patient().id, slot.id)
    slots.unblock_slot(staff(), slot.id)
    appointment = booking.book(staff(), make_patient().id, slot.id)
    with pytest.raises(Refused, match=f"booked \\(appointment {appointment.id}\\)"):
        slots.block_slot(staff(), slot.id)
    assert TimeSlot.get_by_id(slot.id).status == "open"
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == [
        "slot.block", "slot.unblock", "appointment.book"
    ]


def test_only_never_booked_slots_can_be_deleted(cli, frozen_clock):
    make_user("reception", "desk1")
    doctor = make_doctor()
    spare = make_slot(doctor, local(2027, 3, 10, 9))
    history = make_slot(doctor, local(2027, 3, 10, 10))
    make_appointment(history, make_patient(), status="cancelled")
    assert cli("slots", "delete", str(spare.id), env=login_env("desk1")).code == 0
    refused = cli("slots", "delete", str(history.id), env=login_env("desk1"))
    assert refused.code == 1 and "has been booked before: block it instead" in refused.err
    assert [s.id for s in TimeSlot.select()] == [history.id]
    assert cli("slots", "delete", "999999", env=login_env("desk1")).code == 2


def test_doctors_manage_their_own_slots_only(db):
    own, other = make_doctor(), make_doctor()
    mine, theirs = make_slot(own, local(2027, 3, 10, 9)), make_slot(other, local(2027, 3, 10, 9))
    assert slots.block_slot(doctor_actor(own), mine.id).status == "blocked"
    with pytest.raises(PermissionDenied):
        slots.block_slot(doctor_actor(own), theirs.id)
    with pytest.raises(PermissionDenied):
        slots.delete_slot(doctor_actor(own), theirs.id)


def test_patients_see_slots_but_not_who_booked_them(db, frozen_clock):
    doctor = make_doctor("drprivate")
    slot = make_slot(doctor, local(2027, 3, 10, 9))
    make_appointment(slot, make_patient("Someone Private"))
    _, patient_actor = patient_with_login()
    [view] = slots.list_slots(patient_actor, "drprivate")
    assert (view.free, view.patient_name, view.appointment_id) == (False, None, None)


def test_a_slot_an_appointment_moved_away_from_is_history_and_cannot_be_deleted(db, frozen_clock):
    desk = staff()
    doctor = make_doctor()
    first, second = make_slot(doctor, local(2027, 3, 10, 9)), make_slot(doctor, local(2027, 3, 10, 10))
    view = booking.book(desk, make_patient().id, first.id)
    booking.reschedule(desk, view.id, second.id)

    with pytest.raises(Refused, match="has been booked before: block it"):
        slots.delete_slot(desk, first.id)
    assert TimeSlot.get_or_none(TimeSlot.id == first.id) is not None
