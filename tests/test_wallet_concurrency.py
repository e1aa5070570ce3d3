"""Several processes, one wallet: the database decides, nothing is lost, nothing goes below zero.

Each child is a spawned process with its own connection to the test database (SQLite file or
PostgreSQL); a barrier starts them together.
"""

from __future__ import annotations

import multiprocessing

import pytest

from clinic_desk.services import wallet
from clinic_desk.store.models import LedgerEntry, Payment
from tests.wallet_support import balance, ledger_sum, make_world, pay_worker, withdraw_worker

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("frozen_clock")]

PROCESSES = 4


def _run_children(target, args_for_child) -> list:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    children = [ctx.Process(target=target, args=(*args_for_child(n), barrier, results)) for n in range(PROCESSES)]
    for child in children:
        child.start()
    collected = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    return collected


def test_concurrent_withdrawals_never_take_more_than_was_there_and_lose_nothing(db):
    world = make_world()
    start, amount, tries = 10000, 300, 10  # 4 x 10 x 3.00 asked of 100.00
    wallet.deposit(world.staff, world.patient.id, start)

    per_child = _run_children(withdraw_worker, lambda n: (db, world.staff, world.patient.id, amount, tries))
    outcomes = [outcome for child in per_child for outcome in child]

    taken = [value for status, value in outcomes if status == "ok"]
    refused = [value for status, value in outcomes if status == "refused"]
    assert len(outcomes) == PROCESSES * tries
    assert len(taken) * amount <= start
    assert len(taken) == start // amount  # every debit that fitted went through: none lost to a race
    assert refused and set(refused) == {"insufficient funds"}
    assert balance(world.patient.id) == start - len(taken) * amount == ledger_sum(world.patient.id)
    withdrawals = LedgerEntry.select().where(LedgerEntry.kind == "withdrawal").order_by(LedgerEntry.id)
    assert sorted(taken) == [entry.id for entry in withdrawals]
    # the running balance in id order steps down by exactly one debit each time
    afters = [entry.balance_after for entry in withdrawals]
    assert afters == [start - amount * (n + 1) for n in range(len(afters))]


def test_concurrent_retries_with_one_idempotency_key_charge_once(db):
    world = make_world(8000)
    wallet.deposit(world.staff, world.patient.id, 20000)
    appointment_id = world.appointments[0].id

    outcomes = _run_children(pay_worker, lambda n: (db, world.staff, appointment_id, "desk-7:retry"))

    assert {status for status, _ in outcomes} == {"ok"}
    assert len({payment_id for _, payment_id in outcomes}) == 1
    assert Payment.select().count() == 1
    assert balance(world.patient.id) == 12000 == ledger_sum(world.patient.id)


def test_concurrent_payments_of_one_appointment_without_a_key_succeed_once(db):
    world = make_world(8000)
    wallet.deposit(world.staff, world.patient.id, 40000)
    appointment_id = world.appointments[0].id

    outcomes = _run_children(pay_worker, lambda n: (db, world.staff, appointment_id, None))

    assert sorted(status for status, _ in outcomes) == ["ok"] + ["refused"] * (PROCESSES - 1)
    assert {message for status, message in outcomes if status == "refused"} == {
        f"appointment {appointment_id} is already paid"
    }
    assert balance(world.patient.id) == 32000 == ledger_sum(world.patient.id)
