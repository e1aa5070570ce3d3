"""A booking is a handful of statements: the facts in one query, the appointment, its audit event,
its mail and (PostgreSQL) the change notice; what it returns and mails is what a fresh read shows."""

from __future__ import annotations

import os
from dataclasses import replace

from clinic_desk import config
from clinic_desk.config import BookingSettings
from clinic_desk.services import booking, notify, queries
from clinic_desk.store.models import Appointment, Outbox
from tests.booking_support import bookable, count_queries, local, staff
from tests.factories import make_appointment, make_doctor, make_patient, make_slot

ON_POSTGRES = bool(os.environ.get("CLINIC_DESK_TEST_DATABASE_URL"))


def test_a_booking_is_one_read_and_its_writes(db, frozen_clock):
    desk = staff()
    doctor, slot, patient = bookable()
    for hour in (10, 11, 12):  # other visits of the patient and the doctor change nothing
        make_appointment(make_slot(doctor, local(2027, 3, 10, hour)), make_patient())
        make_appointment(make_slot(make_doctor(), local(2027, 3, 11, hour)), patient)
    with count_queries() as counter:
        booking.book(desk, patient.id, slot.id)
    selects = [sql for sql in counter.statements if sql.lstrip().upper().startswith("SELECT")]
    inserts = [sql for sql in counter.statements if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 3  # appointment, audit event, outbox mail
    assert len(selects) == (2 if ON_POSTGRES else 1)  # the facts (+ pg_notify on PostgreSQL)
    assert len(counter.statements) == len(selects) + len(inserts)


def test_the_returned_view_is_what_a_fresh_read_shows(db, frozen_clock):
    desk = staff()
    _, slot, patient = bookable(fee=9550)
    view = booking.book(desk, patient.id, slot.id, reason="knee")
    assert view == queries.get_appointment(desk, view.id)


def test_auto_confirm_mails_the_invitation_of_the_stored_sequence(db, frozen_clock):
    config.use(replace(config.current(), booking=BookingSettings(auto_confirm=True)))
    desk = staff()
    _, slot, patient = bookable()
    view = booking.book(desk, patient.id, slot.id)
    assert view == queries.get_appointment(desk, view.id)
    mail = Outbox.get()
    assert (mail.kind, mail.to_addr) == ("appointment_confirmed", patient.email)
    [invitation] = notify.attachments_of(mail)
    assert Appointment.get_by_id(view.id).ics_sequence == 1
    assert invitation.filename == "invite.ics" and "SEQUENCE:1" in invitation.content
    assert patient.full_name in mail.text_body
