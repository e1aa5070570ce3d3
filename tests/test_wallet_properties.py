"""Property: any sequence of deposits, payments, refunds and withdrawals keeps balance == sum(ledger) >= 0.

Each example runs the real services against a model of what the wallet should hold, and checks
after every step that the database agrees with the model and with its own ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_desk.errors import InsufficientFunds, Refused
from clinic_desk.services import clock, payments, wallet
from clinic_desk.store.models import Payment
from tests.wallet_support import GOOD_CARD, VISIT, balance, cancel, ledger_sum, make_world, set_booking, wipe

NOW = VISIT - timedelta(days=6)
PRICES = (8000, 4550, 12000)
LATE_PERCENT = 40

amounts = st.integers(min_value=1, max_value=20000)
slots = st.integers(min_value=0, max_value=len(PRICES) - 1)
steps = st.one_of(
    st.tuples(st.just("deposit"), amounts),
    st.tuples(st.just("withdraw"), amounts),
    st.tuples(st.just("pay_wallet"), slots),
    st.tuples(st.just("pay_card"), slots),
    st.tuples(st.just("refund"), slots),
    st.tuples(st.just("cancel"), slots, st.sampled_from(["early", "late", "by_clinic"])),
)


@dataclass
class Visit:
    price: int
    cancelled: bool = False
    paid: bool = False
    refunded: int = 0


def _run(world, visits: list[Visit], step: tuple) -> tuple[str, int]:
    """Apply one step through the services; return (outcome, expected balance change)."""
    kind, arg = step[0], step[1]
    held = balance(world.patient.id)
    if kind == "deposit":
        wallet.deposit(world.staff, world.patient.id, arg)
        return "ok", arg
    if kind == "withdraw":
        expected = "ok" if arg <= held else "insufficient"
        return _attempt(lambda: wallet.withdraw(world.staff, world.patient.id, arg), expected), -arg
    visit, appointment_id = visits[arg], world.appointments[arg].id
    if kind in ("pay_wallet", "pay_card"):
        by_wallet = kind == "pay_wallet"
        if visit.cancelled or (visit.paid and visit.refunded < visit.price):  # a payment refunded in full is none
            expected = "refused"
        else:
            expected = "insufficient" if by_wallet and visit.price > held else "ok"
        method = {"method": "wallet"} if by_wallet else {"method": "card", "card_number": GOOD_CARD}
        outcome = _attempt(lambda: payments.pay(world.staff, appointment_id, **method), expected)
        if outcome == "ok":
            visit.paid, visit.refunded = True, 0  # the new payment is the one refunds and cancels act on
        return outcome, -visit.price if by_wallet else 0
    if kind == "refund":
        remaining = visit.price - visit.refunded if visit.paid else 0
        outcome = _attempt(lambda: payments.refund(world.staff, appointment_id), "ok" if remaining else "refused")
        visit.refunded += remaining
        return outcome, remaining
    # cancel: early (in time), late (inside the cancellation window) or by the clinic
    if visit.cancelled:
        return "ok", 0
    when = step[2]
    clock.set_now(VISIT + timedelta(hours=arg) - timedelta(hours=48 if when == "early" else 1))
    try:
        refunded = cancel(world.staff, appointment_id, by_clinic=when == "by_clinic")
    finally:
        clock.set_now(NOW)
    visit.cancelled = True
    percent = LATE_PERCENT if when == "late" else 100
    expected = min(visit.price * percent // 100, visit.price - visit.refunded) if visit.paid else 0
    assert refunded == expected
    visit.refunded += refunded
    return "ok", refunded


def _attempt(call, expected: str) -> str:
    try:
        call()
        outcome = "ok"
    except InsufficientFunds as exc:
        assert exc.message == "insufficient funds"
        outcome = "insufficient"
    except Refused:
        outcome = "refused"
    assert outcome == expected
    return outcome


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(steps, max_size=25))
def test_any_sequence_keeps_the_balance_equal_to_the_ledger_and_never_negative(db, script):
    clock.set_now(NOW)
    set_booking(late_cancellation_refund_percent=LATE_PERCENT, cancellation_hours=24)
    try:
        world = make_world(*PRICES)
        visits = [Visit(price) for price in PRICES]
        expected = 0
        for step in script:
            outcome, change = _run(world, visits, step)
            if outcome == "ok":
                expected += change
            held = balance(world.patient.id)
            assert held == expected
            assert held == ledger_sum(world.patient.id)
            assert held >= 0
        refunded = {p.appointment_id: p.refunded_amount for p in Payment.select().where(Payment.status == "succeeded")}
        for visit, appointment in zip(visits, world.appointments):
            assert refunded.get(appointment.id, 0) == visit.refunded
            assert visit.refunded <= (visit.price if visit.paid else 0)
    finally:
        wipe()
