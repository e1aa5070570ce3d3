"""`clinic-desk db ...` as a user runs it: upgrade twice, status, backup and restore, clear errors."""

from __future__ import annotations

import subprocess
import sys

from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import open_database
from clinic_desk.store.models import ALL_MODELS
from tests.factories import make_appointment, make_doctor, make_patient, make_slot, make_wallet


def clinic_desk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "clinic_desk", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_upgrade_twice_then_status_up_to_date(scratch_database_url):
    first = clinic_desk("--database", scratch_database_url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    second = clinic_desk("--database", scratch_database_url, "db", "upgrade")
    assert second.returncode == 0 and "applied" not in second.stdout
    status = clinic_desk("--database", scratch_database_url, "db", "status")
    assert status.returncode == 0
    assert "up to date" in status.stdout


def test_status_before_upgrade_lists_pending_steps(scratch_database_url):
    status = clinic_desk("--database", scratch_database_url, "db", "status")
    assert status.returncode == 0
    assert "pending 0001_initial" in status.stdout


def _snapshot() -> dict[str, list[tuple]]:
    rows = {}
    for model in ALL_MODELS:
        fields = model._meta.sorted_fields
        rows[model._meta.table_name] = sorted(
            tuple(str(v) for v in row) for row in model.select(*fields).tuples()
        )
    return rows


def test_backup_then_restore_into_an_empty_database_gives_the_same_rows(cli, db, scratch_database_url, tmp_path):
    doctor = make_doctor(full_name="Dr. Ümlaut 'quoted'")
    patient = make_patient("Zoë [bold]x[/]")
    from datetime import UTC, datetime

    make_appointment(make_slot(doctor, datetime(2027, 6, 1, 8, 0, tzinfo=UTC)), patient, status="confirmed")
    make_wallet(patient, balance=1234)
    before = _snapshot()
    backup_file = tmp_path / "clinic.backup.gz"

    result = cli("db", "backup", str(backup_file))
    assert result.code == 0, result.err
    assert backup_file.stat().st_size > 0

    assert clinic_desk("--database", scratch_database_url, "db", "upgrade").returncode == 0
    restored = clinic_desk("--database", scratch_database_url, "db", "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr

    open_database(scratch_database_url)
    try:
        assert _snapshot() == before
    finally:
        proxy.close()
        open_database(db)


def test_restore_refuses_a_database_that_has_data(cli, db, tmp_path):
    make_patient()
    backup_file = tmp_path / "b.gz"
    assert cli("db", "backup", str(backup_file)).code == 0
    result = cli("db", "restore", str(backup_file))
    assert result.code == 1
    assert "not empty" in result.err


def test_restore_of_a_file_that_is_not_a_backup_is_one_line(cli, tmp_path):
    junk = tmp_path / "junk.gz"
    junk.write_text("hello")
    result = cli("db", "restore", str(junk))
    assert result.code == 2  # the wrong file: bad input
    assert result.err.count("\n") == 1 and "not a clinic-desk backup" in result.err


def test_a_database_url_naming_a_file_that_is_not_sqlite_is_one_line_exit_2(cli, tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database" * 100)
    result = cli("--database", f"sqlite:///{junk}", "db", "status")
    assert (result.code, result.err.count("\n")) == (2, 1) and "is not an SQLite database" in result.err


def test_a_group_without_its_command_is_one_line(cli):
    result = cli("slots")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "missing command: generate, import, list" in result.err and "clinic-desk slots --help" in result.err


def test_backup_refuses_to_overwrite(cli, tmp_path):
    existing = tmp_path / "exists.gz"
    existing.write_text("keep me")
    result = cli("db", "backup", str(existing))
    assert result.code == 2 and "exists" in result.err
    assert existing.read_text() == "keep me"


def test_unknown_command_and_missing_argument_are_one_line_exit_2(cli):
    for args in (("db", "frob"), ("db", "backup")):
        result = cli(*args)
        assert result.code == 2
        assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_commands_on_a_database_without_schema_say_what_to_do(scratch_database_url, tmp_path):
    target = tmp_path / "never-written.gz"
    result = clinic_desk("--database", scratch_database_url, "db", "backup", str(target))
    assert result.returncode == 1
    assert "db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists() and not list(tmp_path.glob("*.partial"))
