"""`db backup` while desks are booking and paying: the file is one consistent moment, and restored
into an empty database every invariant holds."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peewee import chunked

from clinic_desk.services import wallet
from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import open_database
from clinic_desk.store.models import LEDGER_DEBITS, AuditEvent, LedgerEntry, Outbox
from tests.backup_load_workers import desk
from tests.factories import actor_for, make_doctor, make_patient, make_slot, make_user, make_wallet
from tests.fault_support import CEILING_S, bind_fresh, release_proxy, wait_for
from tests.race_workers import SPAWN

DESKS = 3
HISTORY = 2000  # rows of earlier work in each of ledger, mail and audit
FIRST_VISIT = datetime(2027, 4, 5, 7, 0, tzinfo=UTC)  # Monday 09:00 in Berlin, a month after "now"
_DEBITS = ", ".join(f"'{kind}'" for kind in LEDGER_DEBITS)

# Each query lists what breaks one invariant; a consistent database answers every one with nothing.
INVARIANTS = {
    "a slot with two active appointments": """
        SELECT slot_id FROM appointment WHERE status <> 'cancelled' GROUP BY slot_id HAVING COUNT(*) > 1""",
    "an appointment without its slot, or with another doctor or time than its slot": """
        SELECT a.id FROM appointment a LEFT JOIN time_slot s ON s.id = a.slot_id
        WHERE s.id IS NULL OR s.doctor_id <> a.doctor_id OR s.starts_at <> a.starts_at""",
    "a wallet whose balance is not the signed sum of its ledger, or is negative": f"""
        SELECT w.id FROM wallet w LEFT JOIN (
            SELECT wallet_id, SUM(CASE WHEN kind IN ({_DEBITS}) THEN -amount ELSE amount END) AS total
            FROM ledger_entry GROUP BY wallet_id) l ON l.wallet_id = w.id
        WHERE w.balance <> COALESCE(l.total, 0) OR w.balance < 0""",
    "a wallet whose last ledger row shows another balance": """
        SELECT w.id FROM wallet w JOIN ledger_entry e
            ON e.id = (SELECT MAX(id) FROM ledger_entry WHERE wallet_id = w.id)
        WHERE e.balance_after <> w.balance""",
    "a wallet payment without exactly one matching ledger row": """
        SELECT p.id FROM payment p WHERE p.method = 'wallet' AND p.status = 'succeeded' AND (
            SELECT COUNT(*) FROM ledger_entry e
            WHERE e.kind = 'payment' AND e.appointment_id = p.appointment_id AND e.amount = p.amount) <> 1""",
    "a payment ledger row without its payment": """
        SELECT e.id FROM ledger_entry e WHERE e.kind = 'payment' AND NOT EXISTS (
            SELECT 1 FROM payment p WHERE p.appointment_id = e.appointment_id AND p.method = 'wallet'
            AND p.status = 'succeeded' AND p.amount = e.amount)""",
    "a payment whose refunded amount is not the sum of its refund rows": """
        SELECT p.id FROM payment p WHERE p.status = 'succeeded' AND p.refunded_amount <> COALESCE((
            SELECT SUM(e.amount) FROM ledger_entry e
            WHERE e.kind = 'refund' AND e.appointment_id = p.appointment_id), 0)""",
    "a paid appointment still pending": """
        SELECT a.id FROM appointment a JOIN payment p ON p.appointment_id = a.id AND p.status = 'succeeded'
        WHERE a.status = 'pending'""",
    "an appointment without its audit event or its mail": """
        SELECT a.id FROM appointment a
        WHERE NOT EXISTS (SELECT 1 FROM audit_event v WHERE v.action = 'appointment.book' AND v.entity_id = a.id)
           OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id
                          AND o.kind IN ('appointment_booked', 'appointment_confirmed'))""",
    "a payment without its audit event": """
        SELECT p.id FROM payment p WHERE p.status = 'succeeded' AND NOT EXISTS (
            SELECT 1 FROM audit_event v WHERE v.action = 'payment.take' AND v.entity_id = p.id)""",
}


def _violations() -> dict[str, list]:
    found = {name: [row[0] for row in proxy.execute_sql(sql).fetchall()] for name, sql in INVARIANTS.items()}
    return {name: ids[:5] for name, ids in found.items() if ids}


def _last_audit_id() -> int:
    return AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1).scalar() or 0


def _rows_in(backup: Path) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    with gzip.open(backup, "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            item = json.loads(line)
            tables.setdefault(item["t"], []).append(item["r"])
    return tables


def _history(now: datetime) -> None:
    """Months of earlier work in the tables a booking or payment writes last (ledger, mail, audit),
    so that a backup spends most of its time reading them while the desks commit."""
    account = make_wallet(make_patient("Long-standing patient"), balance=HISTORY)
    ledger = [
        {"wallet": account.id, "kind": "deposit", "amount": 1, "balance_after": n + 1, "at": now}
        for n in range(HISTORY)
    ]
    mail = [
        {"to_addr": f"old{n}@example.test", "subject": "Earlier mail", "text_body": "sent long ago",
         "kind": "one_time_code", "status": "sent", "next_attempt_at": now, "created_at": now, "sent_at": now}
        for n in range(HISTORY)
    ]
    events = [{"action": "user.login", "entity": "user", "details": "{}", "at": now} for _ in range(HISTORY)]
    for model, rows in ((LedgerEntry, ledger), (Outbox, mail), (AuditEvent, events)):
        for chunk in chunked(rows, 500):
            model.insert_many(chunk).execute()


def _clinic(frozen_now: datetime):
    """Doctors with slots to fight over, a history that makes the backup take a while, patients
    with money in their wallets; returns (reception actor, patient ids, slot ids)."""
    staff = actor_for(make_user("reception", "desk"))
    slot_ids = []
    for fee in (8000, 4550):
        doctor = make_doctor(fee=fee)
        slot_ids += [make_slot(doctor, FIRST_VISIT + timedelta(minutes=30 * n)).id for n in range(24)]
    _history(frozen_now)
    patient_ids = [make_patient().id for _ in range(6)]
    for patient_id in patient_ids:
        wallet.deposit(staff, patient_id, 20000)
    return staff, patient_ids, slot_ids


def test_a_backup_taken_while_desks_book_and_pay_restores_with_every_invariant(
    cli, db, frozen_clock, scratch_database_url, tmp_path
):
    staff, patient_ids, slot_ids = _clinic(frozen_clock)
    started_at = _last_audit_id()
    stop, results = SPAWN.Event(), SPAWN.Queue()
    desks = [
        SPAWN.Process(target=desk, args=(db, frozen_clock, staff, patient_ids, slot_ids, seed, stop, results))
        for seed in range(DESKS)
    ]
    proxy.close()
    for process in desks:
        process.start()
    try:
        wait_for(lambda: _last_audit_id() > started_at + 20, "the desks to get going", interval=0.05)
        # Back up until one run overlapped the desks' commits (nearly always the first).
        for attempt in range(5):
            backup = tmp_path / f"clinic-{attempt}.gz"
            before = _last_audit_id()
            result = cli("db", "backup", str(backup))
            assert result.code == 0, result.err
            if _last_audit_id() > before:
                break
        assert _last_audit_id() > before, "the desks committed nothing while any backup ran"
        in_backup = _rows_in(backup)
        backed_up_to = max(row["id"] for row in in_backup["audit_event"])
        wait_for(lambda: _last_audit_id() > backed_up_to, "the desks to go on after the backup", interval=0.05)
    finally:
        stop.set()
        outcomes = [results.get(timeout=CEILING_S) for _ in desks]
        for process in desks:
            process.join(timeout=CEILING_S)
    assert [kind for kind, _ in outcomes] == ["done"] * DESKS, outcomes
    assert sum(counts.get("done", 0) for _, counts in outcomes) > 20

    bind_fresh(scratch_database_url)
    release_proxy()
    restored = cli("--database", scratch_database_url, "db", "restore", str(backup))
    assert restored.code == 0, restored.err
    assert restored.out.split()[1] == result.out.split()[2]  # "restored N rows" == "backed up N rows"
    open_database(scratch_database_url)
    try:
        assert _violations() == {}
        counts = {
            table: proxy.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("appointment", "payment", "ledger_entry", "audit_event")
        }
        assert counts == {table: len(in_backup.get(table, [])) for table in counts}
        assert counts["appointment"] > 0 and counts["payment"] > 0
    finally:
        release_proxy()
