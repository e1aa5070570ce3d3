"""Paying appointments: wallet debits, the simulated card processor, idempotency, confirmation, receipts."""

from __future__ import annotations

import pytest

from clinic_desk.errors import BadInput, Conflict, InsufficientFunds, NotFound, PermissionDenied, Refused
from clinic_desk.services import payments, wallet
from clinic_desk.services.payments import PaymentDeclined
from clinic_desk.store.models import Appointment, AuditEvent, LedgerEntry, Outbox, Payment
from tests.factories import actor_for, make_doctor
from tests.wallet_support import DECLINED_CARD, GOOD_CARD, balance, ledger_sum, make_world, set_booking

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _funded(amount: int = 10000, *prices: int):
    world = make_world(*(prices or (8000,)))
    wallet.deposit(world.staff, world.patient.id, amount)
    return world


def test_paying_from_the_wallet_debits_it_confirms_and_queues_a_receipt(db, frozen_clock):
    world = _funded(10000, 8050)
    appointment = world.appointments[0]

    view = payments.pay(world.staff, appointment.id, method="wallet")

    assert view.status == "succeeded" and view.amount == 8050 and view.method == "wallet"
    assert view.wallet_balance_after == 1950 and not view.replayed
    assert balance(world.patient.id) == 1950 == ledger_sum(world.patient.id)
    entry = LedgerEntry.get(LedgerEntry.kind == "payment")
    assert entry.amount == 8050 and entry.appointment_id == appointment.id and entry.balance_after == 1950
    assert Appointment.get_by_id(appointment.id).status == "confirmed" == view.appointment_status
    kinds = sorted(row.kind for row in Outbox.select())
    assert kinds == ["appointment_confirmed", "payment_receipt"]
    receipt = Outbox.get(Outbox.kind == "payment_receipt")
    assert receipt.to_addr == world.patient.email
    assert "80.50 EUR" in receipt.subject and "your clinic wallet" in receipt.text_body
    assert "19.50 EUR" in receipt.text_body  # the balance the payment left
    actions = {e.action for e in AuditEvent.select()}
    assert {"payment.take", "appointment.confirm"} <= actions


def test_paying_a_confirmed_appointment_keeps_it_confirmed_without_another_confirmation_mail(db):
    world = make_world()
    Appointment.update(status="confirmed").execute()
    payments.pay(world.staff, world.appointments[0].id, method="card", card_number=GOOD_CARD)
    assert [row.kind for row in Outbox.select()] == ["payment_receipt"]


def test_not_enough_in_the_wallet_is_insufficient_funds_and_nothing_is_written(db):
    world = _funded(7999, 8000)
    with pytest.raises(InsufficientFunds, match="insufficient funds"):
        payments.pay(world.staff, world.appointments[0].id, method="wallet")
    assert balance(world.patient.id) == 7999
    assert Payment.select().count() == 0
    assert Appointment.get_by_id(world.appointments[0].id).status == "pending"
    assert Outbox.select().count() == 0


def test_a_good_card_pays_and_only_the_last_four_digits_are_kept(db):
    world = make_world(8000)
    view = payments.pay(world.patient_actor, world.appointments[0].id, method="card", card_number=GOOD_CARD)
    assert view.status == "succeeded" and view.card_last4 == "4242" and view.wallet_balance_after is None
    assert balance(world.patient.id) == 0  # the wallet is not touched
    receipt = Outbox.get(Outbox.kind == "payment_receipt")
    assert "card ending in 4242" in receipt.text_body
    _assert_card_number_stored_nowhere("4242424242424242")


def test_the_decline_card_is_declined_recorded_and_charges_nothing(db):
    world = make_world(8000)
    appointment = world.appointments[0]

    with pytest.raises(PaymentDeclined, match="^card declined$") as caught:
        payments.pay(world.staff, appointment.id, method="card", card_number=DECLINED_CARD)

    assert caught.value.exit_code == 1
    row = Payment.get()
    assert row.status == "declined" and row.card_last4 == "0002" and row.failure_reason == "card declined"
    assert caught.value.payment.id == row.id
    assert Appointment.get_by_id(appointment.id).status == "pending"
    assert Outbox.select().count() == 0
    assert AuditEvent.get(AuditEvent.action == "payment.declined").entity_id == row.id
    _assert_card_number_stored_nowhere("4000000000000002")
    # a decline does not count as paid: a good card goes through afterwards
    assert payments.pay(world.staff, appointment.id, method="card", card_number=GOOD_CARD).status == "succeeded"


def test_an_expired_card_is_declined(db, frozen_clock):
    world = make_world(8000)
    with pytest.raises(PaymentDeclined, match="card expired"):
        payments.pay(world.staff, world.appointments[0].id, method="card", card_number=GOOD_CARD, card_expiry="02/27")
    good_to_month_end = dict(method="card", card_number=GOOD_CARD, card_expiry="03/27")
    view = payments.pay(world.staff, world.appointments[0].id, **good_to_month_end)
    assert view.status == "succeeded"  # good through the end of its month


@pytest.mark.parametrize(
    ("number", "expiry", "message"),
    [
        ("4242 4242 4242 4241", None, "not valid"),  # Luhn check fails
        ("4242", None, "12 to 19 digits"),
        ("4242-4242-4242-424x", None, "12 to 19 digits"),
        (GOOD_CARD, "13/30", "MM/YY"),
        (GOOD_CARD, "tomorrow", "MM/YY"),
    ],
)
def test_bad_card_input_is_bad_input_and_never_echoes_the_number(db, number, expiry, message):
    world = make_world(8000)
    with pytest.raises(BadInput, match=message) as caught:
        payments.pay(world.staff, world.appointments[0].id, method="card", card_number=number, card_expiry=expiry)
    digits = number.replace(" ", "").replace("-", "")
    assert digits not in str(caught.value).replace(" ", "").replace("-", "")
    assert Payment.select().count() == 0


def test_method_and_card_options_must_fit_together(db):
    world = make_world(8000)
    appointment_id = world.appointments[0].id
    with pytest.raises(BadInput, match="wallet or card"):
        payments.pay(world.staff, appointment_id, method="cash")
    with pytest.raises(BadInput, match="needs a card number"):
        payments.pay(world.staff, appointment_id, method="card")
    with pytest.raises(BadInput, match="only goes with the card method"):
        payments.pay(world.staff, appointment_id, method="wallet", card_number=GOOD_CARD)


def test_paying_twice_is_refused(db):
    world = _funded(20000, 8000)
    appointment_id = world.appointments[0].id
    payments.pay(world.staff, appointment_id, method="wallet")
    with pytest.raises(Refused, match="already paid"):
        payments.pay(world.staff, appointment_id, method="wallet")
    with pytest.raises(Refused, match="already paid"):
        payments.pay(world.staff, appointment_id, method="card", card_number=GOOD_CARD)
    assert balance(world.patient.id) == 12000
    assert Payment.select().count() == 1


def test_paying_a_cancelled_appointment_is_refused(db):
    world = _funded(10000, 8000)
    Appointment.update(status="cancelled").execute()
    with pytest.raises(Refused, match="cancelled"):
        payments.pay(world.staff, world.appointments[0].id, method="wallet")
    assert balance(world.patient.id) == 10000


def test_a_free_appointment_has_nothing_to_pay(db):
    world = make_world(0)
    with pytest.raises(Refused, match="nothing to pay"):
        payments.pay(world.staff, world.appointments[0].id, method="card", card_number=GOOD_CARD)


def test_a_price_over_the_maximum_single_payment_is_refused(db):
    world = make_world(8000)
    set_booking(max_amount="79.99")
    with pytest.raises(Refused, match="largest single payment"):
        payments.pay(world.staff, world.appointments[0].id, method="card", card_number=GOOD_CARD)


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result_and_charges_once(db):
    world = _funded(20000, 8000)
    appointment_id = world.appointments[0].id

    first = payments.pay(world.staff, appointment_id, method="wallet", idempotency_key="desk1-0001")
    retry = payments.pay(world.staff, appointment_id, method="wallet", idempotency_key="desk1-0001")

    assert retry.replayed and not first.replayed
    assert retry.id == first.id and retry.amount == first.amount
    assert retry.wallet_balance_after == first.wallet_balance_after == 12000
    assert balance(world.patient.id) == 12000
    assert LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 1
    assert Outbox.select().where(Outbox.kind == "payment_receipt").count() == 1


def test_a_declined_attempt_replays_as_declined(db):
    world = make_world(8000)
    appointment_id = world.appointments[0].id
    for _ in range(2):
        with pytest.raises(PaymentDeclined, match="card declined"):
            payments.pay(
                world.staff, appointment_id, method="card", card_number=DECLINED_CARD, idempotency_key="k-declined"
            )
    assert Payment.select().count() == 1


def test_an_idempotency_key_used_for_another_payment_is_a_conflict(db):
    world = _funded(20000, 8000, 3000)
    first, second = world.appointments
    payments.pay(world.staff, first.id, method="wallet", idempotency_key="same")
    with pytest.raises(Conflict, match="different payment"):
        payments.pay(world.staff, second.id, method="wallet", idempotency_key="same")
    with pytest.raises(Conflict, match="different payment"):
        payments.pay(world.staff, first.id, method="card", card_number=GOOD_CARD, idempotency_key="same")
    assert balance(world.patient.id) == 12000


def test_when_a_racing_request_took_the_key_first_the_unique_constraint_decides(db, monkeypatch):
    """The look-up missed the key (another desk had not committed yet): the insert's unique
    constraint fails, the attempt is rolled back to its savepoint, and the earlier use is found."""
    world = _funded(20000, 8000, 3000)
    first, second = world.appointments
    payments.pay(world.staff, first.id, method="wallet", idempotency_key="raced")
    real_replay = payments._replay
    calls = []

    def late_replay(key, appointment, method):
        calls.append(key)
        return None if len(calls) == 1 else real_replay(key, appointment, method)

    monkeypatch.setattr(payments, "_replay", late_replay)
    with pytest.raises(Conflict, match="different payment"):
        payments.pay(world.staff, second.id, method="wallet", idempotency_key="raced")

    assert len(calls) == 2
    assert balance(world.patient.id) == 12000 == ledger_sum(world.patient.id)  # the second debit was undone
    assert Payment.select().count() == 1


def test_who_may_pay(db):
    world = _funded(20000, 8000, 3000)
    other = make_world(8000)
    doctor_actor = actor_for(make_doctor().user)
    with pytest.raises(PermissionDenied):
        payments.pay(doctor_actor, world.appointments[0].id, method="card", card_number=GOOD_CARD)
    with pytest.raises(PermissionDenied):
        payments.pay(world.patient_actor, other.appointments[0].id, method="card", card_number=GOOD_CARD)
    assert payments.pay(world.patient_actor, world.appointments[0].id, method="wallet").status == "succeeded"


def test_unknown_appointment_is_not_found(db):
    world = make_world()
    with pytest.raises(NotFound, match="unknown appointment 4242"):
        payments.pay(world.staff, 4242, method="wallet")


def _assert_card_number_stored_nowhere(digits: str) -> None:
    """The full number is in no row of any table that could hold text about the payment."""
    for model, fields in (
        (Payment, ("card_last4", "failure_reason", "idempotency_key")),
        (AuditEvent, ("details",)),
        (Outbox, ("subject", "text_body", "html_body")),
        (LedgerEntry, ("note",)),
    ):
        for row in model.select():
            for field in fields:
                assert digits not in str(getattr(row, field) or ""), (model.__name__, field)
