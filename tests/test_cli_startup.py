"""A CLI start loads what its command needs: the root group builds only the command it runs, a
saved session is read from its file without touching the keyring, and a listing imports no mail,
calendar, password-hashing or (with --json) table library."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.core
import pytest
import typer
from keyring.backends import fail, null

from clinic_desk import config
from clinic_desk.commands import COMMANDS, build_app, load_commands, saved_session
from clinic_desk.services import accounts
from tests.booking_support import local
from tests.factories import actor_for, make_appointment, make_doctor, make_patient, make_slot, make_user

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("keyring", "icalendar", "argon2", "jinja2", "pydantic", "segno", "textual", "rich")
# Runs the CLI in a fresh interpreter, then reports which heavy modules that start imported.
CHILD = f"""
import json, sys
from clinic_desk.cli import run
code = run(sys.argv[1:])
print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_the_root_offers_every_command_the_modules_define(cli):
    defined = {}
    for name in COMMANDS:
        defined.update(load_commands(name))
    assert set(defined) == set(COMMANDS)
    assert set(typer.main.get_command(build_app()).commands) == set(COMMANDS)
    listed = cli("--help").out
    for name, command in defined.items():
        summary = command.get_short_help_str(limit=200).split()[0]
        assert re.search(rf"^  {name} +{re.escape(summary)}", listed, re.MULTILINE), name


def test_a_token_in_the_sessions_file_is_read_without_the_keyring(isolated_environment, monkeypatch):
    url = "sqlite:////srv/clinic.db"
    keyring.set_keyring(fail.Keyring())
    saved_session.save(url, "token-in-the-file")
    keyring.set_keyring(isolated_environment)
    monkeypatch.setattr(saved_session, "_keyring", lambda: pytest.fail("the keyring was consulted"))
    assert saved_session.load(url) == "token-in-the-file"


def test_the_keyring_backend_that_took_the_token_is_found_again_without_a_scan(isolated_environment, monkeypatch):
    saved_session._remember_backend(null.Keyring())
    remembered = config.user_config_dir() / saved_session.BACKEND_FILE
    assert remembered.read_text(encoding="utf-8").strip() == "keyring.backends.null.Keyring"
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # as in a new process
    monkeypatch.setattr(keyring, "get_keyring", lambda: pytest.fail("every installed backend was scanned"))
    assert isinstance(saved_session._keyring(), null.Keyring)

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    remembered.write_text("os.system\n", encoding="utf-8")  # only keyring's own backends are loaded by name
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert saved_session._keyring() is None


def test_a_backend_chosen_in_the_environment_wins_over_the_remembered_one(isolated_environment, monkeypatch):
    saved_session._remember_backend(null.Keyring())
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    assert saved_session._keyring() is None  # the fail backend: no keyring


def _listing(database_url: str, *args: str) -> tuple[dict, str]:
    doctor = make_doctor("drgrey")
    make_appointment(make_slot(doctor, local(2027, 3, 10, 9)), make_patient("Ann Lee"))
    token = accounts.start_session(actor_for(make_user("reception", "desk1")), remember=False)
    keyring.set_keyring(fail.Keyring())  # what `login` does where no keyring works: the 0600 file
    saved_session.save(database_url, token)
    env = {**os.environ, "CLINIC_DESK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "appointments", "list", "--doctor", "drgrey", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    *shown, report = done.stdout.splitlines()
    return json.loads(report), "\n".join(shown)


def test_a_json_listing_with_a_saved_session_imports_none_of_the_heavy_libraries(db):
    report, shown = _listing(db, "--json")
    assert report == {"code": 0, "loaded": []}
    assert [row["patient_name"] for row in json.loads(shown)] == ["Ann Lee"]


def test_a_table_listing_imports_only_the_table_library(db):
    report, shown = _listing(db)
    assert report == {"code": 0, "loaded": ["rich"]}
    assert "Ann Lee" in shown
