"""Patients: registered at the desk, found by any part of name, e-mail or phone, edited."""

from __future__ import annotations

from datetime import date

import pytest

from clinic_desk.errors import NotFound, PermissionDenied
from clinic_desk.services import patients
from clinic_desk.store.models import AuditEvent, Patient
from tests.booking_support import doctor_actor, patient_with_login, staff
from tests.factories import login_env, make_doctor, make_patient, make_user


def test_cli_add_prints_the_id_and_show_returns_the_contract_fields(cli, frozen_clock):
    make_user("reception", "desk1")
    result = cli(
        "patient", "add", "--name", "Ann Example", "--email", "ann@example.test",
        "--phone", "+49 30 1234567", "--birth", "1980-05-17", env=login_env("desk1"),
    )
    assert result.code == 0, result.err
    patient_id = int(result.out.strip())
    shown = cli("patient", "show", str(patient_id), "--json", env=login_env("desk1")).json()
    assert shown == {
        "id": patient_id,
        "full_name": "Ann Example",
        "email": "ann@example.test",
        "phone": "+49 30 1234567",
        "date_of_birth": "1980-05-17",
        "reminders": True,
    }
    assert AuditEvent.get(AuditEvent.action == "patient.add").entity_id == patient_id


def test_search_treats_sql_metacharacters_as_text(db):
    desk = staff()
    make_patient("Mary O'Brien", email="mary@example.test")
    make_patient("Bob 100% Sure", email="bob_x@example.test", phone="555-0100")
    make_patient("Carl Plain", email="carl@example.test")

    def found(text):
        return [p.full_name for p in patients.list_patients(desk, search=text)]

    assert found("o'brien") == ["Mary O'Brien"]
    assert found("100%") == ["Bob 100% Sure"]
    assert found("%") == ["Bob 100% Sure"]
    assert found("_x@") == ["Bob 100% Sure"]
    assert found("b_b") == []  # '_' is not "any character"
    assert found("0100") == ["Bob 100% Sure"]  # phone
    assert found("'; DROP TABLE patient; --") == []
    assert Patient.select().count() == 3
    assert found(None) == ["Bob 100% Sure", "Carl Plain", "Mary O'Brien"]


def test_edit_changes_details_and_the_reminder_choice(cli, frozen_clock):
    make_user("reception", "desk1")
    patient = make_patient("Old Name")
    result = cli("patient", "edit", str(patient.id), "--name", "New Name", "--no-reminders", env=login_env("desk1"))
    assert result.code == 0, result.err
    stored = Patient.get_by_id(patient.id)
    assert (stored.full_name, stored.reminders_opt_out) == ("New Name", True)
    cli("patient", "edit", str(patient.id), "--reminders", env=login_env("desk1"))
    assert Patient.get_by_id(patient.id).reminders_opt_out is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "A", "--email", "not-an-email"), "not an e-mail address"),
        (("--name", "A", "--email", "a@example.test,postmaster"), "not an e-mail address"),  # one address
        (("--name", "A", "--email", "A <a@example.test>"), "not an e-mail address"),
        (("--name", "", "--email", "a@example.test"), "must not be empty"),
        (("--name", "A", "--email", "a@example.test", "--birth", "2030-01-01"), "in the future"),
        (("--name", "A", "--email", "a@example.test", "--birth", "1980-02-30"), "not a real date"),
        (("--name", "A", "--email", "a@example.test", "--phone", "call me"), "not a phone number"),
    ],
)
def test_cli_add_refuses_bad_input_with_exit_2(cli, frozen_clock, args, message):
    make_user("reception", "desk1")
    result = cli("patient", "add", *args, env=login_env("desk1"))
    assert result.code == 2 and message in result.err
    assert Patient.select().count() == 0


def test_who_may_see_and_change_patients(db):
    doctor = make_doctor()
    own, patient_actor = patient_with_login("Self")
    other = make_patient("Someone Else")
    with pytest.raises(PermissionDenied):
        patients.add_patient(doctor_actor(doctor), full_name="X", email="x@example.test")
    assert patients.show_patient(patient_actor, own.id).full_name == "Self"
    with pytest.raises(PermissionDenied):
        patients.show_patient(patient_actor, other.id)
    with pytest.raises(PermissionDenied):
        patients.list_patients(patient_actor)
    view = patients.edit_patient(patient_actor, own.id, phone="555 1234", date_of_birth=date(1990, 1, 2))
    assert (view.phone, view.date_of_birth) == ("555 1234", date(1990, 1, 2))
    with pytest.raises(NotFound):
        patients.show_patient(staff(), 999999)


def test_list_is_bounded_and_says_so(cli):
    make_user("reception", "desk1")
    for n in range(3):
        make_patient(f"Patient {n}")
    result = cli("patient", "list", "--limit", "2", "--json", env=login_env("desk1"))
    assert result.code == 0
    assert len(result.json()) == 2 and "showing the first 2" in result.err


def test_a_piped_table_keeps_each_row_on_one_line(cli):
    """Piped into grep or cut, a row is one line however long its cells: nothing wraps."""
    make_user("reception", "desk1")
    long_name = "Maximiliane Annabelle Wilhelmina von Hohenzollern-Sigmaringen-Ostfriesland"
    patient = make_patient(long_name, email="maximiliane.annabelle.wilhelmina@example.test")
    result = cli("patient", "list", env=login_env("desk1"))
    assert result.code == 0
    [row] = [line for line in result.out.splitlines() if long_name in line]
    assert str(patient.id) in row and "maximiliane.annabelle.wilhelmina@example.test" in row
