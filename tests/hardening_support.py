"""A small, fully known clinic for the hardening tests (fuzz, injection, secrets), and a fingerprint
of everything in the database to prove that a refused command changed nothing.

``seed_clinic()`` writes the same rows with the same ids every time (the tables are emptied with
their id sequences reset first), so a fuzzed id such as 1 or 3 hits a real row. Run it with the
clock frozen at ``conftest.FROZEN_NOW`` (Thursday 2027-03-04, 08:30 in Berlin).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from clinic_desk.services import clock
from clinic_desk.store.db import db, is_postgres
from clinic_desk.store.models import (
    ALL_MODELS,
    AuditEvent,
    DoctorSpecialty,
    LedgerEntry,
    Outbox,
    Payment,
    Review,
    Specialty,
)
from tests.booking_support import local
from tests.factories import make_appointment, make_doctor, make_patient, make_slot, make_user, make_wallet

ADMIN, DESK, DOCTOR, OTHER_DOCTOR, PATIENT_USER = "admin1", "desk1", "drgrey", "drhouse", "ann"


@dataclass(frozen=True)
class Clinic:
    """The ids of the seeded rows that tests name."""

    patient: int = 1  # Ann Example, who logs in as "ann"
    other_patient: int = 2  # Bob Other, no login
    doctor: int = 1  # drgrey
    other_doctor: int = 2  # drhouse
    pending_appointment: int = 1  # ann with drgrey, 2027-03-10 09:00, unpaid
    completed_appointment: int = 2  # ann with drgrey, in the past, review 1 pending
    started_appointment: int = 3  # bob with drgrey, started (can be completed)
    paid_appointment: int = 4  # bob with drhouse, paid by card
    free_slot: int = 2
    blocked_slot: int = 3
    pending_review: int = 1
    approved_review: int = 2
    failed_mail: int = 1


CLINIC = Clinic()


def empty_database() -> None:
    """Every table emptied and every id sequence back at 1 (as conftest's ``db`` fixture does)."""
    tables = [model._meta.table_name for model in reversed(ALL_MODELS)]
    if is_postgres():
        db.execute_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return
    with db.atomic():
        for table in tables:
            db.execute_sql(f"DELETE FROM {table}")
        db.execute_sql("DELETE FROM sqlite_sequence")


def seed_clinic() -> Clinic:
    """Empty the database and write the small clinic (ids as in ``Clinic``)."""
    empty_database()
    now = clock.now()
    with db.atomic():
        make_user("admin", ADMIN, full_name="Ada Admin")
        make_user("reception", DESK, full_name="Desk One")
        grey = make_doctor(DOCTOR, fee=8000, room="R1", full_name="Dr. Meredith Grey")
        house = make_doctor(OTHER_DOCTOR, fee=12000, room="R2", full_name="Dr. Greg House")
        for doctor, name in ((grey, "Cardiology"), (house, "Neurology")):
            DoctorSpecialty.create(doctor=doctor, specialty=Specialty.create(name=name))
        ann = make_patient("Ann Example", user=make_user("patient", PATIENT_USER, full_name="Ann Example"),
                           email="ann@example.test", phone="+49 30 1234")
        bob = make_patient("Bob Other", email="bob@example.test")
        booked = make_slot(grey, local(2027, 3, 10, 9))  # slot 1
        make_slot(grey, local(2027, 3, 10, 9, 30))  # slot 2: free
        make_slot(grey, local(2027, 3, 10, 10), status="blocked")  # slot 3
        past = make_slot(grey, local(2027, 3, 1, 9))  # slot 4
        started = make_slot(grey, local(2027, 3, 4, 8))  # slot 5: began half an hour ago
        house_booked = make_slot(house, local(2027, 3, 10, 9))  # slot 6
        make_slot(house, local(2027, 3, 11, 10))  # slot 7: free
        reviewed = make_slot(grey, local(2027, 2, 25, 9))  # slot 8
        first = make_appointment(booked, ann)  # 1
        first.reason = "knee pain"
        first.save()
        completed = make_appointment(past, ann, status="completed")  # 2
        make_appointment(started, bob, status="confirmed")  # 3
        paid = make_appointment(house_booked, bob, status="confirmed")  # 4
        approved = make_appointment(reviewed, bob, status="completed")  # 5
        wallet = make_wallet(ann, balance=50000)
        LedgerEntry.create(wallet=wallet, kind="deposit", amount=50000, balance_after=50000, note="cash", at=now)
        make_wallet(bob, balance=0)
        Payment.create(appointment=paid, method="card", amount=12000, status="succeeded", card_last4="4242",
                       created_at=now - timedelta(days=1))
        Review.create(appointment=completed, doctor=grey, patient=ann, rating=4, comment="Kind", created_at=now)
        Review.create(appointment=approved, doctor=grey, patient=bob, rating=5, comment="Great", status="approved",
                      moderated_at=now, created_at=now - timedelta(days=1))
        grey.rating_count, grey.rating_total = 1, 5
        grey.save()
        for status, attempts, error in (("failed", 5, "550 no such user"), ("sent", 1, "")):
            Outbox.create(to_addr="bob@example.test", subject="Your appointment", text_body="Hello",
                          kind="appointment_booked", status=status, attempts=attempts, next_attempt_at=now,
                          last_error=error, created_at=now)
        AuditEvent.create(actor=1, actor_name=ADMIN, action="seeded", entity="clinic", entity_id=None, at=now)
    return CLINIC


# -- the fingerprint ----------------------------------------------------------------

# Parts of the database that a *refusal* may legitimately change, each named so that a test can
# allow exactly the part that its command's refusal records:
#   "audit_event.refusals": the audit rows that record a refused attempt (wrong password or code,
#                           a declined card)
#   "payment.declined": a declined card payment, kept as the record of the attempt
#   "app_user.login_state": failed_logins and locked_until (a failed login counts; enough of them lock)
#   "app_user.totp": a two-factor enrolment waiting for its first code (``user totp enable``)
#   "one_time_code.attempts": a wrong one-time code uses up one of its attempts
REFUSAL_AUDIT_ACTIONS = ("login_failed", "account_locked", "code_refused", "payment.declined")
_SPLIT_ROWS = {
    AuditEvent: ("refusals", AuditEvent.action.in_(REFUSAL_AUDIT_ACTIONS)),
    Payment: ("declined", Payment.status == "declined"),
}
_SPLIT_COLUMNS = {
    "app_user": {
        "login_state": ("failed_logins", "locked_until"),
        "totp": ("totp_secret", "totp_confirmed", "totp_last_step"),
    },
    "one_time_code": {"attempts": ("attempts",)},
}


def _digest(rows: object) -> str:
    return hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def fingerprint() -> dict[str, tuple[int, int | None, str]]:
    """Per table (and per named part of a table): row count, highest id, and a checksum of every
    column of every row. Two fingerprints differ exactly where the data differs."""
    parts: dict[str, tuple[int, int | None, str]] = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        fields = list(model._meta.sorted_fields)
        order = [field for field in fields if field.primary_key] or [DoctorSpecialty.doctor, DoctorSpecialty.specialty]
        query = model.select(*fields).order_by(*order)
        if model in _SPLIT_ROWS:
            part, condition = _SPLIT_ROWS[model]
            held = list(query.where(condition).tuples())
            parts[f"{table}.{part}"] = (len(held), None, _digest(held))
            query = query.where(~condition)
        rows = list(query.tuples())
        names = [field.column_name for field in fields]
        split = _SPLIT_COLUMNS.get(table, {})
        for part, columns in split.items():
            positions = [names.index(column) for column in columns]
            values = [tuple(row[i] for i in positions) for row in rows]
            parts[f"{table}.{part}"] = (len(values), None, _digest(values))
        held_apart = {column for columns in split.values() for column in columns}
        kept = [i for i, name in enumerate(names) if name not in held_apart]
        highest = max((row[0] for row in rows), default=None) if names[0] == "id" else None
        parts[table] = (len(rows), highest, _digest([tuple(row[i] for i in kept) for row in rows]))
    return parts


def changed_parts(before: dict, after: dict) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


# -- what reaches the terminal -------------------------------------------------------

ESC = "\x1b"
C1_CONTROLS = {chr(code) for code in range(0x80, 0xA0)}


def raw_controls(text: str) -> set[str]:
    """Control characters in ``text`` that a terminal would obey (newline, CRLF and tab are layout)."""
    layout = text.replace("\r\n", "\n")
    return {ch for ch in layout if (ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 or ch in C1_CONTROLS}
