"""The fixed desk the TUI tests and snapshots run on (frozen clock: Thu 2027-03-04 08:30 Berlin).

Rows come from the factories, and money and reviews through the services, as test data may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clinic_desk.services import reviews, wallet
from clinic_desk.store.models import Doctor, DoctorSpecialty, Outbox, Patient, Specialty, TimeSlot, User
from tests.factories import actor_for, make_appointment, make_doctor, make_patient, make_slot, make_user

DAY = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin on the frozen day


@dataclass
class Desk:
    admin: User
    reception: User
    doctor_user: User
    doctor: Doctor
    other_doctor: Doctor
    anna: Patient  # 200.00 in her wallet
    ben: Patient  # an empty wallet
    slots: list[TimeSlot]  # Dr. House's slots on the frozen day, 09:00..11:30 Berlin


def seed_desk() -> Desk:
    admin = make_user("admin", "admin1", full_name="Ada Admin")
    reception = make_user("reception", "reception1", full_name="Rita Reception")
    cardio = Specialty.create(name="Cardiology")
    general = Specialty.create(name="General practice")
    house = make_doctor("dr.house", fee=8000, room="2.14", full_name="Dr. Gregory House")
    quinn = make_doctor("dr.quinn", fee=6500, room="1.02", full_name="Dr. Michaela Quinn")
    DoctorSpecialty.create(doctor=house, specialty=cardio)
    DoctorSpecialty.create(doctor=quinn, specialty=general)
    anna = make_patient("Anna Adler", email="anna@example.test", phone="+49 30 1234567")
    ben = make_patient("Ben Berger", email="ben@example.test")
    desk = actor_for(reception)
    wallet.deposit(desk, anna.id, 25000, note="opening deposit")
    wallet.withdraw(desk, anna.id, 5000, note="cash back")
    slots = [make_slot(house, DAY + timedelta(minutes=30 * i)) for i in range(6)]
    for i in range(4):
        make_slot(quinn, DAY + timedelta(hours=1, minutes=30 * i))
    for day in (5, 8, 9, 15):  # later this month, so the grid has numbers
        for i in range(3):
            make_slot(house, DAY.replace(day=day) + timedelta(minutes=30 * i))
    make_appointment(slots[1], ben, status="confirmed")
    make_appointment(slots[3], anna, status="pending")
    # Yesterday: a visit Anna reviewed (waiting for moderation), and a mail that failed.
    yesterday = make_slot(house, DAY - timedelta(days=1))
    visit = make_appointment(yesterday, anna, status="completed")
    reviews.add(desk, visit.id, 4, "Thorough and kind.")
    Outbox.create(
        to_addr="ben@example.test",
        subject="Your appointment is confirmed",
        text_body="…",
        kind="appointment_confirmed",
        status="failed",
        attempts=8,
        last_error="550 mailbox unavailable",
        next_attempt_at=DAY - timedelta(hours=2),
        created_at=DAY - timedelta(hours=3),
    )
    return Desk(admin, reception, User.get(User.username == "dr.house"), house, quinn, anna, ben, slots)
