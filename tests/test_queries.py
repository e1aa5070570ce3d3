"""The front ends' read queries: appointment filters, a doctor's day, next free slot, month occupancy."""

from __future__ import annotations

from datetime import date

import pytest

from clinic_desk.errors import BadInput, PermissionDenied
from clinic_desk.services import clock, doctors, queries
from clinic_desk.store.models import DoctorSpecialty, Payment, Specialty
from tests.booking_support import doctor_actor, local, patient_with_login, staff
from tests.factories import make_appointment, make_doctor, make_patient, make_slot


def _specialise(doctor, name: str) -> None:
    specialty, _ = Specialty.get_or_create(name=name)
    DoctorSpecialty.create(doctor=doctor, specialty=specialty)


@pytest.fixture
def clinic(db, frozen_clock):
    """Two doctors, three patients, appointments over two days."""
    ana, ben = make_doctor("ana", full_name="Dr. Ana"), make_doctor("ben", full_name="Dr. Ben")
    p1, p2, p3 = make_patient("Paula"), make_patient("Quentin"), make_patient("Rosa")
    rows = {
        "ana_9": make_appointment(make_slot(ana, local(2027, 3, 10, 9)), p1, status="confirmed"),
        "ana_10": make_appointment(make_slot(ana, local(2027, 3, 10, 10)), p2),
        "ana_11": make_appointment(make_slot(ana, local(2027, 3, 10, 11)), p3, status="cancelled"),
        "ben_9": make_appointment(make_slot(ben, local(2027, 3, 10, 9)), p2),
        "ana_next": make_appointment(make_slot(ana, local(2027, 3, 11, 8)), p1),
    }
    Payment.create(appointment=rows["ana_9"].id, method="card", amount=8000, status="succeeded",
                   created_at=clock.now())
    Payment.create(appointment=rows["ana_10"].id, method="card", amount=8000, status="declined",
                   created_at=clock.now())
    return ana, ben, (p1, p2, p3), rows


def _ids(views) -> list[int]:
    return [view.id for view in views]


def test_appointment_filters(clinic):
    ana, ben, (p1, p2, _), rows = clinic
    desk = staff()
    march_10 = date(2027, 3, 10)
    assert _ids(queries.list_appointments(desk, doctor="ana", day=march_10)) == [
        rows["ana_9"].id, rows["ana_10"].id, rows["ana_11"].id
    ]
    assert _ids(queries.list_appointments(desk, patient_id=p2.id)) == [rows["ben_9"].id, rows["ana_10"].id]
    assert _ids(queries.list_appointments(desk, status="cancelled")) == [rows["ana_11"].id]
    assert _ids(queries.list_appointments(desk, day=date(2027, 3, 11))) == [rows["ana_next"].id]
    views = {view.id: view for view in queries.list_appointments(desk)}
    assert views[rows["ana_9"].id].paid and not views[rows["ana_10"].id].paid  # a declined card is not paid
    assert views[rows["ana_9"].id].patient_name == "Paula" and views[rows["ana_9"].id].doctor_name == "Dr. Ana"
    assert len(queries.list_appointments(desk, limit=2)) == 2
    with pytest.raises(BadInput, match="unknown status"):
        queries.list_appointments(desk, status="done")
    assert _ids(queries.list_appointments(desk, status="no-show")) == []


def test_doctors_and_patients_see_their_own(clinic):
    ana, ben, _, rows = clinic
    assert _ids(queries.list_appointments(doctor_actor(ben))) == [rows["ben_9"].id]
    with pytest.raises(PermissionDenied):
        queries.list_appointments(doctor_actor(ben), doctor="ana")
    patient, patient_actor = patient_with_login()
    own = make_appointment(make_slot(ben, local(2027, 3, 12, 9)), patient)
    assert _ids(queries.list_appointments(patient_actor)) == [own.id]
    with pytest.raises(PermissionDenied):
        queries.list_appointments(patient_actor, patient_id=rows["ben_9"].patient_id)
    with pytest.raises(PermissionDenied):
        queries.get_appointment(patient_actor, rows["ben_9"].id)


def test_agenda_lists_the_days_active_visits_with_patient_names(clinic):
    ana, _, _, rows = clinic
    agenda = queries.agenda(doctor_actor(ana), ana.id, date(2027, 3, 10))
    assert [(view.id, view.patient_name) for view in agenda] == [
        (rows["ana_9"].id, "Paula"), (rows["ana_10"].id, "Quentin")
    ]
    assert queries.agenda(staff(), "ana", date(2027, 3, 12)) == []


def test_next_free_slot_for_a_specialty(db, frozen_clock):
    heart1, heart2, skin = make_doctor("h1"), make_doctor("h2"), make_doctor("s1")
    fully_booked = make_doctor("h0")  # no free slot at all: never the answer, never in the way
    for doctor, name in ((heart1, "Cardiology"), (heart2, "Cardiology"), (skin, "Dermatology"),
                         (fully_booked, "Cardiology")):
        _specialise(doctor, name)
    make_appointment(make_slot(heart1, local(2027, 3, 10, 8)), make_patient())  # booked
    make_slot(heart2, local(2027, 3, 10, 8, 30), status="blocked")
    make_slot(skin, local(2027, 3, 10, 8, 45))  # another specialty
    make_slot(heart1, local(2027, 3, 9, 9))  # before the time asked about
    wanted = make_slot(heart2, local(2027, 3, 10, 9))
    make_slot(heart1, local(2027, 3, 10, 9, 30))
    found = queries.next_free_slot(staff(), "cardiology", local(2027, 3, 10, 7))
    assert (found.id, found.doctor, found.free) == (wanted.id, "h2", True)
    doctors.edit_doctor(staff("admin"), heart2.id, active=False)
    assert queries.next_free_slot(staff(), "Cardiology", local(2027, 3, 10, 7)).starts_at == local(2027, 3, 10, 9, 30)
    assert queries.next_free_slot(staff(), "Cardiology", local(2027, 3, 11, 0)) is None
    assert queries.next_free_slot(staff(), "Astrology", local(2027, 3, 10, 7)) is None


def test_month_occupancy_counts_per_local_day_across_the_clock_change(db, frozen_clock):
    doctor = make_doctor()
    # 23:30 local on the 27th is 22:30Z; 00:30 local on the 29th is 22:30Z of the 28th (summer time)
    make_slot(doctor, local(2027, 3, 27, 23, 30))
    make_slot(doctor, local(2027, 3, 29, 0, 30))
    make_appointment(make_slot(doctor, local(2027, 3, 29, 9)), make_patient())
    make_slot(doctor, local(2027, 3, 29, 10), status="blocked")
    make_appointment(make_slot(doctor, local(2027, 3, 29, 11)), make_patient(), status="cancelled")
    make_slot(doctor, local(2027, 4, 1, 0, 0))  # April: not in March
    make_slot(doctor, local(2027, 2, 28, 23, 59))  # February
    days = queries.month_occupancy(staff(), doctor.id, 2027, 3)
    assert len(days) == 31 and days[0].day == date(2027, 3, 1)
    counts = {d.day.day: (d.free, d.booked, d.blocked) for d in days if d.total}
    assert counts == {27: (1, 0, 0), 29: (2, 1, 1)}  # the cancelled visit's slot is free again
    with pytest.raises(BadInput):
        queries.month_occupancy(staff(), doctor.id, 2027, 13)


def test_day_slots_show_the_patient_to_staff_and_to_that_patient_only(db, frozen_clock):
    doctor = make_doctor()
    patient, patient_actor = patient_with_login("Own Patient")
    own = make_appointment(make_slot(doctor, local(2027, 3, 10, 9)), patient)
    make_appointment(make_slot(doctor, local(2027, 3, 10, 10)), make_patient("Other Patient"))
    make_slot(doctor, local(2027, 3, 10, 11))
    staff_view = queries.day_slots(staff(), doctor.id, date(2027, 3, 10))
    assert [(s.free, s.patient_name) for s in staff_view] == [
        (False, "Own Patient"), (False, "Other Patient"), (True, None)
    ]
    patient_view = queries.day_slots(patient_actor, doctor.id, date(2027, 3, 10))
    assert [(s.free, s.patient_name, s.appointment_id) for s in patient_view] == [
        (False, "Own Patient", own.id), (False, None, None), (True, None, None)
    ]
