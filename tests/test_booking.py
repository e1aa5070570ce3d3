"""Booking: what the desk may book, every refusal in the desk's words, and the proof by constraint."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

import pytest

from clinic_desk import config
from clinic_desk.config import BookingSettings
from clinic_desk.errors import Conflict, NotFound, PermissionDenied, Refused
from clinic_desk.services import booking, doctors, notify
from clinic_desk.store.models import Appointment, AuditEvent, Outbox
from tests.booking_support import bookable, doctor_actor, local, patient_with_login, staff
from tests.factories import make_appointment, make_doctor, make_patient, make_slot

ON_POSTGRES = bool(os.environ.get("CLINIC_DESK_TEST_DATABASE_URL"))


def test_booking_makes_a_pending_appointment_at_the_doctors_fee(db, frozen_clock):
    doctor, slot, patient = bookable(fee=9550)
    desk = staff()
    view = booking.book(desk, patient.id, slot.id, reason="  knee   pain ")
    assert (view.status, view.price, view.paid, view.reason) == ("pending", 9550, False, "knee pain")
    assert (view.slot_id, view.patient_id, view.doctor_id) == (slot.id, patient.id, doctor.id)
    assert view.starts_at == slot.starts_at
    stored = Appointment.get_by_id(view.id)
    assert stored.created_by_id == desk.user_id and stored.ends_at == slot.ends_at
    doctors.edit_doctor(staff("admin"), doctor.id, fee=20000)
    assert Appointment.get_by_id(view.id).price == 9550  # the fee when booked
    assert AuditEvent.get(AuditEvent.action == "appointment.book").entity_id == view.id
    assert Outbox.get().kind == "appointment_booked"


def test_auto_confirm_confirms_at_once(db, frozen_clock):
    config.use(replace(config.current(), booking=BookingSettings(auto_confirm=True)))
    _, slot, patient = bookable()
    assert booking.book(staff(), patient.id, slot.id).status == "confirmed"
    assert Outbox.get().kind == "appointment_confirmed"


def test_a_slot_already_booked_is_refused(db, frozen_clock):
    _, slot, patient = bookable()
    booking.book(staff(), patient.id, slot.id)
    with pytest.raises(Conflict, match="^slot already booked"):
        booking.book(staff(), make_patient().id, slot.id)


def test_the_unique_index_is_the_proof_when_the_check_is_raced(db, frozen_clock, monkeypatch):
    """Another desk booked between our check and our insert: the constraint refuses, same words."""
    _, slot, patient = bookable()
    make_appointment(slot, make_patient())
    original = booking._check_bookable

    def without_slot_check(slot):
        slot.active_id = None  # the check saw the slot free: the other desk had not committed yet
        original(slot)

    monkeypatch.setattr(booking, "_check_bookable", without_slot_check)
    with pytest.raises(Conflict, match="^slot already booked"):
        booking.book(staff(), patient.id, slot.id)
    assert Appointment.select().count() == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="the exclusion constraint exists on PostgreSQL only")
def test_postgres_exclusion_constraint_refuses_an_overlapping_visit_for_one_patient(db, frozen_clock, monkeypatch):
    patient = make_patient()
    first = make_slot(make_doctor(), local(2027, 3, 10, 9))
    second = make_slot(make_doctor(), local(2027, 3, 10, 9, 15))
    booking.book(staff(), patient.id, first.id)
    original = booking._check_bookable

    def without_patient_check(slot):
        slot.clash_id = None  # the check missed the patient's other visit
        original(slot)

    monkeypatch.setattr(booking, "_check_bookable", without_patient_check)
    with pytest.raises(Conflict, match="patient already has an appointment that overlaps"):
        booking.book(staff(), patient.id, second.id)


def test_refusals_name_the_reason(db, frozen_clock):
    desk = staff()
    doctor, slot, patient = bookable()
    past = make_slot(doctor, frozen_clock - timedelta(minutes=30))
    with pytest.raises(Refused, match="is in the past"):
        booking.book(desk, patient.id, past.id)
    blocked = make_slot(doctor, local(2027, 3, 11, 9), status="blocked")
    with pytest.raises(Refused, match="is blocked"):
        booking.book(desk, patient.id, blocked.id)
    # the patient already sees another doctor at an overlapping time
    other = make_slot(make_doctor(), local(2027, 3, 10, 9, 15))
    make_appointment(other, patient)
    with pytest.raises(Conflict, match=f"patient {patient.id} already has appointment .* 2027-03-10 09:15"):
        booking.book(desk, patient.id, slot.id)
    # back to back is fine
    after = make_slot(make_doctor(), local(2027, 3, 10, 9, 45))
    assert booking.book(desk, patient.id, after.id).status == "pending"
    doctors.edit_doctor(staff("admin"), doctor.id, active=False)
    later = make_slot(doctor, local(2027, 3, 12, 9))
    with pytest.raises(Refused, match="is not taking appointments"):
        booking.book(desk, make_patient().id, later.id)
    with pytest.raises(NotFound, match="unknown slot"):
        booking.book(desk, patient.id, 999999)
    with pytest.raises(NotFound, match="unknown patient"):
        booking.book(desk, 999999, later.id)


def test_a_cancelled_visit_does_not_block_the_patient_or_the_slot(db, frozen_clock):
    _, slot, patient = bookable()
    make_appointment(slot, patient, status="cancelled")
    assert booking.book(staff(), patient.id, slot.id).status == "pending"


def test_patients_book_for_themselves_only(db, frozen_clock):
    _, slot, other = bookable()
    patient, patient_actor = patient_with_login()
    with pytest.raises(PermissionDenied):
        booking.book(patient_actor, other.id, slot.id)
    assert booking.book(patient_actor, patient.id, slot.id).patient_id == patient.id
    doctor = make_doctor()
    with pytest.raises(PermissionDenied):
        booking.book(doctor_actor(doctor), other.id, make_slot(doctor, local(2027, 3, 12, 9)).id)


def test_mail_audit_and_booking_are_one_transaction(db, frozen_clock, monkeypatch):
    _, slot, patient = bookable()

    def mail_broken(event, appointment_id, **extra):
        raise RuntimeError("template missing")

    monkeypatch.setattr(notify, "appointment_event", mail_broken)
    with pytest.raises(RuntimeError):
        booking.book(staff(), patient.id, slot.id)
    assert (Appointment.select().count(), AuditEvent.select().count(), Outbox.select().count()) == (0, 0, 0)
