"""A patient's wallet: deposits, withdrawals, history, and the two primitives every money move uses.

The balance never goes below zero and always equals the sum of the ledger (credits positive,
debits negative). ``credit`` and ``debit`` each change the balance with ONE atomic UPDATE in SQL
(the debit is conditional: ``WHERE balance >= amount``; the CHECK constraint is the last line of
defence) and write the ledger row with ``balance_after`` in the same transaction. The row lock
that UPDATE takes is held to commit, so ledger ids follow the order the balance changed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import BadInput, InsufficientFunds
from ..store.models import LEDGER_DEBITS, LedgerEntry, Wallet
from . import audit, clock, policy
from .actors import Actor
from .contact import clean_text
from .money import format_money, max_amount
from .patients import find_patient
from .tx import reads, writes

MAX_NOTE = 500


@dataclass(frozen=True)
class WalletView:
    patient_id: int
    patient_name: str
    balance: int


@dataclass(frozen=True)
class LedgerView:
    """One ledger row; ``amount`` is signed (debits negative) so a wallet's rows sum to its balance."""

    id: int
    kind: str
    amount: int
    balance_after: int
    appointment_id: int | None
    at: datetime
    note: str


def signed(kind: str, amount: int) -> int:
    return -amount if kind in LEDGER_DEBITS else amount


def ledger_view(entry: LedgerEntry) -> LedgerView:
    return LedgerView(
        id=entry.id,
        kind=entry.kind,
        amount=signed(entry.kind, entry.amount),
        balance_after=entry.balance_after,
        appointment_id=entry.appointment_id,
        at=entry.at,
        note=entry.note,
    )


# -- primitives (call inside a @writes transaction) -----------------------------


def ensure_wallet(patient_id: int) -> int:
    """The id of the patient's wallet, created empty if missing (safe when two desks race)."""
    Wallet.insert(patient=patient_id, balance=0, updated_at=clock.now()).on_conflict(
        conflict_target=[Wallet.patient], action="IGNORE"
    ).execute()
    return Wallet.select(Wallet.id).where(Wallet.patient == patient_id).scalar()


def _balance(wallet_id: int) -> int:
    return Wallet.select(Wallet.balance).where(Wallet.id == wallet_id).scalar()


def _entry(wallet_id: int, kind: str, amount: int, actor: Actor, **fields) -> LedgerEntry:
    return LedgerEntry.create(
        wallet=wallet_id,
        kind=kind,
        amount=amount,
        balance_after=_balance(wallet_id),
        actor=actor.user_id,
        at=clock.now(),
        **fields,
    )


def credit(
    patient_id: int,
    amount: int,
    *,
    kind: str,
    actor: Actor,
    appointment_id: int | None = None,
    note: str = "",
) -> LedgerEntry:
    """Add ``amount`` to the patient's wallet (created if missing) and write the ledger row."""
    if amount <= 0:
        raise ValueError("a credit must be positive")
    wallet_id = ensure_wallet(patient_id)
    Wallet.update(balance=Wallet.balance + amount, updated_at=clock.now()).where(Wallet.id == wallet_id).execute()
    return _entry(wallet_id, kind, amount, actor, appointment=appointment_id, note=note)


def debit(
    patient_id: int,
    amount: int,
    *,
    kind: str,
    actor: Actor,
    appointment_id: int | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Take ``amount`` from the patient's wallet, or raise InsufficientFunds having changed nothing."""
    if amount <= 0:
        raise ValueError("a debit must be positive")
    wallet_id = Wallet.select(Wallet.id).where(Wallet.patient == patient_id).scalar()
    if wallet_id is None:
        raise InsufficientFunds()
    taken = (
        Wallet.update(balance=Wallet.balance - amount, updated_at=clock.now())
        .where((Wallet.id == wallet_id) & (Wallet.balance >= amount))
        .execute()
    )
    if taken != 1:
        raise InsufficientFunds()
    return _entry(
        wallet_id, kind, amount, actor, appointment=appointment_id, note=note, idempotency_key=idempotency_key
    )


def check_amount(amount: int) -> None:
    """Services re-check what the commands parsed: positive and within ``booking.max_amount``."""
    limit = max_amount()
    if amount <= 0:
        raise BadInput("amount must be more than zero")
    if amount > limit:
        raise BadInput(f"amount {format_money(amount)} is over the maximum of {format_money(limit)}")


def clean_note(note: str) -> str:
    """A ledger note as staff type it: one line of text, no control characters."""
    return clean_text(note, what="note", max_length=MAX_NOTE, required=False)


# -- services -------------------------------------------------------------------


@reads
def show(actor: Actor, patient_id: int) -> WalletView:
    """The patient's balance (zero while they have no wallet yet; reading creates nothing)."""
    patient = find_patient(patient_id)
    policy.require(actor, "wallet.read", patient_id=patient.id)
    balance = Wallet.select(Wallet.balance).where(Wallet.patient == patient.id).scalar()
    return WalletView(patient_id=patient.id, patient_name=patient.full_name, balance=balance or 0)


@reads
def history(actor: Actor, patient_id: int) -> list[LedgerView]:
    """Every ledger row of the patient's wallet, oldest first."""
    patient = find_patient(patient_id)
    policy.require(actor, "wallet.read", patient_id=patient.id)
    entries = (
        LedgerEntry.select()
        .join(Wallet, on=(LedgerEntry.wallet == Wallet.id))
        .where(Wallet.patient == patient.id)
        .order_by(LedgerEntry.id)
    )
    return [ledger_view(entry) for entry in entries]


@writes
def deposit(actor: Actor, patient_id: int, amount: int, *, note: str = "") -> LedgerView:
    """Staff put money into the patient's wallet."""
    patient = find_patient(patient_id)
    policy.require(actor, "wallet.deposit", patient_id=patient.id)
    check_amount(amount)
    entry = credit(patient.id, amount, kind="deposit", actor=actor, note=clean_note(note))
    _audit(actor, "wallet.deposit", patient.id, entry)
    return ledger_view(entry)


@writes
def withdraw(actor: Actor, patient_id: int, amount: int, *, note: str = "") -> LedgerView:
    """Staff pay money out of the patient's wallet; "insufficient funds" when it does not hold that much."""
    patient = find_patient(patient_id)
    policy.require(actor, "wallet.withdraw", patient_id=patient.id)
    check_amount(amount)
    entry = debit(patient.id, amount, kind="withdrawal", actor=actor, note=clean_note(note))
    _audit(actor, "wallet.withdraw", patient.id, entry)
    return ledger_view(entry)


def _audit(actor: Actor, action: str, patient_id: int, entry: LedgerEntry) -> None:
    audit.record(
        actor,
        action,
        "wallet",
        entry.wallet_id,
        patient_id=patient_id,
        amount=entry.amount,
        balance_after=entry.balance_after,
        ledger_entry_id=entry.id,
        note=entry.note,
    )
