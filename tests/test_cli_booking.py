"""`book` and `appointments ...` as scripts and receptionists use them: ids, JSON fields, exit codes."""

from __future__ import annotations

import pytest

from clinic_desk.errors import InsufficientFunds
from clinic_desk.services import clock, payments
from clinic_desk.store.models import Appointment
from tests.booking_support import local
from tests.factories import login_env, make_doctor, make_patient, make_slot, make_user

APPOINTMENT_FIELDS = {"id", "slot_id", "patient_id", "doctor", "starts_at", "status", "price", "paid"}


@pytest.fixture
def desk(cli, frozen_clock):
    make_user("reception", "desk1")
    doctor = make_doctor("drcli", fee=8000)
    slot = make_slot(doctor, local(2027, 3, 10, 9))
    patient = make_patient("Ann Example")

    def run(*args: str, user: str = "desk1"):
        return cli(*args, env=login_env(user))

    return run, doctor, slot, patient


def test_book_prints_the_id_and_the_list_has_the_contract_fields(desk):
    run, doctor, slot, patient = desk
    booked = run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--reason", "check-up")
    assert booked.code == 0, booked.err
    appointment_id = int(booked.out.strip())
    listed = run("appointments", "list", "--doctor", "drcli", "--date", "2027-03-10", "--json")
    [row] = listed.json()
    assert APPOINTMENT_FIELDS <= set(row)
    assert {key: row[key] for key in APPOINTMENT_FIELDS} == {
        "id": appointment_id, "slot_id": slot.id, "patient_id": patient.id, "doctor": "drcli",
        "starts_at": "2027-03-10T09:00:00+01:00", "status": "pending", "price": "80.00", "paid": False,
    }
    shown = run("appointments", "show", str(appointment_id), "--json").json()
    assert (shown["id"], shown["reason"], shown["patient_name"]) == (appointment_id, "check-up", "Ann Example")
    table = run("appointments", "list", "--patient", str(patient.id))
    assert table.code == 0 and "Ann" in table.out and "pending" in table.out


def test_book_json_prints_the_object(desk):
    run, _, slot, patient = desk
    result = run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--json")
    assert result.code == 0 and APPOINTMENT_FIELDS <= set(result.json())


def test_refusals_are_one_line_exit_1_and_bad_ids_exit_2(desk):
    run, _, slot, patient = desk
    run("book", "--patient", str(patient.id), "--slot", str(slot.id))
    again = run("book", "--patient", str(make_patient().id), "--slot", str(slot.id))
    assert again.code == 1 and again.err.startswith("error: slot already booked") and again.err.count("\n") == 1
    assert run("book", "--patient", "999", "--slot", str(slot.id)).code == 2
    assert run("book", "--patient", "abc", "--slot", str(slot.id)).code == 2
    assert run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--pay", "cash").code == 2
    assert run("appointments", "list", "--status", "done").code == 2
    assert run("appointments", "list", "--date", "tomorrowish").code == 2
    unknown = run("appointments", "list", "--patient", "999")
    assert (unknown.code, unknown.err) == (2, "error: unknown patient 999\n")  # not an empty list


def test_the_lifecycle_from_the_command_line(desk):
    run, doctor, slot, patient = desk
    make_user("admin", "admin1")
    appointment_id = run("book", "--patient", str(patient.id), "--slot", str(slot.id)).out.strip()
    assert run("appointments", "confirm", appointment_id).out == f"appointment {appointment_id} confirmed\n"
    twice = run("appointments", "confirm", appointment_id)
    assert twice.code == 1 and "allowed now: cancel, complete, no-show" in twice.err
    later = make_slot(doctor, local(2027, 3, 12, 15))
    moved = run("appointments", "reschedule", appointment_id, "--slot", str(later.id))
    assert moved.code == 0 and "Fri 2027-03-12 15:00" in moved.out
    no_reason = run("appointments", "cancel", appointment_id)
    assert no_reason.code == 2  # --reason is required
    cancelled = run("appointments", "cancel", appointment_id, "--reason", "ill", "--json")
    assert cancelled.code == 0 and cancelled.json()["status"] == "cancelled" and cancelled.json()["refunded"] == "0.00"
    doctor_login = doctor.user.username
    second = run("book", "--patient", str(patient.id), "--slot", str(slot.id)).out.strip()
    clock.set_now(slot.starts_at)
    assert run("appointments", "complete", second, user="desk1").code == 1  # the doctor's call
    assert run("appointments", "notes", second, "--text", "all fine", user=doctor_login).code == 0
    assert run("appointments", "complete", second, user=doctor_login).code == 0
    assert Appointment.get_by_id(int(second)).notes == "all fine"
    assert run("appointments", "list", "--status", "completed", "--json", user="admin1").json()[0]["id"] == int(second)


def test_pay_right_away_calls_payments_with_the_contract(desk, monkeypatch):
    run, _, slot, patient = desk
    calls = []

    def pay(actor, appointment_id, *, method, card_number=None, card_expiry=None, idempotency_key=None):
        calls.append((appointment_id, method, card_number, card_expiry, idempotency_key))
        Appointment.update(status="confirmed").where(Appointment.id == appointment_id).execute()

    monkeypatch.setattr(payments, "pay", pay)
    result = run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--pay", "card",
                 "--card-number", "4242424242424242", "--card-expiry", "12/30", "--json")
    assert result.code == 0, result.err
    assert calls == [(result.json()["id"], "card", "4242424242424242", "12/30", None)]
    assert result.json()["status"] == "confirmed"
    missing_card = run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--pay", "card")
    assert missing_card.code == 2 and "--card-number" in missing_card.err


def test_a_failed_payment_leaves_the_booking_pending(desk, monkeypatch):
    run, _, slot, patient = desk

    def pay(actor, appointment_id, **kwargs):
        raise InsufficientFunds("insufficient funds: the wallet holds 10.00")

    monkeypatch.setattr(payments, "pay", pay)
    result = run("book", "--patient", str(patient.id), "--slot", str(slot.id), "--pay", "wallet")
    [appointment] = Appointment.select()
    assert result.code == 1
    assert result.err == (
        f"error: booked appointment {appointment.id} (pending), but payment failed: "
        "insufficient funds: the wallet holds 10.00\n"
    )
    assert result.out == f"{appointment.id}\n"  # the booking stands: a script gets its id all the same
    assert appointment.status == "pending"


def test_a_patient_books_for_themselves_from_the_command_line(desk):
    run, _, slot, _ = desk
    user = make_user("patient", "pat1")
    own = make_patient("Pat Self", user=user)
    other = make_patient("Not Me")
    refused = run("book", "--patient", str(other.id), "--slot", str(slot.id), user="pat1")
    assert refused.code == 1 and "permission denied" in refused.err
    assert run("book", "--patient", str(own.id), "--slot", str(slot.id), user="pat1").code == 0
    mine = run("appointments", "list", "--json", user="pat1").json()
    assert [row["patient_id"] for row in mine] == [own.id]
