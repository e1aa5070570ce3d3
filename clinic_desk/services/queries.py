"""The read queries the front ends run all day, each a fixed number of index-backed SELECTs.

- ``list_appointments``: filters by doctor, patient, day, status (``appointments list``)
- ``agenda``: a doctor's active appointments on one day, with patient names (my day)
- ``next_free_slot``: the first free slot of any doctor of a specialty after a time
- ``month_occupancy``: a doctor's free/booked/blocked slot counts per local day (the calendar grid)
- ``day_slots``: a doctor's slots on one day with who booked them (the calendar's day list)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from peewee import JOIN, SQL, Case, Select, fn

from ..errors import BadInput, NotFound
from ..store.db import db
from ..store.fields import from_db
from ..store.models import APPOINTMENT_STATUSES, Appointment, Doctor, Patient, Payment, TimeSlot, User
from . import policy
from .actors import Actor
from .doctors import doctors_with_specialty, find_doctor, next_free_subquery
from .slots import SlotView, slot_query, slot_view, slots_between
from .timeutil import local_day_bounds, local_range_bounds
from .tx import reads

DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class AppointmentView:
    id: int
    slot_id: int
    patient_id: int
    patient_name: str
    doctor_id: int
    doctor: str  # username
    doctor_name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    price: int  # minor units, the doctor's fee when booked
    paid: bool  # a succeeded payment that is not fully refunded
    reason: str
    notes: str  # the doctor's notes: empty for patients
    cancel_reason: str
    created_at: datetime


def _paid_subquery():
    return fn.EXISTS(
        Payment.select(SQL("1")).where((Payment.appointment == Appointment.id) & Payment.is_open())
    )


def appointment_query():
    return (
        Appointment.select(
            Appointment.id,
            Appointment.slot.alias("slot_id"),
            Appointment.patient.alias("patient_id"),
            Patient.full_name.alias("patient_name"),
            Appointment.doctor.alias("doctor_id"),
            User.username.alias("doctor"),
            User.full_name.alias("doctor_name"),
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.status,
            Appointment.price,
            _paid_subquery().alias("paid"),
            Appointment.reason,
            Appointment.notes,
            Appointment.cancel_reason,
            Appointment.created_at,
        )
        .join(Patient, on=(Appointment.patient == Patient.id))
        .switch(Appointment)
        .join(Doctor, on=(Appointment.doctor == Doctor.id))
        .join(User, on=(Doctor.user == User.id))
    )


def appointment_view(row: dict, actor: Actor) -> AppointmentView:
    return AppointmentView(
        **{**row, "paid": bool(row["paid"]), "notes": row["notes"] if actor.is_staff else ""}
    )


def load_appointment(actor: Actor, appointment_id: int) -> AppointmentView:
    """One appointment as the actor may see it (one SELECT; the caller checks permissions)."""
    row = appointment_query().where(Appointment.id == appointment_id).dicts().first()
    if row is None:
        raise NotFound(f"unknown appointment {appointment_id}")
    return appointment_view(row, actor)


@reads
def get_appointment(actor: Actor, appointment_id: int) -> AppointmentView:
    view = load_appointment(actor, appointment_id)
    policy.require(actor, "appointment.read", doctor_id=view.doctor_id, patient_id=view.patient_id)
    return view


def parse_status(text: str) -> str:
    status = str(text).strip().lower().replace("-", "_")
    if status not in APPOINTMENT_STATUSES:
        raise BadInput(f"unknown status {text!r} (one of: {', '.join(APPOINTMENT_STATUSES)})")
    return status


@reads
def list_appointments(
    actor: Actor,
    *,
    doctor: str | int | None = None,
    patient_id: int | None = None,
    day: date | None = None,
    first: date | None = None,
    last: date | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[AppointmentView]:
    """Appointments by start time. A doctor sees their own, a patient theirs, the desk everyone's."""
    doctor_id = find_doctor(doctor).id if doctor is not None else None
    if actor.role == "doctor" and doctor_id is None:
        doctor_id = actor.doctor_id
    if actor.role == "patient" and patient_id is None:
        patient_id = actor.patient_id
    policy.require(actor, "appointment.list", doctor_id=doctor_id, patient_id=patient_id)
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    if patient_id is not None and not Patient.select().where(Patient.id == patient_id).exists():
        raise NotFound(f"unknown patient {patient_id}")  # as an unknown --doctor is: not an empty list
    query = appointment_query()
    if doctor_id is not None:
        query = query.where(Appointment.doctor == doctor_id)
    if patient_id is not None:
        query = query.where(Appointment.patient == patient_id)
    if day is not None:
        first = last = day
    if first is not None or last is not None:
        start, end = local_range_bounds(first or last, last or first)
        query = query.where((Appointment.starts_at >= start) & (Appointment.starts_at < end))
    if status is not None:
        query = query.where(Appointment.status == parse_status(status))
    query = query.order_by(Appointment.starts_at, Appointment.id).limit(limit)
    return [appointment_view(row, actor) for row in query.dicts()]


@reads
def agenda(actor: Actor, doctor: str | int, day: date) -> list[AppointmentView]:
    """The doctor's appointments on ``day`` that are not cancelled, with the patients' names."""
    doctor_id = doctor if isinstance(doctor, int) else find_doctor(doctor).id
    policy.require(actor, "appointment.list", doctor_id=doctor_id)
    start, end = local_day_bounds(day)
    query = (
        appointment_query()
        .where(
            (Appointment.doctor == doctor_id)
            & (Appointment.starts_at >= start)
            & (Appointment.starts_at < end)
            & (Appointment.status != "cancelled")
        )
        .order_by(Appointment.starts_at)
    )
    return [appointment_view(row, actor) for row in query.dicts()]


@reads
def next_free_slot(actor: Actor, specialty: str, after: datetime) -> SlotView | None:
    """The earliest free slot after ``after`` of any active doctor with ``specialty``.

    Two small SELECTs whatever the number of slots: each doctor's first free slot is an index probe
    on (doctor_id, starts_at) and the earliest of those wins; then that slot with its details.
    """
    policy.require(actor, "slot.read")
    firsts = (
        Doctor.select(Doctor.id.alias("doctor_id"), next_free_subquery(Doctor.id, after).alias("starts_at"))
        .where((Doctor.is_active == True) & Doctor.id.in_(doctors_with_specialty(specialty)))  # noqa: E712
        .alias("firsts")
    )
    earliest = (
        Select([firsts], [firsts.c.doctor_id, firsts.c.starts_at])
        .where(firsts.c.starts_at.is_null(False))
        .order_by(firsts.c.starts_at, firsts.c.doctor_id)
        .limit(1)
        .bind(db)
        .tuples()
        .first()
    )
    if earliest is None:
        return None
    doctor_id, starts_at = earliest
    slot = slot_query().where((TimeSlot.doctor == doctor_id) & (TimeSlot.starts_at == from_db(starts_at)))
    row = slot.dicts().first()
    return slot_view(row, actor) if row else None  # None too when that slot went in between


@dataclass(frozen=True)
class DayOccupancy:
    day: date
    free: int
    booked: int
    blocked: int

    @property
    def total(self) -> int:
        return self.free + self.booked + self.blocked


@reads
def month_occupancy(actor: Actor, doctor_id: int, year: int, month: int) -> list[DayOccupancy]:
    """Every local day of the month with the doctor's free, booked and blocked slot counts.

    One SELECT over one index range (the doctor's slots in the month): each slot's local day is a
    CASE over the days' UTC bounds (computed here, so daylight-saving days are exact), its booking
    a LEFT JOIN on the one-active-appointment-per-slot index.
    """
    policy.require(actor, "slot.read")
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        raise BadInput(f"no such month: {year}-{month}")
    days = [date(year, month, n) for n in range(1, calendar.monthrange(year, month)[1] + 1)]
    bounds = [local_day_bounds(day) for day in days]
    day_number = Case(None, [(TimeSlot.starts_at < end, n) for n, (_, end) in enumerate(bounds)])
    booked = Appointment.id.is_null(False)
    query = (
        TimeSlot.select(
            day_number.alias("n"),
            fn.COUNT(TimeSlot.id).alias("slots"),
            fn.SUM(Case(None, [(booked, 1)], 0)).alias("booked"),
            fn.SUM(Case(None, [(booked, 0), (TimeSlot.status == "blocked", 1)], 0)).alias("blocked"),
        )
        .join(
            Appointment,
            JOIN.LEFT_OUTER,
            on=((Appointment.slot == TimeSlot.id) & (Appointment.status != "cancelled")),
        )
        .where(
            (TimeSlot.doctor == doctor_id)
            & (TimeSlot.starts_at >= bounds[0][0])
            & (TimeSlot.starts_at < bounds[-1][1])
        )
        .group_by(SQL("1"))
    )
    counts = {n: (slots - booked_ - blocked, booked_, blocked) for n, slots, booked_, blocked in query.tuples()}
    return [DayOccupancy(day, *counts.get(n, (0, 0, 0))) for n, day in enumerate(days)]


@reads
def day_slots(actor: Actor, doctor_id: int, day: date) -> list[SlotView]:
    """The doctor's slots on ``day``: status, free or booked, and for staff the patient's name."""
    policy.require(actor, "slot.read")
    start, end = local_day_bounds(day)
    return slots_between(actor, doctor_id, start, end)
