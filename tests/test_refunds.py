"""Refunds: the cancellation policy on both sides of its threshold, staff refunds, never more than was paid."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clinic_desk.errors import PermissionDenied, Refused
from clinic_desk.services import clock, payments, wallet
from clinic_desk.store.models import AuditEvent, LedgerEntry, Outbox, Payment
from tests.factories import actor_for, make_doctor
from tests.wallet_support import GOOD_CARD, VISIT, balance, cancel, ledger_sum, make_world, set_booking

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _paid_by_wallet(price: int = 8000):
    world = make_world(price)
    wallet.deposit(world.staff, world.patient.id, price)
    payments.pay(world.staff, world.appointments[0].id, method="wallet")
    assert balance(world.patient.id) == 0
    return world


def test_cancelling_exactly_at_the_threshold_refunds_in_full(db):
    world = _paid_by_wallet(8000)
    clock.set_now(VISIT - timedelta(hours=24))  # booking.cancellation_hours defaults to 24

    assert cancel(world.patient_actor, world.appointments[0].id) == 8000

    assert balance(world.patient.id) == 8000 == ledger_sum(world.patient.id)
    entry = LedgerEntry.get(LedgerEntry.kind == "refund")
    assert entry.amount == 8000 and entry.appointment_id == world.appointments[0].id
    assert Payment.get().refunded_amount == 8000


def test_cancelling_a_second_after_the_threshold_refunds_nothing_by_default(db):
    world = _paid_by_wallet(8000)
    clock.set_now(VISIT - timedelta(hours=24) + timedelta(seconds=1))

    assert cancel(world.patient_actor, world.appointments[0].id) == 0

    assert balance(world.patient.id) == 0
    assert LedgerEntry.select().where(LedgerEntry.kind == "refund").count() == 0
    assert Outbox.select().where(Outbox.kind == "refund_receipt").count() == 0


def test_a_late_cancellation_refunds_the_configured_share_rounded_down(db):
    set_booking(late_cancellation_refund_percent=33, cancellation_hours=48)
    world = _paid_by_wallet(8050)
    clock.set_now(VISIT - timedelta(hours=47))

    assert cancel(world.patient_actor, world.appointments[0].id) == 2656  # 33% of 80.50 is 26.565

    assert balance(world.patient.id) == 2656
    assert Payment.get().refunded_amount == 2656
    event = AuditEvent.get(AuditEvent.action == "payment.refund")
    assert json.loads(event.details)["reason"] == "late cancellation: 33% refund"


def test_the_clinic_cancelling_always_refunds_in_full(db):
    world = _paid_by_wallet(8000)
    clock.set_now(VISIT + timedelta(minutes=5))  # even after the start
    assert cancel(world.staff, world.appointments[0].id, by_clinic=True) == 8000
    assert balance(world.patient.id) == 8000


def test_nothing_paid_nothing_refunded(db):
    world = make_world(8000)
    assert cancel(world.patient_actor, world.appointments[0].id) == 0
    assert LedgerEntry.select().count() == 0


def test_a_declined_attempt_is_not_refunded(db):
    world = make_world(8000)
    with pytest.raises(payments.PaymentDeclined):
        payments.pay(world.staff, world.appointments[0].id, method="card", card_number="4000000000000002")
    assert cancel(world.patient_actor, world.appointments[0].id, by_clinic=True) == 0
    assert balance(world.patient.id) == 0


def test_a_card_payment_is_refunded_to_the_wallet(db):
    world = make_world(8000)
    payments.pay(world.staff, world.appointments[0].id, method="card", card_number=GOOD_CARD)
    assert cancel(world.staff, world.appointments[0].id, by_clinic=True) == 8000
    assert balance(world.patient.id) == 8000 == ledger_sum(world.patient.id)
    receipt = Outbox.get(Outbox.kind == "refund_receipt")
    assert receipt.to_addr == world.patient.email
    assert "80.00 EUR" in receipt.subject and "cancelled by the clinic" in receipt.text_body


def test_staff_refund_gives_back_everything_still_refundable_once(db):
    set_booking(late_cancellation_refund_percent=25)
    world = _paid_by_wallet(8000)
    clock.set_now(VISIT - timedelta(hours=1))
    assert cancel(world.patient_actor, world.appointments[0].id) == 2000

    view = payments.refund(world.staff, world.appointments[0].id)

    assert view.amount == 6000 and view.balance_after == 8000
    assert Payment.get().refunded_amount == 8000
    with pytest.raises(Refused, match="already been refunded in full"):
        payments.refund(world.staff, world.appointments[0].id)
    assert balance(world.patient.id) == 8000 == ledger_sum(world.patient.id)
    assert Outbox.select().where(Outbox.kind == "refund_receipt").count() == 2


def test_a_cancel_after_a_full_staff_refund_refunds_nothing_more(db):
    world = _paid_by_wallet(8000)
    payments.refund(world.staff, world.appointments[0].id)
    assert cancel(world.staff, world.appointments[0].id, by_clinic=True) == 0
    assert balance(world.patient.id) == 8000


def test_refunding_an_unpaid_appointment_is_refused(db):
    world = make_world(8000)
    with pytest.raises(Refused, match="was not paid"):
        payments.refund(world.staff, world.appointments[0].id)


def test_only_desk_staff_refund(db):
    world = _paid_by_wallet(8000)
    for actor in (world.patient_actor, actor_for(world.doctor.user), actor_for(make_doctor().user)):
        with pytest.raises(PermissionDenied):
            payments.refund(actor, world.appointments[0].id)
    assert balance(world.patient.id) == 0


def test_the_database_refuses_refunding_more_than_was_paid(db):
    from peewee import IntegrityError

    _paid_by_wallet(8000)
    with pytest.raises(IntegrityError):
        Payment.update(refunded_amount=8001).execute()


def test_cancelling_through_booking_applies_the_policy(db):
    from clinic_desk.services import booking

    world = _paid_by_wallet(8000)
    clock.set_now(VISIT - timedelta(hours=30))

    result = booking.cancel(world.patient_actor, world.appointments[0].id, "ill")

    assert result.refunded == 8000
    assert balance(world.patient.id) == 8000 == ledger_sum(world.patient.id)
    assert {row.kind for row in Outbox.select()} >= {"appointment_cancelled", "refund_receipt"}


def test_an_appointment_refunded_in_full_can_be_paid_again_once(db):
    """Staff refund a payment taken by mistake; the visit still stands, unpaid, and is paid again."""
    from clinic_desk.services import queries

    world = _paid_by_wallet(8000)
    appointment_id = world.appointments[0].id
    payments.refund(world.staff, appointment_id)
    assert not queries.load_appointment(world.staff, appointment_id).paid

    again = payments.pay(world.staff, appointment_id, method="card", card_number=GOOD_CARD)

    assert again.amount == 8000 and queries.load_appointment(world.staff, appointment_id).paid
    with pytest.raises(Refused, match="already paid"):
        payments.pay(world.staff, appointment_id, method="wallet")
    assert cancel(world.staff, appointment_id, by_clinic=True) == 8000  # the open payment is the one refunded
    assert balance(world.patient.id) == 16000 == ledger_sum(world.patient.id)


def test_a_patient_cannot_move_a_paid_visit_out_of_the_late_window_to_cancel_it_in_full(db):
    from clinic_desk.services import booking
    from tests.factories import make_slot

    world = _paid_by_wallet(8000)
    appointment_id = world.appointments[0].id
    later = make_slot(world.doctor, VISIT + timedelta(days=30))
    clock.set_now(VISIT - timedelta(hours=2))

    with pytest.raises(Refused, match="can no longer be moved online; please ask the clinic"):
        booking.reschedule(world.patient_actor, appointment_id, later.id)
    booking.reschedule(world.staff, appointment_id, later.id)  # the desk may, knowing the policy
    unpaid = make_world(5000).appointments[0]  # nothing to refund: its patient may move it late too
    booking.reschedule(actor_for(unpaid.patient.user), unpaid.id, make_slot(make_doctor(), VISIT + timedelta(days=3)).id)
