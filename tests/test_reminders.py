"""`clinic-desk mail reminders`: one reminder per confirmed visit in the window, never two."""

from __future__ import annotations

from datetime import timedelta

from clinic_desk.services import clock, notify
from clinic_desk.services.timeutil import to_local
from clinic_desk.store.models import Appointment, Outbox
from tests.factories import login_env, make_appointment, make_doctor, make_patient, make_slot, make_user
from tests.smtp_server import run_cli_at_once, smtp_server  # noqa: F401 - a fixture


def _visit(hours_ahead: float, status: str = "confirmed", **patient_fields):
    doctor = make_doctor()
    patient = make_patient(**patient_fields)
    return make_appointment(make_slot(doctor, clock.now() + timedelta(hours=hours_ahead)), patient, status=status)


def _reminders() -> list[Outbox]:
    return list(Outbox.select().where(Outbox.kind == "appointment_reminder").order_by(Outbox.id))


def test_reminders_run_twice_queue_once_and_only_for_confirmed_visits_in_the_window(db, frozen_clock, cli):
    make_user("reception", "desk")
    soon = _visit(5, email="soon@example.test")
    _visit(5, status="pending")
    _visit(30)  # outside the default 24 hours
    _visit(-1)  # already started
    Appointment.update(status="cancelled").where(Appointment.id == _visit(3).id).execute()

    first = cli("mail", "reminders", env=login_env("desk"))
    second = cli("mail", "reminders", env=login_env("desk"))

    assert first.code == 0 and first.out.startswith("queued 1 reminders for the next 24 hours")
    assert second.code == 0 and second.out.startswith("queued 0 reminders")
    [reminder] = _reminders()
    assert reminder.to_addr == "soon@example.test"
    assert reminder.appointment_id == soon.id
    assert reminder.subject.startswith("Test Clinic: Reminder:")
    assert "A reminder of your appointment" in reminder.text_body
    # Later runs, as from cron, queue nothing more for it; the 30-hour visit gets its turn.
    clock.set_now(frozen_clock + timedelta(hours=7))
    later = cli("mail", "reminders", "--json", env=login_env("desk"))
    assert later.json() == {"queued": 1, "opted_out": 0, "hours": 24}
    assert len(_reminders()) == 2


def test_a_rescheduled_visit_gets_a_new_reminder(db, frozen_clock, cli):
    make_user("reception", "desk")
    visit = _visit(5)
    assert cli("mail", "reminders", env=login_env("desk")).code == 0
    moved_to = make_slot(make_doctor(), clock.now() + timedelta(hours=8))
    Appointment.update(slot=moved_to, starts_at=moved_to.starts_at, ends_at=moved_to.ends_at).where(
        Appointment.id == visit.id
    ).execute()
    assert cli("mail", "reminders", env=login_env("desk")).out.startswith("queued 1 ")
    assert len(_reminders()) == 2


def test_opted_out_patients_get_no_reminder_but_their_other_mail_goes(db, frozen_clock, cli):
    make_user("reception", "desk")
    visit = _visit(5, reminders_opt_out=True, email="quiet@example.test")
    result = cli("mail", "reminders", "--hours", "6", env=login_env("desk"))
    assert result.out.startswith("queued 0 reminders for the next 6 hours (1 patients opted out)")
    assert _reminders() == []
    row = notify.appointment_event("cancelled", visit.id)
    assert Outbox.get_by_id(row.id).to_addr == "quiet@example.test"


def test_hours_widen_the_window_and_must_be_positive(db, frozen_clock, cli):
    make_user("reception", "desk")
    _visit(30)
    assert cli("mail", "reminders", "--hours", "48", env=login_env("desk")).out.startswith("queued 1 ")
    bad = cli("mail", "reminders", "--hours", "0", env=login_env("desk"))
    assert bad.code == 2 and "--hours must be at least 1" in bad.err


def test_only_the_desk_runs_reminders(db, cli):
    make_user("doctor", "doc")
    result = cli("mail", "reminders", env=login_env("doc"))
    assert result.code == 1 and "permission denied" in result.err


def test_two_reminder_runs_at_once_queue_one_reminder_per_visit(db):
    make_user("reception", "desk")
    visits = [_visit(2 + n) for n in range(12)]  # real time: the children run on the real clock
    codes = run_cli_at_once(["mail", "reminders"], {"CLINIC_DESK_DATABASE_URL": db, **login_env("desk")})
    assert codes == [0, 0]
    reminded = [row.appointment_id for row in _reminders()]
    assert sorted(reminded) == sorted(visit.id for visit in visits)


def test_a_queued_reminder_is_taken_back_when_the_visit_is_cancelled_moved_or_opted_out(db, frozen_clock, smtp_server):
    """The patient never gets a reminder for a visit that is cancelled, or for the old time of a
    moved one, or after opting out, even when it was queued before and SMTP was down meanwhile."""
    from clinic_desk.services import booking, mailer, patients, reminders
    from tests.booking_support import staff

    desk = staff()
    cancelled, moved, quiet = _visit(5, email="c@example.test"), _visit(5, email="m@example.test"), _visit(5, email="q@example.test")
    assert reminders.queue_reminders(desk).queued == 3
    booking.cancel(desk, cancelled.id, "patient is ill")
    new_slot = make_slot(moved.doctor, clock.now() + timedelta(hours=6))
    booking.reschedule(desk, moved.id, new_slot.id)
    patients.edit_patient(desk, quiet.patient_id, reminders=False)
    assert reminders.queue_reminders(desk).queued == 1  # the moved visit, at its new time

    mailer.deliver_due()

    sent = sorted((got.rcpt_tos[0], got.message["Subject"].split(":")[1].strip()) for got in smtp_server.received)
    assert sent == [("c@example.test", "Appointment cancelled"), ("m@example.test", "Appointment moved"),
                    ("m@example.test", "Reminder")]
    [reminder] = [got for got in smtp_server.received if "Reminder" in got.message["Subject"]]
    assert f"{to_local(new_slot.starts_at):%H:%M}" in reminder.message.get_body(("plain",)).get_content()
