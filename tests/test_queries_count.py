"""Bounded queries: the statement count of each front-end read does not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

from clinic_desk.services import doctors, queries
from clinic_desk.store.models import DoctorSpecialty, Specialty
from tests.booking_support import count_queries, local, staff
from tests.factories import make_appointment, make_doctor, make_patient, make_slot


def _doctors_with_schedules(count: int, slots_each: int) -> list:
    cardiology, _ = Specialty.get_or_create(name="Cardiology")
    general, _ = Specialty.get_or_create(name="General")
    made = []
    for _ in range(count):
        doctor = make_doctor()
        DoctorSpecialty.create(doctor=doctor, specialty=cardiology)
        DoctorSpecialty.create(doctor=doctor, specialty=general)
        for n in range(slots_each):
            slot = make_slot(doctor, local(2027, 3, 10, 8) + timedelta(minutes=30 * n))
            if n % 2 == 0:
                make_appointment(slot, make_patient())
        made.append(doctor)
    return made


def _statements(call) -> int:
    with count_queries() as counter:
        call()
    return counter.count


def test_doctor_list_is_one_query_for_2_or_25_doctors(db, frozen_clock):
    desk = staff()
    _doctors_with_schedules(2, 2)
    small = _statements(lambda: doctors.list_doctors(desk, specialty="Cardiology"))
    _doctors_with_schedules(23, 6)
    with count_queries() as counter:
        views = doctors.list_doctors(desk, specialty="Cardiology")
    assert len(views) == 25 and all(v.next_free is not None and len(v.specialties) == 2 for v in views)
    assert counter.count == small
    assert sum("SELECT" in sql.upper() for sql in counter.statements) == 1


def test_agenda_and_appointment_list_do_not_grow_with_the_day(db, frozen_clock):
    [doctor] = _doctors_with_schedules(1, 2)
    desk = staff()
    march_10 = date(2027, 3, 10)
    small_agenda = _statements(lambda: queries.agenda(desk, doctor.id, march_10))
    small_list = _statements(lambda: queries.list_appointments(desk, doctor=doctor.user.username, day=march_10))
    for n in range(30):
        make_appointment(make_slot(doctor, local(2027, 3, 10, 13) + timedelta(minutes=10 * n), minutes=10),
                         make_patient())
    assert len(queries.agenda(desk, doctor.id, march_10)) == 31
    assert _statements(lambda: queries.agenda(desk, doctor.id, march_10)) == small_agenda
    assert _statements(lambda: queries.list_appointments(desk, doctor=doctor.user.username, day=march_10)) == small_list


def test_month_occupancy_day_slots_and_next_free_do_not_grow(db, frozen_clock):
    [doctor] = _doctors_with_schedules(1, 2)
    desk = staff()
    reads = {
        "month": lambda: queries.month_occupancy(desk, doctor.id, 2027, 3),
        "day": lambda: queries.day_slots(desk, doctor.id, date(2027, 3, 10)),
        "next": lambda: queries.next_free_slot(desk, "Cardiology", local(2027, 3, 10, 0)),
    }
    small = {name: _statements(call) for name, call in reads.items()}
    for day in range(1, 32):
        for n in range(12):
            slot = make_slot(doctor, local(2027, 3, day, 14) + timedelta(minutes=20 * n), minutes=20)
            if n % 3 == 0:
                make_appointment(slot, make_patient())
    assert sum(d.total for d in queries.month_occupancy(desk, doctor.id, 2027, 3)) == 2 + 31 * 12
    assert {name: _statements(call) for name, call in reads.items()} == small
    assert small["month"] <= 2  # one SELECT (plus BEGIN where the backend sends one)
