"""After booking: confirm, cancel, complete, no-show, notes, reschedule; illegal steps name the legal ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic_desk.errors import BadInput, Conflict, PermissionDenied, Refused
from clinic_desk.services import booking, clock, payments, queries
from clinic_desk.store.db import db as proxy
from clinic_desk.store.models import Appointment, AuditEvent, Outbox, Payment
from tests.booking_support import bookable, doctor_actor, local, patient_with_login, staff
from tests.factories import actor_for, make_appointment, make_doctor, make_patient, make_slot, make_user


@pytest.fixture
def booked(db, frozen_clock):
    doctor, slot, patient = bookable()
    view = booking.book(staff(), patient.id, slot.id)
    return doctor, slot, patient, view


def _kinds() -> list[str]:
    return [row.kind for row in Outbox.select().order_by(Outbox.id)]


def test_confirm_then_confirm_again_names_what_is_allowed(booked):
    _, _, _, view = booked
    assert booking.confirm(staff(), view.id).status == "confirmed"
    with pytest.raises(Refused, match=r"is confirmed: cannot confirm it \(allowed now: cancel, complete, no-show\)"):
        booking.confirm(staff(), view.id)
    assert _kinds() == ["appointment_booked", "appointment_confirmed"]


def test_cancel_needs_a_reason_frees_the_slot_and_is_final(booked):
    _, slot, _, view = booked
    with pytest.raises(BadInput, match="needs a reason"):
        booking.cancel(staff(), view.id, "   ")
    result = booking.cancel(staff(), view.id, "patient is ill")
    assert (result.appointment.status, result.appointment.cancel_reason, result.refunded) == (
        "cancelled", "patient is ill", 0
    )
    assert booking.book(staff(), make_patient().id, slot.id).status == "pending"  # the slot is free again
    with pytest.raises(Refused, match="is cancelled: cannot cancel it .*does not change any more"):
        booking.cancel(staff(), view.id, "again")
    assert "appointment_cancelled" in _kinds()
    event = AuditEvent.get(AuditEvent.action == "appointment.cancel")
    assert '"cancel_reason": "patient is ill"' in event.details


def test_cancel_applies_the_refund_policy_inside_the_same_transaction(booked, monkeypatch):
    _, _, _, view = booked
    calls = []

    def refund(actor, appointment, *, by_clinic):
        calls.append((appointment.id, by_clinic, proxy.in_transaction()))
        return 8000

    monkeypatch.setattr(payments, "refund_on_cancel", refund)
    result = booking.cancel(staff(), view.id, "doctor ill", by_clinic=True)
    assert result.refunded == 8000 and calls == [(view.id, True, True)]


def test_only_staff_cancel_on_the_clinics_behalf(db, frozen_clock):
    _, slot, _ = bookable()
    patient, patient_actor = patient_with_login()
    view = booking.book(patient_actor, patient.id, slot.id)
    with pytest.raises(PermissionDenied):
        booking.cancel(patient_actor, view.id, "clinic", by_clinic=True)
    assert booking.cancel(patient_actor, view.id, "cannot come").appointment.status == "cancelled"


def test_complete_and_no_show_only_from_the_start_time_and_by_the_doctor(booked):
    doctor, slot, _, view = booked
    own = doctor_actor(doctor)
    with pytest.raises(Refused, match="starts at 2027-03-10 09:00: it can be marked completed only from then on"):
        booking.complete(own, view.id)
    clock.set_now(slot.starts_at)
    with pytest.raises(PermissionDenied):
        booking.complete(staff(), view.id)
    with pytest.raises(PermissionDenied):
        booking.complete(doctor_actor(make_doctor()), view.id)
    assert booking.complete(own, view.id).status == "completed"
    with pytest.raises(Refused, match="is completed: cannot cancel it"):
        booking.cancel(staff(), view.id, "too late")
    other = booking.book(staff(), make_patient().id, make_slot(doctor, slot.starts_at + timedelta(hours=1)).id)
    clock.set_now(slot.starts_at + timedelta(hours=2))
    assert booking.no_show(own, other.id).status == "no_show"
    with pytest.raises(Refused, match="is no-show: cannot complete it"):
        booking.complete(own, other.id)


def test_notes_are_the_doctors_and_hidden_from_the_patient(booked):
    doctor, _, patient, view = booked
    saved = booking.set_notes(doctor_actor(doctor), view.id, "BP 120/80\nfollow up in 2 weeks")
    assert saved.notes == "BP 120/80\nfollow up in 2 weeks"
    with pytest.raises(PermissionDenied):
        booking.set_notes(staff(), view.id, "reception note")
    with pytest.raises(BadInput, match="control characters"):
        booking.set_notes(doctor_actor(doctor), view.id, "bell \x07")
    user = make_user("patient")
    Appointment.update(patient=make_patient(user=user)).where(Appointment.id == view.id).execute()
    assert queries.get_appointment(actor_for(user), view.id).notes == ""


def test_reschedule_moves_the_same_appointment_with_its_payment(booked):
    doctor, slot, patient, view = booked
    Payment.create(appointment=view.id, method="card", amount=8000, status="succeeded", card_last4="4242",
                   created_at=clock.now())
    other_doctor = make_doctor(fee=20000)
    new_slot = make_slot(other_doctor, local(2027, 3, 11, 14))
    moved = booking.reschedule(staff(), view.id, new_slot.id)
    assert (moved.id, moved.slot_id, moved.doctor_id, moved.starts_at) == (view.id, new_slot.id, other_doctor.id,
                                                                          new_slot.starts_at)
    assert (moved.price, moved.paid, moved.status) == (8000, True, "pending")
    assert booking.book(staff(), make_patient().id, slot.id).status == "pending"  # the old slot is free
    assert _kinds()[-2] == "appointment_rescheduled"


def test_reschedule_to_a_taken_slot_changes_nothing(booked):
    doctor, slot, _, view = booked
    taken = make_slot(doctor, local(2027, 3, 10, 10))
    make_appointment(taken, make_patient())
    with pytest.raises(Conflict, match="^slot already booked"):
        booking.reschedule(staff(), view.id, taken.id)
    stored = Appointment.get_by_id(view.id)
    assert (stored.slot_id, stored.starts_at) == (slot.id, slot.starts_at)
    with pytest.raises(BadInput, match="already in slot"):
        booking.reschedule(staff(), view.id, slot.id)
    blocked = make_slot(doctor, local(2027, 3, 10, 11), status="blocked")
    with pytest.raises(Refused, match="is blocked"):
        booking.reschedule(staff(), view.id, blocked.id)


def test_reschedule_may_overlap_the_old_time_of_the_same_patient(booked):
    doctor, slot, patient, view = booked
    overlapping = make_slot(make_doctor(), slot.starts_at + timedelta(minutes=15))
    assert booking.reschedule(staff(), view.id, overlapping.id).slot_id == overlapping.id


def test_reschedule_refuses_finished_or_started_visits(booked):
    doctor, slot, _, view = booked
    later = make_slot(doctor, local(2027, 3, 20, 9))
    clock.set_now(slot.starts_at + timedelta(minutes=5))
    with pytest.raises(Refused, match="has already started"):
        booking.reschedule(staff(), view.id, later.id)
    booking.complete(doctor_actor(doctor), view.id)
    with pytest.raises(Refused, match="only pending or confirmed"):
        booking.reschedule(staff(), view.id, later.id)


def test_patients_reschedule_their_own_only(db, frozen_clock):
    doctor, slot, _ = bookable()
    patient, patient_actor = patient_with_login()
    view = booking.book(patient_actor, patient.id, slot.id)
    later = make_slot(doctor, local(2027, 3, 20, 9))
    assert booking.reschedule(patient_actor, view.id, later.id).slot_id == later.id
    _, someone_else = patient_with_login()
    with pytest.raises(PermissionDenied):
        booking.reschedule(someone_else, view.id, slot.id)
