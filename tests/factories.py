"""Rows for tests, written straight through the models (tests may; front ends may not)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from clinic_desk.services import clock
from clinic_desk.services.actors import Actor
from clinic_desk.store.models import Appointment, Doctor, Patient, TimeSlot, User, Wallet

_seq = itertools.count(1)


DEFAULT_PASSWORD = "correct-horse-battery"


def make_user(role: str = "reception", username: str | None = None, *, password: str = DEFAULT_PASSWORD, **extra) -> User:
    """A user whose password is ``password`` (argon2id, cheap test parameters)."""
    from clinic_desk.services.accounts import hash_password

    n = next(_seq)
    username = username or f"{role}{n}"
    return User.create(
        username=username,
        email=extra.pop("email", f"{username}@example.test"),
        full_name=extra.pop("full_name", f"{role.title()} {n}"),
        role=role,
        password_hash=hash_password(password),
        created_at=clock.now(),
        **extra,
    )


def make_doctor(username: str | None = None, *, fee: int = 8000, room: str = "R1", **extra) -> Doctor:
    user = make_user("doctor", username, full_name=extra.pop("full_name", None) or f"Dr. {username or next(_seq)}")
    return Doctor.create(user=user, fee=fee, room=room, **extra)


def make_patient(full_name: str | None = None, *, user: User | None = None, **extra) -> Patient:
    n = next(_seq)
    return Patient.create(
        full_name=full_name or f"Patient {n}",
        email=extra.pop("email", f"patient{n}@example.test"),
        user=user,
        created_at=clock.now(),
        **extra,
    )


def make_slot(doctor: Doctor, starts_at: datetime, minutes: int = 30, status: str = "open") -> TimeSlot:
    return TimeSlot.create(doctor=doctor, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), status=status)


def make_appointment(slot: TimeSlot, patient: Patient, status: str = "pending", price: int | None = None) -> Appointment:
    now = clock.now()
    return Appointment.create(
        slot=slot,
        patient=patient,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
        price=price if price is not None else Doctor.get_by_id(slot.doctor_id).fee,
        created_at=now,
        updated_at=now,
    )


def make_wallet(patient: Patient, balance: int = 0) -> Wallet:
    return Wallet.create(patient=patient, balance=balance, updated_at=clock.now())


def actor_for(user: User) -> Actor:
    """The Actor the services would see for this user."""
    doctor = Doctor.get_or_none(Doctor.user == user)
    patient = Patient.get_or_none(Patient.user == user)
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        doctor_id=doctor.id if doctor else None,
        patient_id=patient.id if patient else None,
    )


def login_env(username: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """The env route scripts use to act as a user: pass as ``cli(..., env=login_env("admin1"))``."""
    return {"CLINIC_DESK_USER": username, "CLINIC_DESK_PASSWORD": password}
