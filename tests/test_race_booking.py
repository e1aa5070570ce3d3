"""Many desks at once, each its own process: no double booking, no patient in two places at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic_desk.store.db import db as proxy
from clinic_desk.store.models import Appointment
from tests import race_workers
from tests.booking_support import local, staff
from tests.conftest import FROZEN_NOW
from tests.factories import make_doctor, make_patient, make_slot

pytestmark = pytest.mark.slow

def _double_bookings() -> int:
    return proxy.execute_sql(
        "SELECT COUNT(*) FROM (SELECT slot_id FROM appointment WHERE status <> 'cancelled'"
        " GROUP BY slot_id HAVING COUNT(*) > 1) AS doubled"
    ).fetchone()[0]


def _patient_overlaps() -> int:
    return proxy.execute_sql(
        "SELECT COUNT(*) FROM appointment a JOIN appointment b"
        " ON a.patient_id = b.patient_id AND a.id < b.id"
        " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        " WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'"
    ).fetchone()[0]


def test_many_desks_book_one_slot_and_exactly_one_wins(db):
    desk = staff()
    slot = make_slot(make_doctor(), local(2027, 3, 10, 9))
    patients = [make_patient() for _ in range(8)]
    outcomes = race_workers.run_all(race_workers.book_one, [(db, FROZEN_NOW, desk, p.id, slot.id) for p in patients])
    winners = [o for o in outcomes if o[0] == "ok"]
    losers = [o for o in outcomes if o[0] == "refused"]
    assert len(winners) == 1 and len(losers) == 7
    assert all(message.startswith("slot already booked") for _, message in losers)
    assert [a.id for a in Appointment.select()] == [winners[0][1]]


def test_eight_workers_on_a_hot_set_of_200_slots(db):
    desk = staff()
    doctors = [make_doctor() for _ in range(5)]
    slot_ids = [
        make_slot(doctor, local(2027, 3, 10, 8) + timedelta(minutes=30 * n + 10 * k)).id
        for k, doctor in enumerate(doctors)
        for n in range(40)
    ]
    patient_ids = [make_patient().id for _ in range(40)]
    assert len(slot_ids) == 200
    batches = race_workers.run_all(
        race_workers.book_randomly,
        [(db, FROZEN_NOW, desk, patient_ids, slot_ids, 40, seed) for seed in range(8)],
    )
    outcomes = [outcome for batch in batches for outcome in batch]
    assert [message for kind, message in outcomes if kind == "crashed"] == []
    booked = sum(1 for kind, _ in outcomes if kind == "ok")
    refusals = [message for kind, message in outcomes if kind == "refused"]
    assert booked > 0 and refusals
    allowed = ("slot already booked", "patient ", "the patient already has an appointment")
    assert all(message.startswith(allowed) for message in refusals), set(refusals) - {
        m for m in refusals if m.startswith(allowed)
    }
    assert _double_bookings() == 0
    assert _patient_overlaps() == 0
    assert Appointment.select().count() == booked
