"""The database itself refuses what must never happen, even when the ORM is bypassed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peewee import IntegrityError

from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import is_postgres
from clinic_desk.store.fields import to_sqlite_text
from tests.factories import make_appointment, make_doctor, make_patient, make_slot, make_wallet

T0 = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)


def _ts(value: datetime):
    return value if is_postgres() else to_sqlite_text(value)


def _p() -> str:
    return "%s" if is_postgres() else "?"


def _raw_appointment(slot_id, patient_id, doctor_id, start, end, status="pending"):
    p = _p()
    proxy.execute_sql(
        "INSERT INTO appointment (slot_id, patient_id, doctor_id, starts_at, ends_at, status, created_at, updated_at)"
        f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
        (slot_id, patient_id, doctor_id, _ts(start), _ts(end), status, _ts(T0), _ts(T0)),
    )


def _refused(statement) -> None:
    with pytest.raises(IntegrityError):
        with proxy.atomic():
            statement()


def test_second_active_appointment_on_one_slot_is_refused(db):
    doctor = make_doctor()
    slot = make_slot(doctor, T0)
    first, second = make_patient(), make_patient()
    _raw_appointment(slot.id, first.id, doctor.id, slot.starts_at, slot.ends_at)
    _refused(lambda: _raw_appointment(slot.id, second.id, doctor.id, slot.starts_at, slot.ends_at))


def test_cancelled_appointment_frees_its_slot(db):
    doctor = make_doctor()
    slot = make_slot(doctor, T0)
    first, second = make_patient(), make_patient()
    _raw_appointment(slot.id, first.id, doctor.id, slot.starts_at, slot.ends_at, status="cancelled")
    _raw_appointment(slot.id, second.id, doctor.id, slot.starts_at, slot.ends_at)


def test_negative_wallet_balance_is_refused(db):
    wallet = make_wallet(make_patient(), balance=500)
    p = _p()
    _refused(lambda: proxy.execute_sql(f"UPDATE wallet SET balance = balance - 501 WHERE id = {p}", (wallet.id,)))


def test_rating_of_six_is_refused(db):
    doctor = make_doctor()
    patient = make_patient()
    appointment = make_appointment(make_slot(doctor, T0), patient, status="completed")
    p = _p()
    _refused(
        lambda: proxy.execute_sql(
            "INSERT INTO review (appointment_id, doctor_id, patient_id, rating, created_at)"
            f" VALUES ({p}, {p}, {p}, 6, {p})",
            (appointment.id, doctor.id, patient.id, _ts(T0)),
        )
    )


def test_slot_must_end_after_it_starts_and_be_unique_per_doctor(db):
    doctor = make_doctor()
    p = _p()
    insert = (
        f"INSERT INTO time_slot (doctor_id, starts_at, ends_at, status) VALUES ({p}, {p}, {p}, 'open')"
    )
    _refused(lambda: proxy.execute_sql(insert, (doctor.id, _ts(T0), _ts(T0))))
    proxy.execute_sql(insert, (doctor.id, _ts(T0), _ts(T0 + timedelta(minutes=30))))
    _refused(lambda: proxy.execute_sql(insert, (doctor.id, _ts(T0), _ts(T0 + timedelta(minutes=20)))))


def test_ledger_amount_must_be_positive(db):
    wallet = make_wallet(make_patient())
    p = _p()
    _refused(
        lambda: proxy.execute_sql(
            f"INSERT INTO ledger_entry (wallet_id, kind, amount, balance_after, at) VALUES ({p}, 'deposit', 0, 0, {p})",
            (wallet.id, _ts(T0)),
        )
    )


@pytest.mark.skipif(not __import__("os").environ.get("CLINIC_DESK_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgres_refuses_overlapping_visits_for_one_doctor_or_one_patient(db):
    doctor, other_doctor = make_doctor(), make_doctor()
    # Two slots of one doctor that overlap (only possible by bypassing slot generation).
    a = make_slot(doctor, T0, minutes=30)
    b = make_slot(doctor, T0 + timedelta(minutes=15), minutes=30)
    c = make_slot(other_doctor, T0 + timedelta(minutes=10), minutes=30)
    p1, p2 = make_patient(), make_patient()
    _raw_appointment(a.id, p1.id, doctor.id, a.starts_at, a.ends_at)
    # same doctor, overlapping time, another patient
    _refused(lambda: _raw_appointment(b.id, p2.id, doctor.id, b.starts_at, b.ends_at))
    # same patient, overlapping time, another doctor
    _refused(lambda: _raw_appointment(c.id, p1.id, other_doctor.id, c.starts_at, c.ends_at))


@pytest.mark.skipif(not __import__("os").environ.get("CLINIC_DESK_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgres_cancelled_visit_does_not_block_an_overlapping_one(db):
    doctor = make_doctor()
    a = make_slot(doctor, T0, minutes=30)
    b = make_slot(doctor, T0 + timedelta(minutes=15), minutes=30)
    p1, p2 = make_patient(), make_patient()
    _raw_appointment(a.id, p1.id, doctor.id, a.starts_at, a.ends_at, status="cancelled")
    _raw_appointment(b.id, p2.id, doctor.id, b.starts_at, b.ends_at)
    # back-to-back visits touch but do not overlap
    c = make_slot(doctor, T0 + timedelta(minutes=45), minutes=30)
    _raw_appointment(c.id, p2.id, doctor.id, c.starts_at, c.ends_at)
