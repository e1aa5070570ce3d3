"""Two admins generate slots for one doctor at the same moment: the schedule never overlaps."""

from __future__ import annotations

import pytest

from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import is_postgres
from clinic_desk.store.models import TimeSlot
from tests import race_workers
from tests.booking_support import staff
from tests.conftest import FROZEN_NOW
from tests.factories import make_doctor

pytestmark = pytest.mark.slow


def _overlapping_pairs(doctor_id: int) -> int:
    placeholder = "%s" if is_postgres() else "?"
    return proxy.execute_sql(
        "SELECT COUNT(*) FROM time_slot a JOIN time_slot b"
        " ON a.doctor_id = b.doctor_id AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        f" WHERE a.doctor_id = {placeholder}",
        (doctor_id,),
    ).fetchone()[0]


@pytest.mark.parametrize("lengths", [(30, 45), (30, 30, 20, 45)])
def test_simultaneous_generators_for_one_doctor_create_no_overlaps(db, lengths):
    admin = staff("admin")
    doctor = make_doctor("drrace")
    arguments = [(db, FROZEN_NOW, admin, "drrace", length) for length in lengths]
    outcomes = race_workers.run_all(race_workers.generate, arguments)
    assert all(kind == "ok" for kind, _, _ in outcomes), outcomes
    created = sum(count for _, count, _ in outcomes)
    assert created == TimeSlot.select().where(TimeSlot.doctor == doctor.id).count() > 0
    assert _overlapping_pairs(doctor.id) == 0
    # whoever came second found the first one's slots: conflicts, or (same length) nothing new
    assert sum(conflicts for _, _, conflicts in outcomes) > 0
