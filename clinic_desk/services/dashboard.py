"""Read queries only the TUI needs: today at a glance per role, an appointment's history,
and a cheap liveness probe.

Each function is one read transaction of a bounded number of queries (no query per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from peewee import fn

from ..errors import NotFound
from ..store.db import db
from ..store.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AuditEvent,
    Doctor,
    Outbox,
    Patient,
    Payment,
    Review,
    TimeSlot,
)
from . import audit, clock, policy, timeutil
from .actors import Actor
from .queries import AppointmentView, appointment_query, appointment_view
from .tx import reads

ARRIVALS_LIMIT = 200
FAILED_MAIL_LIMIT = 5
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class FailedMail:
    id: int
    to: str
    subject: str
    last_error: str


@dataclass(frozen=True)
class Dashboard:
    """Today at a glance; fields a role may not see are None."""

    role: str
    day: date
    arrivals: list[AppointmentView]
    status_counts: dict[str, int]
    open_slots_left: int | None = None
    outbox: dict[str, int] | None = None
    pending_reviews: int | None = None
    failed_mail: list[FailedMail] = field(default_factory=list)
    doctors: int | None = None
    patients: int | None = None


@reads
def today(actor: Actor) -> Dashboard:
    """What this actor's dashboard shows: a doctor their day, a patient their next visits,
    reception the arrivals, open slots and the outbox, an admin counts, reviews and failed mail."""
    now = clock.now()
    day = timeutil.to_local(now).date()
    start, end = timeutil.local_day_bounds(day)
    doctor_id = actor.doctor_id if actor.role == "doctor" else None
    patient_id = actor.patient_id if actor.role == "patient" else None
    policy.require(actor, "appointment.list", doctor_id=doctor_id, patient_id=patient_id)

    if actor.role == "patient":
        window = (Appointment.starts_at >= start) & (Appointment.status.in_(("pending", "confirmed")))
    else:
        window = (Appointment.starts_at >= start) & (Appointment.starts_at < end)
    scope = window
    if doctor_id is not None:
        scope &= Appointment.doctor == doctor_id
    if patient_id is not None:
        scope &= Appointment.patient == patient_id

    arrivals = _arrivals(actor, scope & (Appointment.status != "cancelled"))
    counts = {
        status: count
        for status, count in Appointment.select(Appointment.status, fn.COUNT(Appointment.id))
        .where(scope)
        .group_by(Appointment.status)
        .tuples()
    }
    board = Dashboard(role=actor.role, day=day, arrivals=arrivals, status_counts=counts)
    if actor.role in ("reception", "admin", "doctor"):
        board = replace(board, open_slots_left=_open_slots_left(now, end, doctor_id))
    if policy.allowed(actor, "mail.manage"):
        outbox = dict(Outbox.select(Outbox.status, fn.COUNT(Outbox.id)).group_by(Outbox.status).tuples())
        board = replace(board, outbox=outbox)
    if actor.role == "admin":
        failed = (
            Outbox.select(Outbox.id, Outbox.to_addr, Outbox.subject, Outbox.last_error)
            .where(Outbox.status == "failed")
            .order_by(Outbox.id.desc())
            .limit(FAILED_MAIL_LIMIT)
        )
        board = replace(
            board,
            pending_reviews=Review.select().where(Review.status == "pending").count(),
            failed_mail=[FailedMail(m.id, m.to_addr, m.subject, m.last_error) for m in failed],
            doctors=Doctor.select().where(Doctor.is_active == True).count(),  # noqa: E712 - SQL
            patients=Patient.select().count(),
        )
    return board


def _arrivals(actor: Actor, where) -> list[AppointmentView]:  # noqa: ANN001 - a peewee expression
    query = appointment_query().where(where).order_by(Appointment.starts_at, Appointment.id).limit(ARRIVALS_LIMIT)
    return [appointment_view(row, actor) for row in query.dicts()]


def _open_slots_left(now: datetime, end: datetime, doctor_id: int | None) -> int:
    """Open slots from now until the end of the local day that nobody holds."""
    taken = Appointment.select(Appointment.id).where(
        (Appointment.slot == TimeSlot.id) & (Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
    )
    bookable = Doctor.select(Doctor.id).where(Doctor.is_active == True)  # noqa: E712 - SQL, not Python
    query = TimeSlot.select().where(
        (TimeSlot.starts_at >= now) & (TimeSlot.starts_at < end) & (TimeSlot.status == "open") & ~fn.EXISTS(taken)
        & TimeSlot.doctor.in_(bookable)
    )
    if doctor_id is not None:
        query = query.where(TimeSlot.doctor == doctor_id)
    return query.count()


@reads
def appointment_history(actor: Actor, appointment_id: int) -> list[audit.AuditView]:
    """The appointment's audit trail, oldest first: booking, every status change, notes,
    and the payments, declines and refunds taken for it."""
    owners = Appointment.select(Appointment.doctor, Appointment.patient).where(Appointment.id == appointment_id).first()
    if owners is None:
        raise NotFound(f"unknown appointment {appointment_id}")
    policy.require(actor, "appointment.read", doctor_id=owners.doctor_id, patient_id=owners.patient_id)
    payments = Payment.select(Payment.id).where(Payment.appointment == appointment_id)
    events = (
        AuditEvent.select()
        .where(
            ((AuditEvent.entity == "appointment") & (AuditEvent.entity_id == appointment_id))
            | ((AuditEvent.entity == "payment") & AuditEvent.entity_id.in_(payments))
        )
        .order_by(AuditEvent.id)
        .limit(HISTORY_LIMIT)
    )
    return [audit.view(event) for event in events]


@reads
def ping() -> bool:
    """True when the database answers (the outage banner's probe)."""
    db.execute_sql("SELECT 1")
    return True
