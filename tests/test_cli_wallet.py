"""The wallet, pay, refund and report commands as scripts use them: exit codes, one-line errors, JSON and CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from clinic_desk.store.models import LedgerEntry, Payment
from tests.factories import login_env, make_user
from tests.wallet_support import DECLINED_CARD, GOOD_CARD, balance, make_world

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def desk(db):
    """A world with a reception user ``desk`` who can log in; returns (world, env)."""
    make_user("reception", "desk")
    return make_world(8000, 4550), login_env("desk")


@pytest.mark.parametrize("typed", ["-5", "abc", "NaN", "1e3", "80.505", "0", "0.00", "10000.01", "", "80,50", "inf"])
def test_bad_amounts_are_exit_2_with_one_line_and_move_nothing(cli, desk, typed):
    world, env = desk
    for command in ("deposit", "withdraw"):
        result = cli("wallet", command, str(world.patient.id), typed, env=env)
        assert result.code == 2, (command, typed, result.err)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1
        assert "amount" in result.err
    assert LedgerEntry.select().count() == 0


def test_the_maximum_comes_from_the_configuration(cli, desk):
    world, env = desk
    capped = {**env, "CLINIC_DESK_BOOKING_MAX_AMOUNT": "50.00"}
    result = cli("wallet", "deposit", str(world.patient.id), "50.01", env=capped)
    assert result.code == 2 and "over the maximum of 50.00" in result.err
    assert cli("wallet", "deposit", str(world.patient.id), "50", env=capped).code == 0


def test_deposits_in_every_decimal_form_and_show(cli, desk):
    world, env = desk
    for typed in ("80", "80.5", "80.50"):
        result = cli("wallet", "deposit", str(world.patient.id), typed, "--note", "cash", env=env)
        assert result.code == 0, result.err
        assert result.out.strip().isdigit()  # the new ledger entry's id
    assert balance(world.patient.id) == 24100

    shown = cli("wallet", "show", str(world.patient.id), "--json", env=env)
    assert shown.code == 0
    assert shown.json()["patient_id"] == world.patient.id and shown.json()["balance"] == "241.00"
    plain = cli("wallet", "show", str(world.patient.id), env=env)
    assert "241.00 EUR" in plain.out


def test_deposit_json_is_the_ledger_entry(cli, desk):
    world, env = desk
    result = cli("wallet", "deposit", str(world.patient.id), "12.34", "--json", env=env)
    entry = result.json()
    assert entry["kind"] == "deposit" and entry["amount"] == "12.34" and entry["balance_after"] == "12.34"
    assert entry["at"] == "2027-03-04T08:30:00+01:00"  # clinic time with its offset


def test_withdrawing_too_much_is_exit_1_insufficient_funds(cli, desk):
    world, env = desk
    cli("wallet", "deposit", str(world.patient.id), "10", env=env)
    result = cli("wallet", "withdraw", str(world.patient.id), "10.01", env=env)
    assert result.code == 1 and result.err == "error: insufficient funds\n"
    assert cli("wallet", "withdraw", str(world.patient.id), "10", env=env).code == 0
    assert balance(world.patient.id) == 0


def test_history_json_amounts_are_signed_and_sum_to_the_balance(cli, desk):
    world, env = desk
    patient = str(world.patient.id)
    cli("wallet", "deposit", patient, "200", env=env)
    cli("pay", str(world.appointments[0].id), "--method", "wallet", env=env)
    cli("wallet", "withdraw", patient, "20.25", env=env)
    cli("refund", str(world.appointments[0].id), env=env)

    rows = cli("wallet", "history", patient, "--json", env=env).json()

    assert [(row["kind"], row["amount"]) for row in rows] == [
        ("deposit", "200.00"),
        ("payment", "-80.00"),
        ("withdrawal", "-20.25"),
        ("refund", "80.00"),
    ]
    assert {"id", "kind", "amount", "balance_after", "appointment_id", "at"} <= set(rows[0])
    assert rows[1]["appointment_id"] == world.appointments[0].id and rows[0]["appointment_id"] is None
    total = sum(Decimal(row["amount"]) for row in rows)
    shown = cli("wallet", "show", patient, "--json", env=env).json()
    assert total == Decimal(shown["balance"]) == Decimal(rows[-1]["balance_after"]) == Decimal("179.75")

    table = cli("wallet", "history", patient, env=env)
    assert table.code == 0 and "-20.25" in table.out

    as_csv = cli("wallet", "history", patient, "--csv", env=env)
    parsed = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [(row["kind"], row["amount"], row["balance_after"]) for row in parsed] == [
        (row["kind"], row["amount"], row["balance_after"]) for row in rows
    ]


def test_history_takes_one_format(cli, desk):
    world, env = desk
    result = cli("wallet", "history", str(world.patient.id), "--json", "--csv", env=env)
    assert result.code == 2 and "--json" in result.err


def test_unknown_patient_is_exit_2(cli, desk):
    _, env = desk
    result = cli("wallet", "show", "9999", env=env)
    assert result.code == 2 and result.err == "error: unknown patient 9999\n"
    assert cli("wallet", "show", "nine", env=env).code == 2


def test_a_patient_may_look_but_not_deposit(cli, desk):
    world, _ = desk
    env = login_env(world.patient_actor.username)
    result = cli("wallet", "deposit", str(world.patient.id), "10", env=env)
    assert result.code == 1 and result.err.startswith("error: permission denied")
    assert cli("wallet", "show", str(world.patient.id), "--json", env=env).json()["balance"] == "0.00"


def test_pay_by_card_prints_the_payment_and_a_declined_card_is_exit_1(cli, desk):
    world, env = desk
    first, second = (str(a.id) for a in world.appointments)

    declined = cli("pay", first, "--method", "card", "--card-number", DECLINED_CARD, env=env)
    assert declined.code == 1 and declined.err == "error: card declined\n"
    assert "0000" not in declined.out + declined.err

    card = ("--method", "card", "--card-number", GOOD_CARD)
    paid = cli("pay", first, *card, "--card-expiry", "12/29", "--json", env=env)
    assert paid.code == 0, paid.err
    view = paid.json()
    assert view["status"] == "succeeded" and view["amount"] == "80.00" and view["card_last4"] == "4242"
    assert view["appointment_status"] == "confirmed"
    assert "4242 4242" not in paid.out and "4242424242424242" not in paid.out

    again = cli("pay", first, "--method", "card", "--card-number", GOOD_CARD, env=env)
    assert again.code == 1 and again.err == f"error: appointment {first} is already paid\n"

    bad_number = cli("pay", second, "--method", "card", "--card-number", "4242424242424241", env=env)
    assert bad_number.code == 2 and "4242424242424241" not in bad_number.err
    assert cli("pay", second, "--method", "cash", env=env).code == 2


def test_pay_with_an_idempotency_key_twice_prints_the_same_payment_and_charges_once(cli, desk):
    world, env = desk
    cli("wallet", "deposit", str(world.patient.id), "100", env=env)
    args = ("pay", str(world.appointments[0].id), "--method", "wallet", "--idempotency-key", "desk-1-42")
    first = cli(*args, env=env)
    retry = cli(*args, env=env)
    assert first.code == retry.code == 0
    assert first.out == retry.out and first.out.strip().isdigit()
    assert "earlier payment" in retry.err
    assert balance(world.patient.id) == 2000
    assert Payment.select().count() == 1


def test_refund_command_for_staff(cli, desk):
    world, env = desk
    appointment = str(world.appointments[0].id)
    cli("pay", appointment, "--method", "card", "--card-number", GOOD_CARD, env=env)

    result = cli("refund", appointment, "--json", env=env)

    assert result.code == 0, result.err
    assert result.json()["amount"] == "80.00" and result.json()["balance_after"] == "80.00"
    again = cli("refund", appointment, env=env)
    assert again.code == 1 and "already been refunded" in again.err
    patient_try = cli("refund", str(world.appointments[1].id), env=login_env(world.patient_actor.username))
    assert patient_try.code == 1 and "permission denied" in patient_try.err


def test_cancel_says_what_happened_to_the_money(cli, desk):
    world, env = desk
    late = {**env, "CLINIC_DESK_BOOKING_CANCELLATION_HOURS": "100000"}  # every visit is "late" now
    first, second = (str(a.id) for a in world.appointments)
    for appointment in (first, second):
        assert cli("pay", appointment, "--method", "card", "--card-number", GOOD_CARD, env=env).code == 0

    kept = cli("appointments", "cancel", first, "--reason", "ill", env=late)
    assert kept.code == 0, kept.err
    assert kept.out.strip() == f"appointment {first} cancelled; the payment is kept (late cancellation); a refund by staff returns it"
    partly = cli("appointments", "cancel", second, "--reason", "ill",
                 env={**late, "CLINIC_DESK_BOOKING_LATE_CANCELLATION_REFUND_PERCENT": "50"})
    assert partly.out.strip() == (f"appointment {second} cancelled; refunded 22.75 to the wallet;"
                                  " the rest of the payment is kept (late cancellation); a refund by staff returns it")


def test_report_revenue_json(cli, desk):
    world, env = desk
    make_user("admin", "boss")
    cli("pay", str(world.appointments[0].id), "--method", "card", "--card-number", GOOD_CARD, env=env)
    cli("pay", str(world.appointments[1].id), "--method", "card", "--card-number", GOOD_CARD, env=env)
    cli("refund", str(world.appointments[1].id), env=env)
    doctor = world.doctor.user.username

    result = cli("report", "revenue", "--from", "2027-03-01", "--to", "2027-03-31", "--json", env=login_env("boss"))

    assert result.code == 0, result.err
    assert result.json() == [
        {
            "id": world.doctor.id,
            "doctor": doctor,
            "full_name": world.doctor.user.full_name,
            "payments": 2,
            "paid": "125.50",
            "refunded": "45.50",
            "revenue": "80.00",
        }
    ]
    table = cli("report", "revenue", "--doctor", doctor, env=login_env("boss"))
    assert table.code == 0 and "80.00" in table.out
    assert cli("report", "revenue", "--from", "March", env=login_env("boss")).code == 2
    assert cli("report", "revenue", env=env).code == 1  # reception does not read revenue
