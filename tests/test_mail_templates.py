"""What the appointment mails say, in text and HTML, and that every mail shares one frame."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from clinic_desk import config
from clinic_desk.services import notify
from clinic_desk.services.notify import TEMPLATES_DIR
from clinic_desk.store.models import Appointment, Outbox
from tests.factories import make_appointment, make_doctor, make_patient, make_slot

LEADS = {
    "booked": "Your appointment is booked and waits for confirmation.",
    "confirmed": "Your appointment is confirmed.",
    "cancelled": "Your appointment has been cancelled.",
    "rescheduled": "Your appointment has moved.",
    "reminder": "A reminder of your appointment:",
}


@pytest.mark.parametrize("event", sorted(LEADS))
def test_each_appointment_mail_shows_the_visit_in_text_and_html(db, frozen_clock, event):
    config.use(replace(config.current(), clinic=replace(config.current().clinic, address="1 Lindenstraße, Berlin")))
    doctor = make_doctor(full_name="Dr. Mira Stone", room="3")
    appointment = make_appointment(
        make_slot(doctor, datetime(2027, 3, 29, 7, 0, tzinfo=UTC)), make_patient("Ann Lee"), status="confirmed"
    )
    Appointment.update(reason="knee <pain>", cancel_reason="doctor ill").where(Appointment.id == appointment.id).execute()

    row = Outbox.get_by_id(notify.appointment_event(event, appointment.id).id)

    assert row.subject.startswith("Test Clinic: ") and "Monday 29 March 2027 09:00" in row.subject
    assert row.text_body.startswith("Hello Ann Lee,\n\n" + LEADS[event])  # the subject is not repeated
    for shown in ("Dr. Mira Stone", "Monday 29 March 2027, 09:00-09:30", "Room:   3", "knee <pain>", "80.00 EUR"):
        assert shown in row.text_body
    assert row.text_body.rstrip().endswith("Test Clinic\n1 Lindenstraße, Berlin")
    assert "knee &lt;pain&gt;" in row.html_body and "09:00&ndash;09:30" in row.html_body
    assert "1 Lindenstraße, Berlin" in row.html_body
    assert ("doctor ill" in row.text_body) == (event == "cancelled")


def test_every_mail_kind_uses_the_shared_frame():
    names = (path.name[: -len(".txt.j2")] for path in TEMPLATES_DIR.glob("*.txt.j2"))
    kinds = sorted(name for name in names if name != "base" and not name.startswith("_"))
    assert "appointment_confirmed" in kinds and "one_time_code" in kinds
    for kind in kinds:
        text = (TEMPLATES_DIR / f"{kind}.txt.j2").read_text(encoding="utf-8")
        html = (TEMPLATES_DIR / f"{kind}.html.j2").read_text(encoding="utf-8")
        assert text.startswith('{% extends "base.txt.j2" %}\n{% block subject %}'), kind
        assert html.startswith('{% extends "base.html.j2" %}'), kind
