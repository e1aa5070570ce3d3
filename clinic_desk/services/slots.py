"""A doctor's time slots: list them, block and unblock them, delete the never-booked ones.

A slot is *free* when it is open and holds no active (not cancelled) appointment. Creating slots
in bulk lives in ``slotgen.py`` (from a weekly plan) and ``slotimport.py`` (from a CSV file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import JOIN

from ..errors import BadInput, NotFound, Refused
from ..store.db import is_postgres
from ..store.models import Appointment, Doctor, Patient, TimeSlot, User
from . import audit, changes, clock, policy
from .actors import Actor
from .doctors import find_doctor
from .timeutil import iso_local, local_range_bounds, to_local
from .tx import reads, writes

MAX_LIST_DAYS = 366
DEFAULT_LIST_DAYS = 30


@dataclass(frozen=True)
class SlotView:
    id: int
    doctor_id: int
    doctor: str  # the doctor's username
    starts_at: datetime
    ends_at: datetime
    status: str  # open | blocked
    free: bool
    appointment_id: int | None
    appointment_status: str | None
    patient_id: int | None
    patient_name: str | None  # shown to staff and to the patient themself only


def slot_query():
    """Slots with their doctor's username and their active appointment, if any (one SELECT)."""
    return (
        TimeSlot.select(
            TimeSlot.id,
            TimeSlot.doctor.alias("doctor_id"),
            User.username.alias("doctor"),
            TimeSlot.starts_at,
            TimeSlot.ends_at,
            TimeSlot.status,
            Appointment.id.alias("appointment_id"),
            Appointment.status.alias("appointment_status"),
            Appointment.patient.alias("patient_id"),
            Patient.full_name.alias("patient_name"),
        )
        .join(Doctor, on=(TimeSlot.doctor == Doctor.id))
        .join(User, on=(Doctor.user == User.id))
        .switch(TimeSlot)
        .join(
            Appointment,
            JOIN.LEFT_OUTER,
            on=((Appointment.slot == TimeSlot.id) & (Appointment.status != "cancelled")),
        )
        .join(Patient, JOIN.LEFT_OUTER, on=(Appointment.patient == Patient.id))
    )


def slot_view(row: dict, actor: Actor) -> SlotView:
    booked = row["appointment_id"] is not None
    sees_patient = actor.is_staff or (actor.patient_id is not None and actor.patient_id == row["patient_id"])
    return SlotView(
        id=row["id"],
        doctor_id=row["doctor_id"],
        doctor=row["doctor"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        status=row["status"],
        free=row["status"] == "open" and not booked,
        appointment_id=row["appointment_id"] if sees_patient else None,
        appointment_status=row["appointment_status"] if sees_patient else None,
        patient_id=row["patient_id"] if sees_patient else None,
        patient_name=row["patient_name"] if sees_patient else None,
    )


def slots_between(
    actor: Actor, doctor_id: int, start: datetime, end: datetime, *, free_only: bool = False
) -> list[SlotView]:
    """The doctor's slots starting in [start, end), by time (one index-backed SELECT)."""
    query = slot_query().where(
        (TimeSlot.doctor == doctor_id) & (TimeSlot.starts_at >= start) & (TimeSlot.starts_at < end)
    )
    if free_only:
        query = query.where((TimeSlot.status == "open") & Appointment.id.is_null())
    return [slot_view(row, actor) for row in query.order_by(TimeSlot.starts_at).dicts()]


@reads
def list_slots(
    actor: Actor, doctor: str | int, first: date | None = None, last: date | None = None, *, free_only: bool = False
) -> list[SlotView]:
    """The doctor's slots on the local days ``first`` .. ``last``; without them the next 30 days
    (from ``first`` when only it is given)."""
    policy.require(actor, "slot.read")
    target = find_doctor(doctor)
    first = first or to_local(clock.now()).date()
    last = last or first + timedelta(days=DEFAULT_LIST_DAYS - 1)
    if (last - first).days + 1 > MAX_LIST_DAYS:
        raise BadInput(f"list at most {MAX_LIST_DAYS} days at a time")
    start, end = local_range_bounds(first, last)
    return slots_between(actor, target.id, start, end, free_only=free_only)


def describe(slot: TimeSlot) -> str:
    return f"slot {slot.id} ({iso_local(slot.starts_at)})"


def locked_slot(slot_id: int, *, share: bool = False) -> TimeSlot:
    """The slot row, locked until the transaction ends on PostgreSQL (SQLite: the write lock is
    already held). ``share``: bookings lock it shared, block/unblock/delete exclusively."""
    query = TimeSlot.select().where(TimeSlot.id == slot_id)
    if is_postgres():
        query = query.for_update("FOR SHARE" if share else "FOR UPDATE")
    slot = query.first()
    if slot is None:
        raise NotFound(f"unknown slot {slot_id}")
    return slot


def active_appointment_id(slot_id: int) -> int | None:
    return (
        Appointment.select(Appointment.id)
        .where((Appointment.slot == slot_id) & (Appointment.status != "cancelled"))
        .scalar()
    )


def _view_of(actor: Actor, slot_id: int) -> SlotView:
    return slot_view(slot_query().where(TimeSlot.id == slot_id).dicts().get(), actor)


@writes
def block_slot(actor: Actor, slot_id: int) -> SlotView:
    """Close a slot for booking; refused while it holds an appointment."""
    slot = locked_slot(slot_id)
    policy.require(actor, "slot.block", doctor_id=slot.doctor_id)
    appointment_id = active_appointment_id(slot.id)
    if appointment_id is not None:
        raise Refused(f"{describe(slot)} is booked (appointment {appointment_id}): cancel or reschedule it first")
    if slot.status != "blocked":
        TimeSlot.update(status="blocked").where(TimeSlot.id == slot.id).execute()
        audit.record(actor, "slot.block", "slot", slot.id, doctor_id=slot.doctor_id)
        changes.announce("slot", "blocked", id=slot.id, doctor_id=slot.doctor_id)
    return _view_of(actor, slot.id)


@writes
def unblock_slot(actor: Actor, slot_id: int) -> SlotView:
    slot = locked_slot(slot_id)
    policy.require(actor, "slot.block", doctor_id=slot.doctor_id)
    if slot.status != "open":
        TimeSlot.update(status="open").where(TimeSlot.id == slot.id).execute()
        audit.record(actor, "slot.unblock", "slot", slot.id, doctor_id=slot.doctor_id)
        changes.announce("slot", "unblocked", id=slot.id, doctor_id=slot.doctor_id)
    return _view_of(actor, slot.id)


@writes
def delete_slot(actor: Actor, slot_id: int) -> None:
    """Delete a slot that was never booked (a cancelled booking is history too: block it instead)."""
    slot = locked_slot(slot_id)
    policy.require(actor, "slot.manage", doctor_id=slot.doctor_id)
    if slot.booked_before or Appointment.select().where(Appointment.slot == slot.id).exists():
        raise Refused(f"{describe(slot)} has been booked before: block it instead of deleting it")
    TimeSlot.delete().where(TimeSlot.id == slot.id).execute()
    audit.record(actor, "slot.delete", "slot", slot.id, doctor_id=slot.doctor_id, starts_at=slot.starts_at)
    changes.announce("slot", "deleted", id=slot.id, doctor_id=slot.doctor_id)
