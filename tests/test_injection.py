"""Hostile text is data: SQL metacharacters never become SQL, Rich markup never becomes styling,
and no escape sequence from user data reaches the terminal.

Everything runs through the real CLI on the backend under test (SQLite, or PostgreSQL with
CLINIC_DESK_TEST_DATABASE_URL). For the terminal, the database is also poisoned directly (as rows
an older version, the TUI or another tool might have written): every listing and ``show`` must
still print those values shown, not obeyed, and ``--json`` must escape them (``\\u001b``) and give
them back exactly.
"""

from __future__ import annotations

import json

import pytest

from clinic_desk.store.models import (
    Appointment,
    AuditEvent,
    Doctor,
    LedgerEntry,
    Outbox,
    Patient,
    Review,
    User,
)
from tests.factories import login_env
from tests.hardening_support import ADMIN, CLINIC, DESK, DOCTOR, ESC, fingerprint, raw_controls, seed_clinic

SQL_NAMES = [
    "Conan O'Brien",
    "Percy 100% Sure",
    "Una Under_score",
    "Bart Back\\slash",
    'Quinn "Quote" Doe',
    "Semi Colon;--",
    "'; DROP TABLE patient;--",
    "x' OR '1'='1",
    "Wild %_% Card",
    "Plain Person",
]
SEARCHES = [*SQL_NAMES, "%", "_", "'", "\\", '"', ";--", "%%", "\\%", "' OR 1=1 --", "[a-z]*"]


@pytest.fixture
def clinic(db, frozen_clock):
    return seed_clinic()


def _run(cli, *args: str, user: str = ADMIN, **env: str):
    return cli(*args, env={**login_env(user), **env})


def _matching(search: str, names: list[str]) -> set[str]:
    return {name for name in names if search.casefold() in name.casefold()}


def test_sql_metacharacters_in_patient_names_and_searches_are_data(cli, clinic):
    created = {}
    for name in SQL_NAMES:
        result = _run(cli, "patient", "add", "--name", name, "--email", f"p{len(created)}@example.test", user=DESK)
        assert result.code == 0, result.err
        created[int(result.out)] = name
    for name in SQL_NAMES:
        shown = _run(cli, "patient", "show", str(next(i for i, n in created.items() if n == name)), "--json")
        assert shown.json()["full_name"] == name
    seeded = ["Ann Example", "Bob Other"]
    for search in SEARCHES:
        result = _run(cli, "patient", "list", "--search", search, "--json", user=DESK)
        assert result.code == 0, result.err
        found = {row["full_name"] for row in result.json()}
        assert found == _matching(search, SQL_NAMES + seeded), search
    everyone = _run(cli, "patient", "list", "--json", user=DESK).json()
    assert len(everyone) == len(SQL_NAMES) + 2  # no table dropped, no row lost


def test_sql_metacharacters_in_doctor_names_and_searches_are_data(cli, clinic):
    for n, name in enumerate(SQL_NAMES):
        result = _run(cli, "doctor", "add", f"dr{n}", "--name", name, "--email", f"dr{n}@example.test",
                      "--specialty", name, "--fee", "50")
        assert result.code == 0, result.err
    seeded = ["Dr. Meredith Grey", "Dr. Greg House"]
    for search in SEARCHES:
        result = _run(cli, "doctor", "list", "--search", search, "--json", user=DESK)
        assert result.code == 0, result.err
        assert {row["full_name"] for row in result.json()} == _matching(search, SQL_NAMES + seeded), search
    for name in SQL_NAMES:  # a specialty is matched whole, metacharacters and all
        result = _run(cli, "doctor", "list", "--specialty", name, "--json")
        assert [row["full_name"] for row in result.json()] == [name]
    for wildcard in ("%", "_", "' OR '1'='1"):
        refused = _run(cli, "doctor", "list", "--specialty", wildcard)
        assert (refused.code, refused.err) == (2, f"error: unknown specialty {wildcard!r}\n")


@pytest.mark.parametrize("text", ["%", "_", "' OR '1'='1", "drgrey' --", "'; DROP TABLE app_user;--", "\\"])
def test_names_that_look_things_up_match_whole_and_literally(cli, clinic, text):
    before = fingerprint()
    for args in (
        ("user", "show", text),
        ("doctor", "show", text),
        ("slots", "list", "--doctor", text),
        ("appointments", "list", "--doctor", text),
        ("review", "list", "--doctor", text),
        ("report", "revenue", "--doctor", text),
        ("export", "ics", "--doctor", text),
        ("user", "deactivate", text),
    ):
        result = _run(cli, *args)
        assert result.code == 2 and result.err.startswith("error: ") and result.err.count("\n") == 1, (args, result)
    for option in ("--actor", "--entity"):
        assert _run(cli, "audit", "list", option, text, "--json").json() == []
    login = cli("login", "--username", text, env={"CLINIC_DESK_PASSWORD": "' OR '1'='1"})
    assert (login.code, login.err) == (1, "error: invalid username or password\n")
    assert fingerprint() == before


# -- the terminal ----------------------------------------------------------------------------

MARKUP = "[bold red]x[/]"
LINK = "[link=https://evil.test]click me[/link]"


def test_rich_markup_in_names_is_shown_not_obeyed(cli, clinic):
    patient = _run(cli, "patient", "add", "--name", MARKUP, "--email", "markup@example.test", user=DESK)
    other = _run(cli, "patient", "add", "--name", LINK, "--email", "link@example.test", user=DESK)
    assert patient.code == other.code == 0
    booked = _run(cli, "book", "--patient", patient.out.strip(), "--slot", str(CLINIC.free_slot), "--reason", MARKUP)
    assert booked.code == 0, booked.err
    # Force colours: markup that Rich obeyed would turn into escape codes (bold red: ESC[1;31m).
    colour = {"FORCE_COLOR": "1", "COLUMNS": "250"}
    for args in (
        ("patient", "list"),
        ("patient", "show", patient.out.strip()),
        ("patient", "show", other.out.strip()),
        ("appointments", "list"),
        ("appointments", "show", booked.out.strip()),
        ("slots", "list", "--doctor", DOCTOR, "--date", "2027-03-10"),
    ):
        result = _run(cli, *args, **colour)
        assert result.code == 0, result.err
        assert MARKUP in result.out or LINK in result.out, args
        assert f"{ESC}[1;31m" not in result.out and "\x1b]8;" not in result.out, args  # no red, no hyperlink


POISON = "A\x1b]0;pwned\x07B\x1b[2JC\x9b31mD\x07E[bold red]x[/]"


def _poison_everything() -> None:
    """Write hostile text into every free-text column a command shows (as another tool might)."""
    User.update(full_name=POISON).where(User.username.in_([ADMIN, DOCTOR])).execute()
    Patient.update(full_name=POISON, email=f"{POISON}@example.test", phone=POISON).where(
        Patient.id == CLINIC.patient
    ).execute()
    Doctor.update(room=POISON, bio=POISON).where(Doctor.id == CLINIC.doctor).execute()
    Appointment.update(reason=POISON, notes=POISON).where(Appointment.patient == CLINIC.patient).execute()
    Appointment.update(cancel_reason=POISON, status="cancelled").where(
        Appointment.id == CLINIC.started_appointment
    ).execute()
    Review.update(comment=POISON, doctor_response=POISON, reject_reason=POISON).execute()
    LedgerEntry.update(note=POISON).execute()
    Outbox.update(subject=POISON, last_error=POISON, to_addr=POISON).execute()
    AuditEvent.update(details=json.dumps({"reason": POISON})).execute()


SHOWING_COMMANDS = [
    ("patient", "list"),
    ("patient", "show", "1"),
    ("doctor", "list"),
    ("doctor", "show", DOCTOR),
    ("appointments", "list"),
    ("appointments", "show", "1"),
    ("appointments", "show", "3"),
    ("slots", "list", "--doctor", DOCTOR, "--from", "2027-02-01", "--to", "2027-03-31"),
    ("review", "list"),
    ("review", "show", "1"),
    ("review", "show", "2"),
    ("wallet", "show", "1"),
    ("wallet", "history", "1"),
    ("mail", "log"),
    ("audit", "list"),
    ("user", "list"),
    ("user", "show", ADMIN),
    ("report", "revenue"),
    ("whoami",),
]


@pytest.mark.parametrize("args", SHOWING_COMMANDS, ids=" ".join)
def test_escape_sequences_in_stored_text_never_reach_the_terminal(cli, clinic, args):
    _poison_everything()
    result = _run(cli, *args, COLUMNS="300")
    assert result.code == 0, result.err
    assert not raw_controls(result.out + result.err), result.out
    shown = ("\\x1b]0;pwned\\x07", "\\u001b]0;pwned\\u0007")  # audit details are shown as JSON
    assert any(text in result.out for text in shown) or args in {("whoami",), ("report", "revenue")}


@pytest.mark.parametrize("args", [a for a in SHOWING_COMMANDS if a != ("whoami",)], ids=" ".join)
def test_json_output_escapes_them_and_gives_them_back(cli, clinic, args):
    _poison_everything()
    result = _run(cli, *args, "--json")
    assert result.code == 0, result.err
    assert not raw_controls(result.out)
    if args != ("report", "revenue"):  # revenue names only drhouse, who was not poisoned
        assert "\\u001b" in result.out
        assert any(POISON in text for text in _strings(json.loads(result.out)))  # the value comes back exactly


def _strings(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    return [text for item in data for text in _strings(item)] if isinstance(data, list) else []


@pytest.mark.parametrize(
    "args",
    [("wallet", "history", "1", "--csv"), ("export", "ics", "--patient", "1"), ("export", "ics", "--doctor", DOCTOR)],
    ids=" ".join,
)
def test_raw_formats_on_stdout_carry_no_control_characters(cli, clinic, args):
    _poison_everything()
    result = _run(cli, *args)
    assert result.code == 0, result.err
    assert not raw_controls(result.out), result.out
    assert "pwned" in result.out  # the text itself is kept, only the controls are gone or shown


def test_an_error_that_names_stored_text_prints_it_shown(cli, clinic):
    _poison_everything()
    Doctor.update(is_active=False).where(Doctor.id == CLINIC.doctor).execute()
    result = _run(cli, "book", "--patient", "2", "--slot", str(CLINIC.free_slot), user=DESK)
    assert result.code == 1
    assert result.err.startswith("error: A\\x1b]0;pwned\\x07B") and result.err.count("\n") == 1
    assert not raw_controls(result.err)


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "add", "--name", "\x1b]0;pwned\x07", "--email", "x@example.test"),
        ("patient", "add", "--name", "Zed", "--email", "z\x1b[2J@example.test"),
        ("patient", "edit", "1", "--name", "C1 \x9b2J"),
        ("book", "--patient", "2", "--slot", "2", "--reason", "\x1b[2J"),
        ("appointments", "cancel", "1", "--reason", "\x1b[2J"),
        ("wallet", "deposit", "1", "10", "--note", "\x1b[2J"),
        ("doctor", "edit", DOCTOR, "--room", "\x9b2J"),
        ("doctor", "edit", DOCTOR, "--bio", "line one\n\x1b]0;pwned\x07"),
        ("doctor", "add", "drx", "--name", "X", "--email", "x@example.test", "--specialty", "\x1b[31m", "--fee", "5"),
    ],
    ids=lambda args: " ".join(a for a in args[:2]),
)
def test_control_characters_typed_into_text_fields_are_refused(cli, clinic, args):
    before = fingerprint()
    result = _run(cli, *args, user=ADMIN)
    assert result.code == 2, result.err
    assert "control characters" in result.err or "not an e-mail address" in result.err
    assert not raw_controls(result.err)
    assert fingerprint() == before


def test_a_review_comment_keeps_its_words_and_loses_its_escapes(cli, clinic):
    Appointment.update(status="completed").where(Appointment.id == CLINIC.pending_appointment).execute()
    result = _run(cli, "review", "add", "1", "--rating", "5", "--comment", "\x1b]0;pwned\x07Great \x1b[2Jdoctor",
                  user="ann")
    assert result.code == 0, result.err
    comment = _run(cli, "review", "show", result.out.strip(), "--json").json()["comment"]
    assert comment == "Great doctor"


def test_a_table_title_is_literal_too(cli, clinic):
    result = _run(cli, "report", "revenue", CLINIC_DESK_CLINIC_CURRENCY="[r]", FORCE_COLOR="1", COLUMNS="200")
    assert result.code == 0, result.err
    assert "Revenue ([r])" in result.out and f"{ESC}[7m" not in result.out  # not reverse video
