"""Whatever goes wrong, the user sees one line and an exit code, never a traceback."""

from __future__ import annotations

import os
import stat

from clinic_desk import cli as cli_module


def test_unexpected_error_is_one_line_with_a_private_log_file(cli, monkeypatch, tmp_path):
    def broken(_path):
        raise ZeroDivisionError("the bug itself")

    monkeypatch.setattr("clinic_desk.services.schema.backup", broken)
    result = cli("db", "backup", str(tmp_path / "x.gz"))
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "unexpected error (ZeroDivisionError)" in result.err
    log = tmp_path / "log" / "clinic-desk.log"
    assert str(log) in result.err
    assert "Traceback" in log.read_text() and "the bug itself" in log.read_text()
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_unsupported_database_url_names_the_option(cli):
    result = cli("--database", "mysql://root@localhost/clinic", "db", "status")
    assert result.code == 2
    assert result.err.startswith("error: --database: database.url: unsupported URL")


def test_postgres_server_that_is_not_there_is_database_unavailable(cli):
    result = cli("--database", "postgresql://postgres@127.0.0.1:1/nowhere", "db", "status")
    assert result.code == 1
    assert result.err == "error: database unavailable\n"


def test_help_exits_zero(cli):
    result = cli("--help")
    assert result.code == 0 and "clinic-desk" in result.out


def test_run_never_raises_on_keyboard_interrupt(cli, monkeypatch):
    def interrupted(_path):
        raise KeyboardInterrupt

    monkeypatch.setattr("clinic_desk.services.schema.backup", interrupted)
    assert cli_module.run(["db", "backup", "/tmp/unused-by-test.gz"]) == 130
