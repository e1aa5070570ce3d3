"""Set-up shared by the wallet, payment, refund and report tests, and the workers their multi-process tests spawn.

Workers live here (not in a test module) so that a spawned child imports only this light module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from peewee import Case, fn

from clinic_desk import config
from clinic_desk.services import clock, payments
from clinic_desk.services.actors import Actor
from clinic_desk.services.tx import writes
from clinic_desk.store.models import ALL_MODELS, LEDGER_DEBITS, Appointment, Doctor, LedgerEntry, Patient, Wallet
from tests.factories import actor_for, make_appointment, make_doctor, make_patient, make_slot, make_user

# Wednesday 10 March 2027, 10:00 in Berlin: six days after the frozen "now" of the test suite.
VISIT = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@dataclass
class World:
    staff: Actor
    patient: Patient
    patient_actor: Actor
    doctor: Doctor
    appointments: list[Appointment]


def make_world(*prices: int, doctor: Doctor | None = None, first: datetime = VISIT) -> World:
    """A reception user, a patient who can log in, a doctor, and one pending appointment per price."""
    staff = actor_for(make_user("reception"))
    patient_user = make_user("patient")
    patient = make_patient(user=patient_user)
    doctor = doctor or make_doctor()
    appointments = [
        make_appointment(make_slot(doctor, first + timedelta(hours=n)), patient, price=price)
        for n, price in enumerate(prices or (8000,))
    ]
    return World(staff, patient, actor_for(patient_user), doctor, appointments)


@writes
def cancel(actor: Actor, appointment_id: int, *, by_clinic: bool = False) -> int:
    """What ``booking.cancel`` does with money: cancel the appointment row, then refund by policy."""
    Appointment.update(status="cancelled", updated_at=clock.now()).where(Appointment.id == appointment_id).execute()
    return payments.refund_on_cancel(actor, Appointment.get_by_id(appointment_id), by_clinic=by_clinic)


def balance(patient_id: int) -> int:
    return Wallet.select(Wallet.balance).where(Wallet.patient == patient_id).scalar() or 0


def ledger_sum(patient_id: int) -> int:
    """The signed sum of the wallet's ledger (debits negative), computed by the database."""
    signed = fn.SUM(Case(None, [(LedgerEntry.kind.in_(LEDGER_DEBITS), 0 - LedgerEntry.amount)], LedgerEntry.amount))
    total = (
        LedgerEntry.select(signed)
        .join(Wallet, on=(LedgerEntry.wallet == Wallet.id))
        .where(Wallet.patient == patient_id)
        .scalar()
    )
    return int(total or 0)


def set_booking(**changes) -> None:
    """Run with other ``[booking]`` settings (the ``db`` fixture restores the defaults per test)."""
    current = config.current()
    config.use(replace(current, booking=replace(current.booking, **changes)))


def wipe() -> None:
    """Delete every row (children before parents): per-example cleanup for the property tests."""
    for model in reversed(ALL_MODELS):
        model.delete().execute()


# -- workers for the multi-process tests (run in spawned children) ---------------


def _open(url: str) -> None:
    from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
    from clinic_desk.store.db import open_database

    config.use(Settings(database=DatabaseSettings(url=url), clinic=ClinicSettings(timezone="Europe/Berlin")))
    open_database(url, busy_timeout_ms=60_000)


def withdraw_worker(url: str, actor: Actor, patient_id: int, amount: int, times: int, barrier, results) -> None:
    """Try ``times`` withdrawals; report ("ok", entry id) or ("refused", message) for each."""
    from clinic_desk.errors import ClinicError
    from clinic_desk.services import wallet

    _open(url)
    outcomes = []
    barrier.wait()
    for _ in range(times):
        try:
            outcomes.append(("ok", wallet.withdraw(actor, patient_id, amount).id))
        except ClinicError as exc:
            outcomes.append(("refused", exc.message))
    results.put(outcomes)


def pay_worker(url: str, actor: Actor, appointment_id: int, key: str | None, barrier, results) -> None:
    """Pay the appointment from the wallet once; report ("ok", payment id) or ("refused", message)."""
    from clinic_desk.errors import ClinicError

    _open(url)
    barrier.wait()
    try:
        results.put(("ok", payments.pay(actor, appointment_id, method="wallet", idempotency_key=key).id))
    except ClinicError as exc:
        results.put(("refused", exc.message))
