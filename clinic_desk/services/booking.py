"""Booking a slot, and the appointment's life after it: confirm, cancel, reschedule, complete, no-show.

No double booking is proved by the database, not by a look first: the partial unique index allows
one active appointment per slot, and on PostgreSQL exclusion constraints refuse overlapping visits
of one patient (or doctor). The checks here run inside the same transaction only to give the desk
a clear reason; when another desk wins the race in between, the constraint's IntegrityError
becomes the same "slot already booked". On SQLite the write transaction (``BEGIN IMMEDIATE``)
admits one booking at a time, so the patient-overlap check in SQL is exact there too.

Every change writes its audit event, queues the patient's mail and announces the change to the
other desks, all in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import IntegrityError

from .. import config
from ..errors import BadInput, Conflict, NotFound, Refused
from ..store.db import db, is_postgres
from ..store.fields import from_db
from ..store.models import Appointment, Doctor, Patient, TimeSlot, User
from . import audit, changes, clock, notify, payments, policy
from .actors import Actor
from .contact import clean_multiline, clean_text
from .money import format_money
from .patients import find_patient
from .queries import AppointmentView, load_appointment
from .slots import describe
from .timeutil import to_local
from .tx import translate, writes

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("confirmed", "cancelled", "completed", "no_show"),
    "confirmed": ("cancelled", "completed", "no_show"),
    "cancelled": (),
    "completed": (),
    "no_show": (),
}
_VERBS = {"confirmed": "confirm", "cancelled": "cancel", "completed": "complete", "no_show": "no-show"}
MAX_REASON, MAX_NOTES = 1000, 10_000


@dataclass(frozen=True)
class CancelResult:
    appointment: AppointmentView
    refunded: int  # minor units returned to the patient's wallet by the cancellation policy

    @property
    def money(self) -> str:
        """What the cancellation did with the money, in the desk's words ("" when nothing was paid):
        staff must know when a late cancellation keeps a payment."""
        parts = [f"refunded {format_money(self.refunded)} to the wallet"] if self.refunded else []
        if self.appointment.paid:  # some of a payment is still kept
            kept = "the rest of the payment" if self.refunded else "the payment"
            parts.append(f"{kept} is kept (late cancellation); a refund by staff returns it")
        return "; ".join(parts)


# -- booking ----------------------------------------------------------------------


@writes
def book(actor: Actor, patient_id: int, slot_id: int, reason: str = "") -> AppointmentView:
    """Book the slot for the patient: pending, or confirmed at once when ``booking.auto_confirm``.

    The price is the doctor's fee now. Refused when the slot is taken, blocked or past, the doctor
    is inactive, or the patient already has an overlapping visit.
    """
    policy.require(actor, "appointment.book", patient_id=patient_id)
    reason = clean_text(reason, what="reason", max_length=MAX_REASON, required=False)
    slot = _booking_facts(slot_id, patient_id)
    doctor = slot.doctor
    _check_bookable(slot)
    now = clock.now()
    status = "confirmed" if config.current().booking.auto_confirm else "pending"
    try:
        appointment = Appointment.create(
            slot=slot.id,
            patient=slot.patient,
            doctor=doctor,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=status,
            reason=reason,
            price=doctor.fee,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError as exc:
        raise _conflict(exc, slot) from None
    audit.record(
        actor,
        "appointment.book",
        "appointment",
        appointment.id,
        slot_id=slot.id,
        patient_id=patient_id,
        doctor_id=doctor.id,
        status=status,
        price=doctor.fee,
    )
    notify.appointment_event("confirmed" if status == "confirmed" else "booked", appointment.id, row=appointment)
    changes.announce("appointment", "booked", id=appointment.id, slot_id=slot.id, doctor_id=doctor.id)
    return _new_appointment_view(appointment)


# What a booking needs to know, in one statement (see ``_booking_facts``); {0} is the driver's
# parameter mark. Written out rather than built with Peewee: building this join costs more than the
# rest of a booking's Python put together.
_FACTS_SQL = (
    "SELECT s.id, s.doctor_id, s.starts_at, s.ends_at, s.status, d.user_id, d.room, d.fee, d.is_active,"
    " u.username, u.full_name, p.id, p.full_name, p.email,"
    " (SELECT a.id FROM appointment a WHERE a.slot_id = s.id AND a.status <> 'cancelled' LIMIT 1),"
    " (SELECT a.id FROM appointment a WHERE a.patient_id = p.id AND a.status <> 'cancelled'"
    " AND a.starts_at < s.ends_at AND a.ends_at > s.starts_at AND a.id <> {0} LIMIT 1)"
    " FROM time_slot s JOIN doctor d ON d.id = s.doctor_id JOIN app_user u ON u.id = d.user_id"
    " JOIN patient p ON p.id = {0} WHERE s.id = {0}"
)


def _booking_facts(slot_id: int, patient_id: int, *, moving: int | None = None) -> TimeSlot:
    """The slot with its doctor, the doctor's user and the patient (``slot.patient``), plus what
    could refuse the booking: ``active_id`` (the slot's active appointment) and ``clash_id`` (an
    active visit of the patient that overlaps the slot; ``moving``, the appointment being
    rescheduled, is no clash). One query; on PostgreSQL it locks the slot row (FOR SHARE).
    The rows hold the columns a booking, its mail and its view use, no others."""
    sql = _FACTS_SQL.format(db.param) + (" FOR SHARE OF s" if is_postgres() else "")
    row = db.execute_sql(sql, (moving or 0, patient_id, slot_id)).fetchone()
    if row is None:
        find_patient(patient_id)  # an unknown patient is named first
        raise NotFound(f"unknown slot {slot_id}")
    (found_id, doctor_id, starts_at, ends_at, status, user_id, room, fee, is_active,
     username, doctor_name, found_patient, patient_name, email, active_id, clash_id) = row
    doctor = Doctor(
        id=doctor_id, user=User(id=user_id, username=username, full_name=doctor_name),
        room=room, fee=fee, is_active=bool(is_active),
    )
    slot = TimeSlot(id=found_id, doctor=doctor, starts_at=from_db(starts_at), ends_at=from_db(ends_at), status=status)
    slot.patient = Patient(id=found_patient, full_name=patient_name, email=email)
    slot.active_id, slot.clash_id = active_id, clash_id
    return slot


def _check_bookable(slot: TimeSlot) -> None:
    """Refuse with the desk's words, from the facts of ``_booking_facts``."""
    doctor = slot.doctor
    if not doctor.is_active:
        raise Refused(f"{doctor.user.full_name} is not taking appointments (inactive)")
    if slot.status == "blocked":
        raise Refused(f"{describe(slot)} is blocked")
    if slot.starts_at <= clock.now():
        raise Refused(f"{describe(slot)} is in the past")
    if slot.active_id is not None:
        raise Conflict(f"slot already booked: {describe(slot)} is taken")
    if slot.clash_id is not None:
        clash = Appointment.get_by_id(slot.clash_id)
        raise Conflict(
            f"patient {slot.patient.id} already has appointment {clash.id} at "
            f"{to_local(clash.starts_at):%Y-%m-%d %H:%M}, which overlaps {describe(slot)}"
        )


def _new_appointment_view(appointment: Appointment) -> AppointmentView:
    """A just-booked appointment (its doctor, user and patient attached) as ``load_appointment``
    shows it, without reading it back: nothing paid, no notes yet."""
    doctor, patient = appointment.doctor, appointment.patient
    return AppointmentView(
        id=appointment.id,
        slot_id=appointment.slot_id,
        patient_id=patient.id,
        patient_name=patient.full_name,
        doctor_id=doctor.id,
        doctor=doctor.user.username,
        doctor_name=doctor.user.full_name,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=appointment.status,
        price=appointment.price,
        paid=False,
        reason=appointment.reason,
        notes=appointment.notes,
        cancel_reason=appointment.cancel_reason,
        created_at=appointment.created_at,
    )


def _conflict(exc: IntegrityError, slot: TimeSlot) -> Exception:
    """The desk's words for a constraint that refused the booking."""
    text = str(exc)
    if "appointment_one_active_per_slot" in text or "appointment.slot_id" in text:
        return Conflict(f"slot already booked: {describe(slot)} is taken")
    if "appointment_patient_no_overlap" in text:
        return Conflict(f"the patient already has an appointment that overlaps {describe(slot)}")
    if "appointment_doctor_no_overlap" in text:
        return Conflict(f"the doctor already has an appointment that overlaps {describe(slot)}")
    return translate(exc)


# -- the lifecycle ------------------------------------------------------------------


def _locked_appointment(appointment_id: int) -> Appointment:
    query = Appointment.select().where(Appointment.id == appointment_id)
    if is_postgres():
        query = query.for_update()
    appointment = query.first()
    if appointment is None:
        raise NotFound(f"unknown appointment {appointment_id}")
    return appointment


def _shown(status: str) -> str:
    return status.replace("_", "-")


def _check_transition(appointment: Appointment, to: str) -> None:
    allowed = TRANSITIONS[appointment.status]
    if to in allowed:
        return
    status = _shown(appointment.status)
    prefix = f"appointment {appointment.id} is {status}: cannot {_VERBS[to]} it"
    if not allowed:
        raise Refused(f"{prefix} (a {status} appointment does not change any more)")
    raise Refused(f"{prefix} (allowed now: {', '.join(_VERBS[s] for s in allowed)})")


def _set_status(actor: Actor, appointment: Appointment, status: str, **extra: object) -> None:
    Appointment.update(status=status, updated_at=clock.now(), **extra).where(Appointment.id == appointment.id).execute()
    audit.record(
        actor,
        f"appointment.{_VERBS[status].replace('-', '_')}",
        "appointment",
        appointment.id,
        previous=appointment.status,
        **{key: value for key, value in extra.items() if key == "cancel_reason"},
    )
    changes.announce(
        "appointment", status, id=appointment.id, slot_id=appointment.slot_id, doctor_id=appointment.doctor_id
    )


@writes
def confirm(actor: Actor, appointment_id: int) -> AppointmentView:
    appointment = _locked_appointment(appointment_id)
    policy.require(actor, "appointment.confirm", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    _check_transition(appointment, "confirmed")
    _set_status(actor, appointment, "confirmed")
    notify.appointment_event("confirmed", appointment.id)
    return load_appointment(actor, appointment.id)


@writes
def cancel(actor: Actor, appointment_id: int, reason: str, *, by_clinic: bool = False) -> CancelResult:
    """Cancel with a reason; the slot is free again at once and the refund policy applies
    (always a full refund when the clinic cancels)."""
    reason = clean_text(reason or "", what="a cancellation reason", max_length=MAX_REASON, required=False)
    if not reason:
        raise BadInput("a cancellation needs a reason (--reason)")
    appointment = _locked_appointment(appointment_id)
    owners = {"doctor_id": appointment.doctor_id, "patient_id": appointment.patient_id}
    policy.require(actor, "appointment.cancel", **owners)
    if by_clinic:
        policy.require(actor, "appointment.cancel_by_clinic", **owners)
    _check_transition(appointment, "cancelled")
    _set_status(actor, appointment, "cancelled", cancel_reason=reason)
    refunded = payments.refund_on_cancel(actor, appointment, by_clinic=by_clinic)
    notify.withdraw_reminders(appointment_id=appointment.id)
    notify.appointment_event("cancelled", appointment.id)
    return CancelResult(load_appointment(actor, appointment.id), refunded)


def _check_patient_may_move(appointment: Appointment) -> None:
    """A paid visit inside the late-cancellation window stays where it is, for its patient: moving
    it out of the window and cancelling there would refund what a late cancellation keeps."""
    if payments.refund_percent(appointment.starts_at, by_clinic=False) < 100 and payments.payment_kept(appointment.id):
        hours = config.current().booking.cancellation_hours
        raise Refused(
            f"appointment {appointment.id} is paid and starts in less than {hours} h: it can no longer be "
            "moved online; please ask the clinic"
        )


def _visit_started(actor: Actor, appointment_id: int, status: str) -> AppointmentView:
    appointment = _locked_appointment(appointment_id)
    policy.require(actor, "appointment.complete", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    _check_transition(appointment, status)
    if clock.now() < appointment.starts_at:
        raise Refused(
            f"appointment {appointment.id} starts at {to_local(appointment.starts_at):%Y-%m-%d %H:%M}: "
            f"it can be marked {_shown(status)} only from then on"
        )
    _set_status(actor, appointment, status)
    return load_appointment(actor, appointment.id)


@writes
def complete(actor: Actor, appointment_id: int) -> AppointmentView:
    """The visit took place (its doctor says so, at or after its start)."""
    return _visit_started(actor, appointment_id, "completed")


@writes
def no_show(actor: Actor, appointment_id: int) -> AppointmentView:
    """The patient did not come (its doctor says so, at or after its start)."""
    return _visit_started(actor, appointment_id, "no_show")


@writes
def set_notes(actor: Actor, appointment_id: int, text: str) -> AppointmentView:
    """The doctor's notes on the visit (replacing earlier notes)."""
    appointment = _locked_appointment(appointment_id)
    policy.require(actor, "appointment.notes", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    notes = _clean_notes(text)
    Appointment.update(notes=notes, updated_at=clock.now()).where(Appointment.id == appointment.id).execute()
    audit.record(actor, "appointment.notes", "appointment", appointment.id, length=len(notes))
    changes.announce(
        "appointment", "notes", id=appointment.id, slot_id=appointment.slot_id, doctor_id=appointment.doctor_id
    )
    return load_appointment(actor, appointment.id)


def _clean_notes(text: str) -> str:
    return clean_multiline(text, what="notes", max_length=MAX_NOTES)


@writes
def reschedule(actor: Actor, appointment_id: int, new_slot_id: int) -> AppointmentView:
    """Move the appointment to another free slot (of any doctor) in one step: the old slot is
    freed only if the new one is taken. The appointment keeps its id, price and payments."""
    appointment = _locked_appointment(appointment_id)
    policy.require(
        actor, "appointment.reschedule", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id
    )
    if appointment.status not in ("pending", "confirmed"):
        raise Refused(
            f"appointment {appointment.id} is {_shown(appointment.status)}: "
            "only pending or confirmed appointments can be rescheduled"
        )
    if appointment.starts_at <= clock.now():
        raise Refused(
            f"appointment {appointment.id} has already started: mark it completed or no-show, then book again"
        )
    if new_slot_id == appointment.slot_id:
        raise BadInput(f"appointment {appointment.id} is already in slot {new_slot_id}")
    if actor.role == "patient":
        _check_patient_may_move(appointment)
    slot = _booking_facts(new_slot_id, appointment.patient_id, moving=appointment.id)
    doctor = slot.doctor
    _check_bookable(slot)
    try:
        Appointment.update(
            slot=slot.id,
            doctor=doctor.id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            updated_at=clock.now(),
        ).where(Appointment.id == appointment.id).execute()
    except IntegrityError as exc:
        raise _conflict(exc, slot) from None
    TimeSlot.update(booked_before=True).where(TimeSlot.id == appointment.slot_id).execute()  # history: never deleted
    audit.record(
        actor,
        "appointment.reschedule",
        "appointment",
        appointment.id,
        from_slot=appointment.slot_id,
        to_slot=slot.id,
        from_starts_at=appointment.starts_at,
        to_starts_at=slot.starts_at,
    )
    notify.withdraw_reminders(appointment_id=appointment.id)  # the next run reminds of the new time
    notify.appointment_event("rescheduled", appointment.id)
    changes.announce(
        "appointment",
        "rescheduled",
        id=appointment.id,
        slot_id=slot.id,
        old_slot_id=appointment.slot_id,
        doctor_id=doctor.id,
        old_doctor_id=appointment.doctor_id,
    )
    return load_appointment(actor, appointment.id)
