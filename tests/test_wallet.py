"""The wallet: deposits and withdrawals by staff, a ledger that always sums to the balance."""

from __future__ import annotations

import json

import pytest

from clinic_desk.errors import BadInput, InsufficientFunds, NotFound, PermissionDenied
from clinic_desk.services import wallet
from clinic_desk.store.models import AuditEvent, LedgerEntry, Wallet
from tests.factories import actor_for, make_doctor, make_user
from tests.wallet_support import balance, ledger_sum, make_world, set_booking

pytestmark = pytest.mark.usefixtures("frozen_clock")


def test_deposit_creates_the_wallet_and_a_ledger_row(db, frozen_clock):
    world = make_world()
    assert Wallet.select().count() == 0

    entry = wallet.deposit(world.staff, world.patient.id, 5050, note="cash")

    assert entry.kind == "deposit" and entry.amount == 5050 and entry.balance_after == 5050
    assert entry.at == frozen_clock and entry.note == "cash"
    assert balance(world.patient.id) == 5050
    event = AuditEvent.get(AuditEvent.action == "wallet.deposit")
    assert json.loads(event.details)["amount"] == 5050 and event.actor_name == world.staff.username


def test_withdrawal_takes_money_out_and_is_a_negative_ledger_amount(db):
    world = make_world()
    wallet.deposit(world.staff, world.patient.id, 10000)

    entry = wallet.withdraw(world.staff, world.patient.id, 2550)

    assert entry.amount == -2550 and entry.balance_after == 7450
    assert balance(world.patient.id) == 7450 == ledger_sum(world.patient.id)
    assert [e.amount for e in wallet.history(world.staff, world.patient.id)] == [10000, -2550]


def test_withdrawing_more_than_the_balance_is_insufficient_funds_and_changes_nothing(db):
    world = make_world()
    wallet.deposit(world.staff, world.patient.id, 1000)

    with pytest.raises(InsufficientFunds, match="insufficient funds"):
        wallet.withdraw(world.staff, world.patient.id, 1001)

    assert balance(world.patient.id) == 1000
    assert LedgerEntry.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "wallet.withdraw").count() == 0


def test_withdrawing_everything_leaves_zero(db):
    world = make_world()
    wallet.deposit(world.staff, world.patient.id, 1000)
    assert wallet.withdraw(world.staff, world.patient.id, 1000).balance_after == 0


def test_a_patient_without_a_wallet_has_nothing_to_withdraw_and_reading_creates_nothing(db):
    world = make_world()
    with pytest.raises(InsufficientFunds):
        wallet.withdraw(world.staff, world.patient.id, 1)
    assert wallet.show(world.staff, world.patient.id).balance == 0
    assert wallet.history(world.staff, world.patient.id) == []
    assert Wallet.select().count() == 0


def test_only_reception_and_admin_move_money(db):
    world = make_world()
    doctor_actor = actor_for(make_doctor().user)
    admin = actor_for(make_user("admin"))
    for actor in (world.patient_actor, doctor_actor):
        with pytest.raises(PermissionDenied):
            wallet.deposit(actor, world.patient.id, 100)
        with pytest.raises(PermissionDenied):
            wallet.withdraw(actor, world.patient.id, 100)
    wallet.deposit(admin, world.patient.id, 100)
    assert balance(world.patient.id) == 100


def test_a_patient_reads_their_own_wallet_and_no_one_else_s(db):
    world = make_world()
    other = make_world()
    wallet.deposit(world.staff, world.patient.id, 700)
    assert wallet.show(world.patient_actor, world.patient.id).balance == 700
    assert len(wallet.history(world.patient_actor, world.patient.id)) == 1
    with pytest.raises(PermissionDenied):
        wallet.show(world.patient_actor, other.patient.id)
    with pytest.raises(PermissionDenied):
        wallet.history(actor_for(make_doctor().user), world.patient.id)


def test_unknown_patient_is_not_found(db):
    staff = actor_for(make_user("reception"))
    with pytest.raises(NotFound, match="unknown patient 999"):
        wallet.deposit(staff, 999, 100)


def test_services_refuse_zero_and_amounts_over_the_configured_maximum(db):
    world = make_world()
    set_booking(max_amount="50.00")
    with pytest.raises(BadInput, match="more than zero"):
        wallet.deposit(world.staff, world.patient.id, 0)
    with pytest.raises(BadInput, match="over the maximum of 50.00"):
        wallet.deposit(world.staff, world.patient.id, 5001)
    assert wallet.deposit(world.staff, world.patient.id, 5000).balance_after == 5000


def test_the_database_refuses_a_negative_balance_even_past_the_service(db):
    """The CHECK constraint is the last line of defence behind the conditional UPDATE."""
    from peewee import IntegrityError

    world = make_world()
    wallet.deposit(world.staff, world.patient.id, 100)
    with pytest.raises(IntegrityError):
        Wallet.update(balance=Wallet.balance - 101).where(Wallet.patient == world.patient.id).execute()
