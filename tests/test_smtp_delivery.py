"""Delivery against real SMTP servers on 127.0.0.1: what arrives, and what happens when SMTP fails."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from clinic_desk.services import clock, mailer, notify
from clinic_desk.services.tx import writes
from clinic_desk.store.models import Appointment, Outbox
from tests.factories import login_env, make_appointment, make_doctor, make_patient, make_slot, make_user
from tests.smtp_server import (
    Accepting,
    FailingFirst,
    Rejecting,
    Silent,
    SmtpServer,
    free_port,
    run_cli_at_once,
    smtp_env,
    smtp_server,  # noqa: F401 - a fixture
    use_smtp,
)

VISIT = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def _appointment(status: str = "confirmed", *, email: str = "ann@example.test", starts_at: datetime = VISIT):
    doctor = make_doctor(full_name="Dr. Mira Stone", room="3")
    patient = make_patient("Ann Lee", email=email)
    return make_appointment(make_slot(doctor, starts_at), patient, status=status, price=8000)


@writes
def _confirm(appointment_id: int) -> None:
    """A booking-like event: the state change and its mail in one transaction."""
    Appointment.update(status="confirmed").where(Appointment.id == appointment_id).execute()
    notify.appointment_event("confirmed", appointment_id)


def _queue_codes(count: int) -> list[int]:
    return [
        notify.queue(
            "one_time_code",
            f"user{n}@example.test",
            {"full_name": f"User {n}", "purpose_text": "signing in", "code": f"{n:06d}", "minutes": 10},
        ).id
        for n in range(count)
    ]


def _row(outbox_id: int) -> Outbox:
    return Outbox.get_by_id(outbox_id)


def test_confirmation_arrives_with_text_html_and_calendar_parts(db, frozen_clock, smtp_server):
    appointment = _appointment()
    row = notify.appointment_event("confirmed", appointment.id)

    report = mailer.deliver_due()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [got] = smtp_server.received
    assert got.rcpt_tos == ("ann@example.test",)
    assert got.mail_from == "desk@clinic.test"
    assert got.message["To"] == "ann@example.test"
    assert "Appointment confirmed" in got.message["Subject"]
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    assert "Your appointment is confirmed" in text and "09:00" in text and "80.00 EUR" in text
    assert "<html" in html and "Dr. Mira Stone" in html
    [calendar_part] = [part for part in got.message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_filename() == "invite.ics"
    invitation = Calendar.from_ical(calendar_part.get_content())
    assert str(invitation["METHOD"]) == "REQUEST"
    [event] = invitation.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment.id}@clinic.test"
    assert event.decoded("DTSTART") == VISIT
    assert str(event["ATTENDEE"]) == "mailto:ann@example.test"
    stored = _row(row.id)
    assert (stored.status, stored.attempts, stored.last_error) == ("sent", 1, "")
    assert stored.sent_at == frozen_clock


def test_smtp_down_the_event_commits_and_its_mail_waits_then_goes_once(db, frozen_clock, cli):
    make_user("reception", "desk")
    appointment = _appointment("pending")
    port = free_port()  # nothing listens here: connection refused
    use_smtp(port)

    _confirm(appointment.id)
    report = mailer.deliver_after_commit()

    assert Appointment.get_by_id(appointment.id).status == "confirmed"
    assert report is not None and report.retrying == 1
    [row] = Outbox.select()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "connection refused" in row.last_error
    assert row.next_attempt_at == frozen_clock + timedelta(seconds=60)

    with SmtpServer(Accepting(), port=port) as server:
        env = {**login_env("desk"), **smtp_env(port)}
        early = cli("mail", "send", env=env)
        assert early.code == 0 and early.out.startswith("sent 0,")  # still waiting for its retry time
        clock.set_now(frozen_clock + timedelta(seconds=61))
        first = cli("mail", "send", env=env)
        second = cli("mail", "send", env=env)

    assert first.code == 0 and first.out.startswith("sent 1,"), first.out + first.err
    assert second.code == 0 and second.out.startswith("sent 0,")
    assert len(server.received) == 1
    assert _row(row.id).status == "sent"


def test_a_temporary_failure_then_success(db, frozen_clock):
    [outbox_id] = _queue_codes(1)
    with SmtpServer(FailingFirst(1)) as server:
        use_smtp(server.port, backoff_s=30.0)
        first = mailer.deliver_due()
        row = _row(outbox_id)
        assert (first.retrying, row.status, row.attempts) == (1, "pending", 1)
        assert row.last_error == "451 4.3.0 Mailbox busy, try again later"
        assert row.next_attempt_at == frozen_clock + timedelta(seconds=30)

        assert mailer.deliver_due().sent == 0  # not due yet
        clock.set_now(frozen_clock + timedelta(seconds=30))
        second = mailer.deliver_due()

    assert second.sent == 1
    assert len(server.received) == 1
    row = _row(outbox_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


def test_backoff_doubles_and_gives_up_after_max_attempts(db, frozen_clock):
    [outbox_id] = _queue_codes(1)
    with SmtpServer(FailingFirst(99)) as server:
        use_smtp(server.port, backoff_s=10.0, max_attempts=3)
        mailer.deliver_due()
        assert _row(outbox_id).next_attempt_at == frozen_clock + timedelta(seconds=10)
        clock.set_now(frozen_clock + timedelta(seconds=10))
        mailer.deliver_due()
        assert _row(outbox_id).next_attempt_at == frozen_clock + timedelta(seconds=30)  # 10 s + 20 s
        clock.set_now(frozen_clock + timedelta(seconds=30))
        last = mailer.deliver_due()

    row = _row(outbox_id)
    assert last.failed == 1
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "451 4.3.0 Mailbox busy, try again later (gave up after 3 attempts)"


def test_a_5xx_reply_marks_the_message_failed_with_the_reply(db, frozen_clock):
    [outbox_id] = _queue_codes(1)
    with SmtpServer(Rejecting()) as server:
        use_smtp(server.port)
        report = mailer.deliver_due()
        clock.set_now(frozen_clock + timedelta(days=2))
        again = mailer.deliver_due()

    assert (report.failed, again.sent + again.failed) == (1, 0)
    assert server.handler.answered == 1  # a permanent failure is not tried again
    row = _row(outbox_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "550 5.1.1 No such user here")


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_go(db, frozen_clock, smtp_server):
    broken, fine = _queue_codes(2)
    Outbox.update(attachments="not json").where(Outbox.id == broken).execute()
    report = mailer.deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    assert _row(broken).status == "failed" and _row(broken).last_error.startswith("cannot build the message")
    assert _row(fine).status == "sent"
    assert [got.rcpt_tos for got in smtp_server.received] == [("user1@example.test",)]


def test_a_server_that_never_answers_times_out_and_nothing_is_lost(db, frozen_clock):
    ids = _queue_codes(2)
    with Silent() as silent:
        use_smtp(silent.port, timeout_s=0.5)
        report = mailer.deliver_due()
    assert report.retrying == 2
    for outbox_id in ids:
        row = _row(outbox_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "timed out" in row.last_error

    clock.set_now(frozen_clock + timedelta(minutes=5))
    with SmtpServer(Accepting()) as server:
        use_smtp(server.port)
        assert mailer.deliver_due().sent == 2
    assert sorted(got.rcpt_tos for got in server.received) == [("user0@example.test",), ("user1@example.test",)]


def test_after_a_command_delivery_gives_up_within_its_budget_not_the_configured_timeout(db, frozen_clock):
    [outbox_id] = _queue_codes(1)
    with Silent() as silent:
        settings = use_smtp(silent.port, timeout_s=60.0)
        started = time.monotonic()
        report = mailer.deliver_after_commit()
        waited = time.monotonic() - started
    # The guarantee under test is a bound in time: the command returns long before smtp.timeout_s.
    assert waited < settings.timeout_s / 4
    assert report is not None and report.retrying == 1
    row = _row(outbox_id)
    assert row.status == "pending" and "timed out" in row.last_error


def test_without_an_smtp_host_mail_stays_queued(db, cli):
    make_user("reception", "desk")
    [outbox_id] = _queue_codes(1)
    assert mailer.deliver_after_commit() is None
    result = cli("mail", "send", env=login_env("desk"))
    assert result.code == 1 and "no SMTP server configured" in result.err
    row = _row(outbox_id)
    assert (row.status, row.attempts) == ("pending", 0)


def test_a_crashed_sender_leaves_its_claim_which_expires_and_the_mail_goes_once(db, frozen_clock, smtp_server):
    [outbox_id] = _queue_codes(1)
    [claimed] = mailer._claim(5, 300.0)  # a sender that claims, then dies before sending
    assert _row(outbox_id).status == "sending"

    assert mailer.deliver_due().sent == 0  # the lease still holds
    clock.set_now(frozen_clock + timedelta(seconds=301))
    assert mailer.deliver_due().sent == 1
    # The dead sender's late report cannot overwrite the outcome: its lease is gone.
    assert mailer._record(outbox_id, claimed.claimed_until, {"status": "failed"}) is False
    assert _row(outbox_id).status == "sent"
    assert len(smtp_server.received) == 1


def test_two_mail_send_processes_at_once_deliver_each_message_exactly_once(db):
    make_user("reception", "desk")
    ids = _queue_codes(40)
    with SmtpServer(Accepting(delay=0.02)) as server:
        env = {"CLINIC_DESK_DATABASE_URL": db, **login_env("desk"), **smtp_env(server.port)}
        codes = run_cli_at_once(["mail", "send"], env, processes=2)

    assert codes == [0, 0]
    message_ids = [got.message_id for got in server.received]
    assert len(message_ids) == 40
    assert len(set(message_ids)) == 40
    assert Outbox.select().where(Outbox.id.in_(ids), Outbox.status == "sent").count() == 40


def test_booking_at_the_desk_with_smtp_down_then_every_mail_goes_out_once(db, frozen_clock, cli):
    """The whole story through the real commands: book, confirm, reschedule, cancel while SMTP is down."""
    make_user("reception", "desk")
    doctor = make_doctor(full_name="Dr. Mira Stone", room="3")
    first_slot, second_slot = make_slot(doctor, VISIT), make_slot(doctor, VISIT + timedelta(days=1))
    patient = make_patient("Ann Lee", email="ann@example.test")
    port = free_port()
    env = {**login_env("desk"), **smtp_env(port)}

    booked = cli("book", "--patient", str(patient.id), "--slot", str(first_slot.id), env=env)
    assert booked.code == 0, booked.err
    appointment_id = booked.out.strip()
    for args in (
        ("appointments", "confirm", appointment_id),
        ("appointments", "reschedule", appointment_id, "--slot", str(second_slot.id)),
        ("appointments", "cancel", appointment_id, "--reason", "feeling better"),
    ):
        result = cli(*args, env=env)
        assert result.code == 0, result.err
    assert Appointment.get_by_id(int(appointment_id)).status == "cancelled"
    rows = list(Outbox.select().order_by(Outbox.id))
    assert [row.kind for row in rows] == [
        "appointment_booked",
        "appointment_confirmed",
        "appointment_rescheduled",
        "appointment_cancelled",
    ]
    assert all(row.status == "pending" and "connection refused" in row.last_error for row in rows)

    clock.set_now(frozen_clock + timedelta(minutes=2))
    with SmtpServer(Accepting(), port=port) as server:
        sent = cli("mail", "send", env=env)
        again = cli("mail", "send", env=env)

    assert sent.out.startswith("sent 4,") and again.out.startswith("sent 0,")
    assert [got.message["Subject"].split(":")[1].strip() for got in server.received] == [
        "Appointment requested",
        "Appointment confirmed",
        "Appointment moved",
        "Appointment cancelled",
    ]
    methods = [
        [part.get_param("method") for part in got.message.iter_attachments()] for got in server.received
    ]
    assert methods == [[], ["REQUEST"], ["REQUEST"], ["CANCEL"]]


class RefusingFirstRecipientWith421(Accepting):
    """Answers the first RCPT with 421 (closing the connection), then accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.recipients = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001
        self.recipients += 1
        if self.recipients == 1:
            return "421 4.3.2 Service shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_421_to_a_recipient_leaves_the_messages_not_tried_with_no_attempt_counted(db, frozen_clock):
    ids = _queue_codes(3)
    with SmtpServer(RefusingFirstRecipientWith421()) as server:
        use_smtp(server.port)
        mailer.deliver_due()

    first, second, third = (_row(outbox_id) for outbox_id in ids)
    assert (first.status, first.attempts) == ("pending", 1) and first.last_error.startswith("421")
    assert (second.status, second.attempts, second.last_error) == ("pending", 0, "")
    assert (third.status, third.attempts, third.last_error) == ("pending", 0, "")


def test_a_sender_with_a_display_name_is_one_address_on_the_envelope_and_in_the_invitation(db, frozen_clock):
    appointment = _appointment()
    with SmtpServer(Accepting()) as server:
        use_smtp(server.port, sender="Clinic Desk <desk@example.org>")
        notify.appointment_event("confirmed", appointment.id)  # the invitation is made as it is queued
        mailer.deliver_due()

    [got] = server.received
    assert got.mail_from == "desk@example.org"
    assert got.message["From"] == "Clinic Desk <desk@example.org>"
    [calendar_part] = [part for part in got.message.iter_attachments() if part.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(calendar_part.get_content()).walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:desk@example.org"


def test_the_envelope_never_adds_a_recipient_that_a_stored_address_lists(db, frozen_clock, smtp_server):
    appointment = _appointment()
    row = notify.appointment_event("confirmed", appointment.id)
    Outbox.update(to_addr="ann@example.test, postmaster").where(Outbox.id == row.id).execute()  # an old row

    mailer.deliver_due()

    assert all(recipient != "postmaster" for got in smtp_server.received for recipient in got.rcpt_tos)


def test_a_one_time_code_leaves_the_outbox_once_its_mail_is_sent(db, frozen_clock, smtp_server):
    [outbox_id] = _queue_codes(1)  # code 000000

    mailer.deliver_due()

    [got] = smtp_server.received
    assert "000000" in got.message.get_body(("plain",)).get_content()
    stored = _row(outbox_id)
    assert stored.status == "sent" and "000000" not in stored.text_body + stored.html_body
