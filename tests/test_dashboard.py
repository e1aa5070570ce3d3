"""The dashboard's figures: what the desk can act on today."""

from __future__ import annotations

from datetime import timedelta

from clinic_desk.services import clock, dashboard, doctors
from tests.booking_support import staff
from tests.factories import make_doctor, make_slot


def test_free_slots_today_count_only_doctors_taking_appointments(db, frozen_clock):
    desk, admin = staff(), staff("admin")
    working, away = make_doctor("drwork"), make_doctor("draway")
    for doctor in (working, away):
        make_slot(doctor, clock.now() + timedelta(hours=2))
    assert dashboard.today(desk).open_slots_left == 2

    doctors.edit_doctor(admin, "draway", active=False)

    assert dashboard.today(desk).open_slots_left == 1  # the inactive doctor's slot cannot be booked
