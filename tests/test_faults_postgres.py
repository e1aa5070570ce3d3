"""PostgreSQL going away: a connection killed between calls is replaced without the user noticing;
one killed in the middle of a write fails with one line, "database unavailable", and leaves nothing
of that write behind; a server that is down is one line too, and the next call after it is back works.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinic_desk.errors import DatabaseBusy, DatabaseUnavailable
from clinic_desk.services import wallet
from clinic_desk.store.db import db as proxy
from clinic_desk.services.tx import writes
from clinic_desk.store.models import AuditEvent, LedgerEntry, Patient, Wallet
from tests.conftest import PG_URL
from tests.factories import actor_for, login_env, make_patient, make_user, make_wallet
from tests.fault_support import (
    bind_fresh,
    cli_env,
    desk_user,
    finish,
    pg_admin,
    pg_rows,
    pg_terminate,
    pg_writer_of,
    release_proxy,
    run_cli,
    start_cli,
    wait_for,
)
from tests.pg_cluster import ClusterUnavailable, ScratchCluster

UNAVAILABLE = "error: database unavailable\n"
postgres_pass_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL connection faults: run in the PostgreSQL pass")


def _own_backend() -> int:
    return proxy.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


@postgres_pass_only
def test_a_connection_killed_between_calls_is_replaced_and_the_next_calls_work(db, frozen_clock):
    staff = actor_for(make_user("reception"))
    patient = make_patient()
    wallet.deposit(staff, patient.id, 1000)
    admin = pg_admin(db)
    try:
        pg_terminate(admin, _own_backend())
        assert wallet.deposit(staff, patient.id, 500).balance_after == 1500  # a write, on a new connection
        pg_terminate(admin, _own_backend())
        assert wallet.show(staff, patient.id).balance == 1500  # a read, on a new connection
    finally:
        admin.close()
    assert [e.amount for e in LedgerEntry.select().order_by(LedgerEntry.id)] == [1000, 500]


def _waiting_on_a_lock(admin, process) -> int | None:
    if process.poll() is not None:
        raise AssertionError(f"the command ended before it waited: {process.communicate()}")
    rows = pg_rows(
        admin,
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'clinic-desk'"
        " AND wait_event_type = 'Lock' AND datname = current_database()",
    )
    return rows[0][0] if rows else None


@postgres_pass_only
def test_a_connection_killed_in_the_middle_of_a_write_is_one_line_and_nothing_is_written(db):
    desk_user("reception", "desk")
    patient = make_patient()
    make_wallet(patient, balance=1000)
    admin, blocker = pg_admin(db), pg_admin(db)
    blocker.autocommit = False
    try:
        with blocker.cursor() as cur:  # the deposit's last step, its audit row, waits behind this
            cur.execute("LOCK TABLE audit_event IN EXCLUSIVE MODE")
        deposit = start_cli("wallet", "deposit", str(patient.id), "25.00", env=cli_env(db, **login_env("desk")))
        pid = wait_for(lambda: _waiting_on_a_lock(admin, deposit), "the deposit to wait for the audit lock")
        assert pg_writer_of(admin, "ledger_entry") == pid  # it has written its ledger row, uncommitted
        pg_terminate(admin, pid)
        blocker.rollback()  # a retry of the half-done write would now go through: there must be none
        code, out, err = finish(deposit)
    finally:
        admin.close()
        blocker.close()
    assert (code, out, err) == (1, "", UNAVAILABLE)
    assert Wallet.get(Wallet.patient == patient.id).balance == 1000
    assert LedgerEntry.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "wallet.deposit").count() == 0


@writes
def _deposit_then_update_a_row_another_desk_changed(staff, patient_id: int, admin) -> None:
    """A write whose snapshot is older than another desk's commit to the same row."""
    proxy.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    wallet.deposit(staff, patient_id, 500)  # joins this transaction: written, not committed
    with admin.cursor() as cur:  # another desk, committed at once
        cur.execute("UPDATE patient SET phone = '+49 30 1' WHERE id = %s", (patient_id,))
    Patient.update(phone="+49 30 2").where(Patient.id == patient_id).execute()


@postgres_pass_only
def test_a_transaction_the_server_rolls_back_for_a_concurrent_update_is_database_busy_and_writes_nothing(
    db, frozen_clock
):
    staff = actor_for(make_user("reception"))
    patient = make_patient()
    admin = pg_admin(db)
    try:
        with pytest.raises(DatabaseBusy):  # the server rolled it back: try again, not "unavailable"
            _deposit_then_update_a_row_another_desk_changed(staff, patient.id, admin)
    finally:
        admin.close()
    assert LedgerEntry.select().count() == 0
    assert Patient.get_by_id(patient.id).phone == "+49 30 1"


# -- a server that stops and starts (a scratch cluster of our own) -----------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[ScratchCluster]:
    try:
        server = ScratchCluster.create()
    except ClusterUnavailable as exc:
        pytest.skip(f"no scratch PostgreSQL server: {exc}")
    yield server
    server.close()


def test_postgres_restarted_or_down_between_calls(cluster, frozen_clock):
    url = cluster.create_database("clinic")
    try:
        bind_fresh(url)
        staff = actor_for(desk_user("reception", "desk"))
        patient = make_patient()
        deposit = ("wallet", "deposit", str(patient.id), "10.00")
        env = cli_env(url, **login_env("desk"))

        wallet.deposit(staff, patient.id, 1000)
        cluster.restart()
        # In-process, as a TUI desk works: the restart cost the connection, the next call makes a new one.
        assert wallet.deposit(staff, patient.id, 1000).balance_after == 2000

        cluster.stop()
        down = run_cli(*deposit, env=env)
        assert (down.returncode, down.stdout, down.stderr) == (1, "", UNAVAILABLE)
        with pytest.raises(DatabaseUnavailable):
            wallet.show(staff, patient.id)

        cluster.start()
        up = run_cli(*deposit, env=env)
        assert up.returncode == 0, up.stderr
        assert wallet.show(staff, patient.id).balance == 3000
    finally:
        release_proxy()
