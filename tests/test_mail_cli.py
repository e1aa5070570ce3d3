"""`clinic-desk mail log` and `mail retry`, and who may run the mail commands."""

from __future__ import annotations

from datetime import timedelta

from clinic_desk.services import clock, mailer, notify
from clinic_desk.store.models import AuditEvent, Outbox
from tests.factories import login_env, make_user
from tests.smtp_server import Accepting, Rejecting, SmtpServer, smtp_env, use_smtp


def _queue(to: str) -> int:
    return notify.queue(
        "one_time_code", to, {"full_name": "Ann", "purpose_text": "signing in", "code": "123456", "minutes": 10}
    ).id


def test_mail_log_json_shows_status_attempts_and_the_last_error(db, frozen_clock, cli):
    make_user("reception", "desk")
    sent_id, failed_id = _queue("ok@example.test"), _queue("gone@example.test")
    pending_id = _queue("later@example.test")
    Outbox.update(status="sent", attempts=1, sent_at=frozen_clock).where(Outbox.id == sent_id).execute()
    Outbox.update(status="failed", attempts=1, last_error="550 5.1.1 No such user here").where(
        Outbox.id == failed_id
    ).execute()

    rows = cli("mail", "log", "--json", env=login_env("desk")).json()

    assert [row["id"] for row in rows] == [pending_id, failed_id, sent_id]  # newest first
    by_id = {row["id"]: row for row in rows}
    for key in ("id", "to", "subject", "kind", "status", "attempts", "last_error", "next_attempt_at", "sent_at"):
        assert key in by_id[sent_id]
    expected = {
        "to": "gone@example.test",
        "kind": "one_time_code",
        "status": "failed",
        "attempts": 1,
        "last_error": "550 5.1.1 No such user here",
        "sent_at": None,
        "next_attempt_at": None,
    }
    assert {key: by_id[failed_id][key] for key in expected} == expected
    assert by_id[sent_id]["sent_at"] == "2027-03-04T08:30:00+01:00"  # clinic time, with its offset
    assert by_id[pending_id]["next_attempt_at"] == "2027-03-04T08:30:00+01:00"
    assert by_id[sent_id]["subject"] == "Test Clinic: your code for signing in"

    failed_only = cli("mail", "log", "--status", "failed", "--json", env=login_env("desk")).json()
    assert [row["id"] for row in failed_only] == [failed_id]
    table = cli("mail", "log", env={**login_env("desk"), "COLUMNS": "250"})
    assert table.code == 0 and "550 5.1.1 No such user here" in table.out


def test_mail_log_refuses_an_unknown_status(db, cli):
    make_user("reception", "desk")
    result = cli("mail", "log", "--status", "lost", env=login_env("desk"))
    assert result.code == 2 and "status must be one of pending, sending, sent, failed" in result.err


def test_retry_puts_a_failed_message_back_and_it_goes_out(db, frozen_clock, cli):
    make_user("reception", "desk")
    outbox_id = _queue("ann@example.test")
    with SmtpServer(Rejecting()) as rejecting:
        use_smtp(rejecting.port)
        mailer.deliver_due()
    assert Outbox.get_by_id(outbox_id).status == "failed"

    with SmtpServer(Accepting()) as server:
        result = cli("mail", "retry", str(outbox_id), env={**login_env("desk"), **smtp_env(server.port)})

    assert result.code == 0 and result.out.strip() == str(outbox_id)
    assert len(server.received) == 1  # tried at once, right after the command
    row = Outbox.get_by_id(outbox_id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert AuditEvent.get(AuditEvent.action == "mail.retry").entity_id == outbox_id


def test_retry_makes_a_waiting_message_due_now(db, frozen_clock, cli):
    make_user("reception", "desk")
    outbox_id = _queue("ann@example.test")
    Outbox.update(attempts=2, next_attempt_at=clock.now() + timedelta(hours=1), last_error="451 busy").where(
        Outbox.id == outbox_id
    ).execute()
    assert cli("mail", "retry", str(outbox_id), env=login_env("desk")).code == 0  # no SMTP host: it stays queued
    row = Outbox.get_by_id(outbox_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 2, frozen_clock)


def test_retry_refuses_sent_and_unknown_messages(db, frozen_clock, cli):
    make_user("reception", "desk")
    outbox_id = _queue("ann@example.test")
    Outbox.update(status="sent", sent_at=frozen_clock).where(Outbox.id == outbox_id).execute()
    sent = cli("mail", "retry", str(outbox_id), env=login_env("desk"))
    assert sent.code == 1 and "already sent" in sent.err
    unknown = cli("mail", "retry", "999", env=login_env("desk"))
    assert unknown.code == 2 and "no message with id 999" in unknown.err


def test_mail_commands_are_for_the_desk_and_admins(db, cli):
    make_user("doctor", "doc")
    make_user("patient", "pat")
    make_user("admin", "boss")
    for user in ("doc", "pat"):
        for args in (("log",), ("send",), ("retry", "1")):
            result = cli("mail", *args, env=login_env(user))
            assert result.code == 1 and "permission denied" in result.err, (user, args)
    assert cli("mail", "log", "--json", env=login_env("boss")).json() == []


def test_mail_log_says_when_it_stopped_at_its_limit(db, cli):
    make_user("reception", "desk")
    for n in range(3):
        _queue(f"p{n}@example.test")
    cut = cli("mail", "log", "--limit", "2", "--json", env=login_env("desk"))
    assert len(cut.json()) == 2 and cut.err == "warning: showing the first 2; narrow with --status or raise --limit\n"
    assert cli("mail", "log", "--limit", "4", "--json", env=login_env("desk")).err == ""
