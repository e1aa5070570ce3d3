"""Secrets stay secret: no password, session token, one-time code, TOTP secret, card number or
database password in any output, error message, audit detail, the mail log, the log file, or any
database column but the one that must hold it (the code's own mail; the TOTP secret's column).
The log file is readable by its owner only, and a config file that holds a password and is
readable by others draws a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat

import pytest

from clinic_desk.services import accounts, cards
from clinic_desk.store.models import ALL_MODELS, AuditEvent, OneTimeCode, Outbox, Session, User
from tests.factories import login_env
from tests.hardening_support import ADMIN, DESK, seed_clinic

PASSWORD = "Zebra-Quartz-Sunset-917"
NEW_PASSWORD = "Violet-Harbor-Lantern-352"
WRONG_PASSWORD = "Wrong-Zebra-Quartz-000"
DB_PASSWORD = "pg-Secret-4711"
SMTP_PASSWORD = "smtp-Secret-0815"
GOOD_CARD, DECLINED_CARD, BAD_CARD = "4242 4242 4242 4242", "4000000000000002", "4242424242424241"
# A card number must not appear whole, nor with its last four cut off.
CARD_FRAGMENTS = ("424242424242", "4242 4242 4242", "400000000000")

# Columns whose job is to hold a secret, or its hash: everything else is searched.
HOLDERS = {
    (User, "password_hash"),
    (User, "totp_secret"),
    (Session, "token_hash"),
    (OneTimeCode, "code_hash"),
    (Outbox, "text_body"),  # the one-time code's own mail carries the code
    (Outbox, "html_body"),
}


@pytest.fixture
def fresh_log():
    """The log handler bound to this test's log dir (and nothing left behind for the next test)."""
    logger = logging.getLogger("clinic_desk")
    yield
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def _database_text() -> str:
    """Every stored value but those of HOLDERS, as one text."""
    chunks = []
    for model in ALL_MODELS:
        fields = [f for f in model._meta.sorted_fields if (model, f.column_name) not in HOLDERS]
        chunks.extend(repr(row) for row in model.select(*fields).tuples())
    return "\n".join(chunks)


def _code_from_mail() -> str:
    body = Outbox.select(Outbox.text_body).where(Outbox.kind == "one_time_code").order_by(Outbox.id.desc()).scalar()
    return re.search(r"is (\d{6})\.", body).group(1)


def _contains(text: str, secret: str) -> bool:
    if secret.isdigit() and len(secret) == 6:  # a code: a whole six-digit number, not part of a longer one
        return re.search(rf"(?<!\d){secret}(?!\d)", text) is not None
    return secret in text


def test_no_secret_leaks_through_a_day_of_work(cli, db, frozen_clock, isolated_environment, tmp_path, fresh_log):
    seed_clinic()
    said: list[tuple[str, str]] = []  # (what ran, what it printed)

    def run(*args, env=None, input=None, keep_stdout=True):
        result = cli(*args, env=login_env(ADMIN) if env is None else env, input=input)
        said.append((" ".join(args), (result.out if keep_stdout else "") + result.err))
        return result

    assert run("user", "add", "nina", "--role", "reception", "--email", "nina@example.test", "--name", "Nina",
               "--password-stdin", input=PASSWORD + "\n").code == 0
    weak = run("user", "add", "olga", "--role", "reception", "--email", "olga@example.test", "--name", "Olga",
               "--password-stdin", input="Short-1\n")
    assert weak.code == 2 and "Short-1" not in weak.err
    assert run("login", "--username", "nina", env={"CLINIC_DESK_PASSWORD": WRONG_PASSWORD}).code == 1
    assert run("login", "--username", "nina", env={"CLINIC_DESK_PASSWORD": PASSWORD}).code == 0
    [token] = isolated_environment.store.values()
    assert run("whoami", env={}).out == "nina (reception)\n"

    assert run("user", "reset-password", "nina").code == 0
    code = _code_from_mail()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = run("user", "reset-password", "nina", "--code", wrong, "--password-stdin", input=NEW_PASSWORD)
    assert (refused.code, refused.err) == (1, "error: wrong code\n")
    assert run("user", "reset-password", "nina", "--code", code, "--password-stdin", input=NEW_PASSWORD).code == 0
    assert run("login", "--username", "nina", env={"CLINIC_DESK_PASSWORD": NEW_PASSWORD}).code == 0
    assert run("logout", env={}).code == 0

    desk = login_env(DESK)
    paid = run("pay", "1", "--method", "card", "--card-number", GOOD_CARD, "--json", env=desk)
    assert paid.code == 0 and paid.json()["card_last4"] == "4242"
    assert run("pay", "3", "--method", "card", "--card-number", DECLINED_CARD, env=desk).err == "error: card declined\n"
    assert run("pay", "3", "--method", "card", "--card-number", BAD_CARD, env=desk).code == 2
    booked = run("book", "--patient", "2", "--slot", "2", "--pay", "card", "--card-number", DECLINED_CARD, env=desk)
    assert booked.code == 1 and "card declined" in booked.err
    enrol = run("user", "totp", "enable", "--code", "000000", env=desk, keep_stdout=False)  # stdout: the QR code
    assert enrol.code == 1
    totp_secret = User.get(User.username == DESK).totp_secret
    assert totp_secret
    unavailable = run("--database", f"postgresql://clinic:{DB_PASSWORD}@127.0.0.1:1/clinic", "db", "status")
    assert unavailable.err == "error: database unavailable\n"
    unsupported = run("--database", f"mysql://clinic:{DB_PASSWORD}@db.example.test/clinic", "db", "status")
    assert unsupported.code == 2 and "mysql://clinic:***@db.example.test/clinic" in unsupported.err

    for listing in (("mail", "log"), ("mail", "log", "--json"), ("audit", "list", "--limit", "1000"),
                    ("audit", "list", "--limit", "1000", "--json"), ("user", "show", "nina", "--json"),
                    ("wallet", "history", "1", "--json")):
        assert run(*listing).code == 0
    audit_details = "\n".join(details for (details,) in AuditEvent.select(AuditEvent.details).tuples())
    log_file = tmp_path / "log" / "clinic-desk.log"
    places = {
        **{f"output of `{what}`": text for what, text in said},
        "audit details": audit_details,
        "the database": _database_text(),
        "the log file": log_file.read_text() if log_file.exists() else "",
    }
    secrets = {
        "password": PASSWORD, "new password": NEW_PASSWORD, "wrong password": WRONG_PASSWORD, "session token": token,
        "one-time code": code, "wrong code": wrong, "TOTP secret": totp_secret, "database password": DB_PASSWORD,
        **{f"card number {fragment}": fragment for fragment in CARD_FRAGMENTS},
    }
    leaks = [f"{name} in {where}" for name, secret in secrets.items() for where, text in places.items()
             if _contains(text, secret)]
    assert not leaks
    # ... and the searches above could find them: the secrets are where they belong.
    assert any(_contains(body, code) for (body,) in Outbox.select(Outbox.text_body).tuples())
    assert Session.select().where(Session.token_hash == accounts.token_digest(token)).exists()


def test_the_log_file_is_private_and_its_tracebacks_hold_no_secret(cli, db, frozen_clock, monkeypatch, tmp_path,
                                                                    fresh_log):
    seed_clinic()
    previous_umask = os.umask(0o000)  # even with a permissive umask
    try:
        def broken_verify(password_hash: str, password: str) -> bool:
            raise RuntimeError("the hasher broke")

        verify = accounts.verify_password
        monkeypatch.setattr(accounts, "verify_password", broken_verify)
        login = cli("login", "--username", "ann", env={"CLINIC_DESK_PASSWORD": PASSWORD})
        monkeypatch.setattr(accounts, "verify_password", verify)

        def broken_charge(number: str, expiry: str | None):
            raise RuntimeError(f"processor down (card ending {number[-4:]})")

        monkeypatch.setattr(cards, "charge", broken_charge)
        pay = cli("pay", "1", "--method", "card", "--card-number", GOOD_CARD, env=login_env(DESK))
    finally:
        os.umask(previous_umask)
    log_file = tmp_path / "log" / "clinic-desk.log"
    for result in (login, pay):
        assert result.code == 1 and result.err.startswith("error: unexpected error (RuntimeError); details in ")
        assert str(log_file) in result.err
    text = log_file.read_text()
    assert "the hasher broke" in text and "processor down" in text and text.count("Traceback") == 2
    assert PASSWORD not in text and not any(fragment in text for fragment in CARD_FRAGMENTS)
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_a_log_file_left_readable_by_others_is_made_private(cli, db, monkeypatch, tmp_path, fresh_log):
    log_file = tmp_path / "log" / "clinic-desk.log"
    log_file.parent.mkdir()
    log_file.write_text("older lines\n")
    log_file.chmod(0o644)
    monkeypatch.setattr("clinic_desk.services.schema.schema_status", lambda: 1 / 0)
    assert cli("db", "status").code == 1
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert log_file.read_text().startswith("older lines\n")


CONFIGS = {
    "smtp password": f'[smtp]\nhost = "mail.example.test"\npassword = "{SMTP_PASSWORD}"\n',
    "database URL with a password": f'[database]\nurl = "postgresql://clinic:{DB_PASSWORD}@127.0.0.1:1/clinic"\n',
    "database password": f'[database]\npassword = "{DB_PASSWORD}"\n',
}


@pytest.mark.parametrize("holding", list(CONFIGS))
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_config_file_readable_by_others_that_holds_a_password_draws_a_warning(cli, db, tmp_path, holding, mode):
    path = tmp_path / "clinic.toml"
    path.write_text(CONFIGS[holding])
    path.chmod(mode)
    result = cli("--config", str(path), "db", "status")  # the test database comes from the environment
    assert result.code == 0, result.err
    assert result.err == f"warning: {path} holds a password and is readable by others; run: chmod 600 {path}\n"
    assert SMTP_PASSWORD not in result.out + result.err and DB_PASSWORD not in result.out + result.err
    via_env = cli("db", "status", env={"CLINIC_DESK_CONFIG": str(path)})
    assert via_env.err == result.err


@pytest.mark.parametrize(
    ("text", "mode"),
    [(CONFIGS["smtp password"], 0o600), (CONFIGS["database URL with a password"], 0o400),
     ('[clinic]\nname = "Open Clinic"\n', 0o644), ('[database]\nurl = "postgresql://clinic@127.0.0.1:1/c"\n', 0o644)],
    ids=["private with a password", "read-only private", "readable without a password", "URL without a password"],
)
def test_no_warning_for_a_private_file_or_one_without_a_password(cli, db, tmp_path, text, mode):
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    path.chmod(mode)
    result = cli("--config", str(path), "db", "status")
    assert (result.code, result.err) == (0, "")


def test_audit_details_are_scrubbed_whatever_a_caller_passes(db):
    from clinic_desk.services import audit
    from clinic_desk.services.actors import SYSTEM

    event = audit.record(SYSTEM, "x", "user", None, password=PASSWORD, new_password=NEW_PASSWORD, token="tok-123",
                         code="123456", totp_secret="JBSWY3DPEHPK3PXP", card_number=GOOD_CARD, note="kept")
    details = json.loads(event.details)
    assert details == {"password": "[redacted]", "new_password": "[redacted]", "token": "[redacted]",
                       "code": "[redacted]", "totp_secret": "[redacted]", "card_number": "[redacted]", "note": "kept"}
