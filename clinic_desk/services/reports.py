"""Revenue: what was paid minus what was refunded, per doctor, over a period of clinic-local days.

Cash basis: a payment counts on the day it was taken, a refund on the day it was made (so a
refund in April for a March visit lowers April). Declined card attempts count for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from peewee import fn

from ..store.models import Appointment, Doctor, LedgerEntry, Payment, User
from . import policy
from .actors import Actor
from .doctors import find_doctor
from .timeutil import local_day_bounds, local_range_bounds
from .tx import reads


@dataclass(frozen=True)
class RevenueRow:
    doctor_id: int
    username: str
    full_name: str
    payments: int
    paid: int
    refunded: int

    @property
    def revenue(self) -> int:
        return self.paid - self.refunded


@reads
def revenue(
    actor: Actor,
    *,
    doctor_username: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[RevenueRow]:
    """One row per doctor with payments or refunds in the period (the named doctor always), by username.

    ``first``/``last`` are clinic-local days, both included; either may be open. A doctor who names
    no doctor reads their own revenue; only an admin reads everyone's.
    """
    doctor_id = find_doctor(doctor_username).id if doctor_username else None
    if doctor_id is None and actor.role == "doctor":
        doctor_id = actor.doctor_id
    policy.require(actor, "report.revenue", doctor_id=doctor_id)
    start, end = _bounds(first, last)
    paid = _paid_by_doctor(doctor_id, start, end)
    refunded = _refunded_by_doctor(doctor_id, start, end)
    ids = set(paid) | set(refunded) | ({doctor_id} if doctor_id is not None else set())
    if not ids:
        return []
    doctors = (
        Doctor.select(Doctor.id, User.username, User.full_name)
        .join(User, on=(Doctor.user == User.id))
        .where(Doctor.id.in_(sorted(ids)))
        .order_by(User.username)
        .tuples()
    )
    return [
        RevenueRow(
            doctor_id=did,
            username=username,
            full_name=full_name,
            payments=paid.get(did, (0, 0))[0],
            paid=paid.get(did, (0, 0))[1],
            refunded=refunded.get(did, 0),
        )
        for did, username, full_name in doctors
    ]


def _bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds of the local days ``first`` .. ``last``; a missing end stays open."""
    if first and last:
        return local_range_bounds(first, last)
    return (local_day_bounds(first)[0] if first else None, local_day_bounds(last)[1] if last else None)


def _paid_by_doctor(doctor_id: int | None, start: datetime | None, end: datetime | None) -> dict[int, tuple[int, int]]:
    query = (
        Payment.select(Appointment.doctor, fn.COUNT(Payment.id), fn.SUM(Payment.amount))
        .join(Appointment, on=(Payment.appointment == Appointment.id))
        .where(Payment.status == "succeeded")
    )
    if doctor_id is not None:
        query = query.where(Appointment.doctor == doctor_id)
    if start is not None:
        query = query.where(Payment.created_at >= start)
    if end is not None:
        query = query.where(Payment.created_at < end)
    return {did: (int(count), int(total)) for did, count, total in query.group_by(Appointment.doctor).tuples()}


def _refunded_by_doctor(doctor_id: int | None, start: datetime | None, end: datetime | None) -> dict[int, int]:
    query = (
        LedgerEntry.select(Appointment.doctor, fn.SUM(LedgerEntry.amount))
        .join(Appointment, on=(LedgerEntry.appointment == Appointment.id))
        .where(LedgerEntry.kind == "refund")
    )
    if doctor_id is not None:
        query = query.where(Appointment.doctor == doctor_id)
    if start is not None:
        query = query.where(LedgerEntry.at >= start)
    if end is not None:
        query = query.where(LedgerEntry.at < end)
    return {did: int(total) for did, total in query.group_by(Appointment.doctor).tuples()}
