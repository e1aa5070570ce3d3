"""Paying appointments (wallet or card) and refunds.

- ``pay``: by wallet (one conditional debit, see ``services/wallet.py``) or by card (the simulated
  processor in ``services/cards.py``; only the last four digits are kept). Paying confirms a pending
  appointment. A retry with the same idempotency key returns the first result and charges once;
  when two retries race, the unique constraint on the key decides.
- Refunds always go to the patient's wallet as a ``refund`` ledger entry, card payments too (the
  simulated processor cannot pay back to a card); they raise ``Payment.refunded_amount``, which the
  database keeps at or below what was paid.
- ``refund_on_cancel``: the cancellation policy, called inside ``booking.cancel``'s transaction.
- ``refund``: staff give back everything still refundable.

Every payment and refund writes its audit event and queues its receipt mail in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from .. import config
from ..errors import BadInput, Conflict, NotFound, Refused
from ..store.db import db, is_postgres
from ..store.models import PAYMENT_METHODS, Appointment, LedgerEntry, Payment
from . import audit, cards, changes, clock, notify, policy, wallet
from .actors import Actor
from .money import format_money, max_amount
from .timeutil import to_local
from .tx import writes


@dataclass(frozen=True)
class PaymentView:
    id: int
    appointment_id: int
    patient_id: int
    method: str
    amount: int
    refunded_amount: int
    status: str  # succeeded | declined
    card_last4: str | None
    failure_reason: str
    created_at: datetime
    appointment_status: str
    wallet_balance_after: int | None  # wallet payments: the balance the debit left
    replayed: bool  # True when an idempotency key returned an earlier result


@dataclass(frozen=True)
class RefundView:
    ledger_entry_id: int
    payment_id: int
    appointment_id: int
    patient_id: int
    amount: int
    balance_after: int
    at: datetime


class PaymentDeclined(Refused):
    """The card was declined; the declined attempt is recorded (``payment`` is its view)."""

    def __init__(self, payment: PaymentView) -> None:
        super().__init__(payment.failure_reason or cards.CARD_DECLINED)
        self.payment = payment


# -- paying ---------------------------------------------------------------------


def pay(
    actor: Actor,
    appointment_id: int,
    *,
    method: str,
    card_number: str | None = None,
    card_expiry: str | None = None,
    idempotency_key: str | None = None,
) -> PaymentView:
    """Pay the appointment's price by wallet or card; returns the payment.

    A declined card raises PaymentDeclined (exit 1) after the declined attempt is committed;
    when called inside another transaction, that transaction decides whether it is kept.
    """
    view = _pay(
        actor,
        appointment_id,
        method=method,
        card_number=card_number,
        card_expiry=card_expiry,
        idempotency_key=idempotency_key,
    )
    if view.status == "declined":
        raise PaymentDeclined(view)
    return view


@writes
def _pay(
    actor: Actor,
    appointment_id: int,
    *,
    method: str,
    card_number: str | None,
    card_expiry: str | None,
    idempotency_key: str | None,
) -> PaymentView:
    method = _check_request(method, card_number, card_expiry, idempotency_key)
    appointment = _locked_appointment(appointment_id)
    policy.require(actor, "payment.take", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    if idempotency_key is not None:
        earlier = _replay(idempotency_key, appointment, method)
        if earlier is not None:
            return earlier
    try:
        with db.atomic():  # a savepoint: a lost race on a unique constraint undoes only this attempt
            return _take(actor, appointment, method, card_number, card_expiry, idempotency_key)
    except IntegrityError:
        earlier = _replay(idempotency_key, appointment, method) if idempotency_key is not None else None
        if earlier is not None:
            return earlier
        if payment_kept(appointment.id):
            raise Refused(f"appointment {appointment.id} is already paid") from None
        raise


def _check_request(method: str, card_number: str | None, card_expiry: str | None, key: str | None) -> str:
    method = str(method).strip().lower()
    if method not in PAYMENT_METHODS:
        raise BadInput(f"payment method must be wallet or card, not {method!r}")
    if method == "card" and not card_number:
        raise BadInput("paying by card needs a card number")
    if method == "wallet" and (card_number or card_expiry):
        raise BadInput("a card number or expiry only goes with the card method")
    if method == "card":
        cards.normalize(card_number or "")
        if card_expiry is not None:
            cards.parse_expiry(card_expiry)
    if key is not None and (not 1 <= len(key) <= 128 or not key.isprintable() or key != key.strip()):
        raise BadInput("idempotency key must be 1 to 128 printable characters without surrounding spaces")
    return method


def _take(
    actor: Actor,
    appointment: Appointment,
    method: str,
    card_number: str | None,
    card_expiry: str | None,
    key: str | None,
) -> PaymentView:
    if appointment.status == "cancelled":
        raise Refused(f"appointment {appointment.id} is cancelled")
    if payment_kept(appointment.id):
        raise Refused(f"appointment {appointment.id} is already paid")
    amount = appointment.price
    if amount <= 0:
        raise Refused(f"appointment {appointment.id} is free: there is nothing to pay")
    if amount > max_amount():
        raise Refused(f"{format_money(amount)} is over the largest single payment ({format_money(max_amount())})")
    now = clock.now()
    last4: str | None = None
    balance_after: int | None = None
    if method == "card":
        answer = cards.charge(card_number or "", card_expiry)
        last4 = answer.last4
        if not answer.approved:
            declined = Payment.create(
                appointment=appointment.id,
                method=method,
                amount=amount,
                status="declined",
                card_last4=last4,
                idempotency_key=key,
                failure_reason=answer.failure_reason,
                actor=actor.user_id,
                created_at=now,
            )
            audit.record(
                actor,
                "payment.declined",
                "payment",
                declined.id,
                appointment_id=appointment.id,
                amount=amount,
                method=method,
                card_last4=last4,
                reason=answer.failure_reason,
            )
            return _view(declined, appointment, status=appointment.status)
    else:
        entry = wallet.debit(
            appointment.patient_id,
            amount,
            kind="payment",
            actor=actor,
            appointment_id=appointment.id,
            idempotency_key=key,
        )
        balance_after = entry.balance_after
    payment = Payment.create(
        appointment=appointment.id,
        method=method,
        amount=amount,
        status="succeeded",
        card_last4=last4,
        idempotency_key=key,
        actor=actor.user_id,
        created_at=now,
    )
    status = _confirm_if_pending(actor, appointment)
    audit.record(
        actor,
        "payment.take",
        "payment",
        payment.id,
        appointment_id=appointment.id,
        amount=amount,
        method=method,
        card_last4=last4,
        wallet_balance_after=balance_after,
    )
    context = notify.appointment_context(appointment.id)
    notify.queue(
        "payment_receipt",
        context["patient_email"],
        {
            **context,
            "payment_id": payment.id,
            "amount": _money(amount),
            "method_label": f"card ending in {last4}" if last4 else "your clinic wallet",
            "paid_at": to_local(now).strftime("%d %B %Y, %H:%M"),
            "wallet_balance": _money(balance_after) if balance_after is not None else None,
        },
        appointment_id=appointment.id,
        dedupe_key=f"payment_receipt:{payment.id}",
    )
    return _view(payment, appointment, status=status, balance_after=balance_after)


def _confirm_if_pending(actor: Actor, appointment: Appointment) -> str:
    """Paying confirms a pending appointment; returns the status it has now."""
    if appointment.status != "pending":
        return appointment.status
    Appointment.update(status="confirmed", updated_at=clock.now()).where(
        (Appointment.id == appointment.id) & (Appointment.status == "pending")
    ).execute()
    audit.record(actor, "appointment.confirm", "appointment", appointment.id, previous="pending", via="payment")
    changes.announce(
        "appointment", "confirmed", id=appointment.id, slot_id=appointment.slot_id, doctor_id=appointment.doctor_id
    )
    notify.appointment_event("confirmed", appointment.id)
    return "confirmed"


def _replay(key: str, appointment: Appointment, method: str) -> PaymentView | None:
    """The earlier result for this idempotency key, or None when the key is new."""
    payment = Payment.get_or_none(Payment.idempotency_key == key)
    if payment is None:
        return None
    if payment.appointment_id != appointment.id or payment.method != method:
        raise Conflict(f"idempotency key {key!r} was already used for a different payment")
    balance_after = (
        LedgerEntry.select(LedgerEntry.balance_after).where(LedgerEntry.idempotency_key == key).scalar()
        if method == "wallet"
        else None
    )
    return _view(payment, appointment, status=appointment.status, balance_after=balance_after, replayed=True)


# -- refunds --------------------------------------------------------------------


def refund_percent(starts_at: datetime, *, by_clinic: bool) -> int:
    """The share (percent) of what was paid that a cancellation now gives back."""
    if by_clinic:
        return 100
    booking = config.current().booking
    if starts_at - clock.now() >= timedelta(hours=booking.cancellation_hours):
        return 100
    return booking.late_cancellation_refund_percent


@writes
def refund_on_cancel(actor: Actor, appointment: Appointment, *, by_clinic: bool) -> int:
    """Refund what the cancellation policy allows, inside the cancel's transaction; returns minor units.

    Full when cancelled at least ``booking.cancellation_hours`` before the start or by the clinic,
    else ``booking.late_cancellation_refund_percent`` of what was paid (rounded down to the cent);
    never more than is still refundable. Nothing is refunded while nothing was paid. The caller
    has already locked or updated the appointment row, so a payment racing the cancel is either
    seen here or refused for the cancelled appointment.
    """
    payment = _succeeded_payment(appointment.id, lock=True)
    if payment is None:
        return 0
    percent = refund_percent(appointment.starts_at, by_clinic=by_clinic)
    amount = min(payment.amount * percent // 100, payment.amount - payment.refunded_amount)
    if amount <= 0:
        return 0
    if by_clinic:
        reason = "cancelled by the clinic: full refund"
    elif percent == 100:
        reason = "cancelled in time: full refund"
    else:
        reason = f"late cancellation: {percent}% refund"
    _refund(actor, payment, appointment, amount, reason=reason)
    return amount


@writes
def refund(actor: Actor, appointment_id: int) -> RefundView:
    """Staff refund everything still refundable on the appointment's payment to the patient's wallet."""
    appointment = _locked_appointment(appointment_id)
    policy.require(actor, "payment.refund", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    payment = _succeeded_payment(appointment.id, lock=True)
    if payment is None:
        raise Refused(f"appointment {appointment.id} was not paid: there is nothing to refund")
    remaining = payment.amount - payment.refunded_amount
    if remaining <= 0:
        raise Refused(f"appointment {appointment.id} has already been refunded in full")
    return _refund(actor, payment, appointment, remaining, reason="refunded by staff")


def _refund(actor: Actor, payment: Payment, appointment: Appointment, amount: int, *, reason: str) -> RefundView:
    raised = (
        Payment.update(refunded_amount=Payment.refunded_amount + amount)
        .where((Payment.id == payment.id) & (Payment.refunded_amount + amount <= Payment.amount))
        .execute()
    )
    if raised != 1:
        raise Refused(f"appointment {appointment.id}: that would refund more than was paid")
    entry = wallet.credit(
        appointment.patient_id, amount, kind="refund", actor=actor, appointment_id=appointment.id, note=reason
    )
    audit.record(
        actor,
        "payment.refund",
        "payment",
        payment.id,
        appointment_id=appointment.id,
        amount=amount,
        method=payment.method,
        reason=reason,
        ledger_entry_id=entry.id,
        wallet_balance_after=entry.balance_after,
    )
    context = notify.appointment_context(appointment.id)
    notify.queue(
        "refund_receipt",
        context["patient_email"],
        {
            **context,
            "payment_id": payment.id,
            "amount": _money(amount),
            "paid": _money(payment.amount),
            "refund_reason": reason,
            "refunded_at": to_local(entry.at).strftime("%d %B %Y, %H:%M"),
            "wallet_balance": _money(entry.balance_after),
        },
        appointment_id=appointment.id,
        dedupe_key=f"refund_receipt:{entry.id}",
    )
    return RefundView(
        ledger_entry_id=entry.id,
        payment_id=payment.id,
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        amount=amount,
        balance_after=entry.balance_after,
        at=entry.at,
    )


# -- helpers --------------------------------------------------------------------


def _locked_appointment(appointment_id: int) -> Appointment:
    """The appointment, its row locked until commit on PostgreSQL (SQLite's write lock already serialises)."""
    query = Appointment.select().where(Appointment.id == appointment_id)
    row = (query.for_update() if is_postgres() else query).first()
    if row is None:
        raise NotFound(f"unknown appointment {appointment_id}")
    return row


def payment_kept(appointment_id: int) -> bool:
    """Whether the appointment holds a payment that is not fully refunded."""
    return Payment.select().where((Payment.appointment == appointment_id) & Payment.is_open()).exists()


def _succeeded_payment(appointment_id: int, *, lock: bool = False) -> Payment | None:
    """The latest succeeded payment: the open one when there is one (a payment refunded in full may
    be followed by a new one)."""
    query = (
        Payment.select()
        .where((Payment.appointment == appointment_id) & (Payment.status == "succeeded"))
        .order_by(Payment.id.desc())
    )
    return (query.for_update() if lock and is_postgres() else query).first()


def _money(minor: int) -> str:
    return f"{format_money(minor)} {config.current().clinic.currency}"


def _view(
    payment: Payment,
    appointment: Appointment,
    *,
    status: str,
    balance_after: int | None = None,
    replayed: bool = False,
) -> PaymentView:
    return PaymentView(
        id=payment.id,
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        method=payment.method,
        amount=payment.amount,
        refunded_amount=payment.refunded_amount,
        status=payment.status,
        card_last4=payment.card_last4,
        failure_reason=payment.failure_reason,
        created_at=payment.created_at,
        appointment_status=status,
        wallet_balance_after=balance_after,
        replayed=replayed,
    )
