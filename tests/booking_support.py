"""Helpers for the doctors, slots and booking tests: clinic-local times, actors, a query counter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinic_desk.store.db import db as proxy
from tests.factories import actor_for, make_doctor, make_patient, make_slot, make_user

BERLIN = ZoneInfo("Europe/Berlin")


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0, fold: int = 0) -> datetime:
    """A Berlin wall-clock time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold).astimezone(UTC)


def shown(instant: datetime) -> str:
    """How the clinic shows an instant: 'YYYY-MM-DD HH:MM' in Berlin."""
    return instant.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def staff(role: str = "reception", username: str | None = None):
    return actor_for(make_user(role, username))


def doctor_actor(doctor):
    return actor_for(doctor.user)


def patient_with_login(full_name: str | None = None):
    """A patient who has a user account; returns (patient, actor)."""
    user = make_user("patient")
    patient = make_patient(full_name, user=user)
    return patient, actor_for(user)


def bookable(fee: int = 8000, *, when: datetime | None = None, username: str | None = None):
    """A doctor with one open slot (default 2027-03-10 09:00 Berlin) and a patient: (doctor, slot, patient)."""
    doctor = make_doctor(username, fee=fee)
    slot = make_slot(doctor, when or local(2027, 3, 10, 9))
    return doctor, slot, make_patient()


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Count the SQL statements the bound database executes inside the block."""
    counter = QueryCounter()
    database = proxy.obj
    original = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        counter.statements.append(sql)
        return original(sql, params, *args, **kwargs)

    database.execute_sql = counting
    try:
        yield counter
    finally:
        del database.execute_sql
