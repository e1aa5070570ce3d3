"""Email as part of the event: render text + HTML from jinja2 templates into the Outbox.

``queue`` runs inside the caller's transaction, so a mail exists exactly when its event does.
Delivery is ``services/mailer.py``'s job; SMTP being down only delays it.
Templates: ``templates/<kind>.txt.j2`` (with a ``subject`` block) and ``templates/<kind>.html.j2``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from peewee import IntegrityError

from .. import config
from ..store.db import db
from ..store.models import Appointment, Outbox
from . import clock, ics
from .money import format_money
from .timeutil import to_local

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
REMINDER = "appointment_reminder"  # mail kinds other services name
ONE_TIME_CODE = "one_time_code"

# How many mails this process queued; the CLI and TUI try to deliver them after commit.
queued_in_process = 0


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    content: str


@lru_cache(maxsize=2)
def _environment(autoescape: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for one mail kind."""
    settings = config.current()
    full = {"clinic": settings.clinic, **context}
    text_template = _environment(False).get_template(f"{kind}.txt.j2")
    text_context = text_template.new_context(full)
    subject = "".join(text_template.blocks["subject"](text_context)).strip()
    text_context.blocks["subject"] = [lambda _context: iter(())]  # the subject heads the mail, not its body
    text = "".join(text_template.root_render_func(text_context))
    html = _environment(True).get_template(f"{kind}.html.j2").render({**full, "subject": subject})
    return " ".join(subject.split()), text, html


def queue(
    kind: str,
    to: str,
    context: dict[str, Any],
    *,
    appointment_id: int | None = None,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> Outbox:
    """Render the mail and put it in the Outbox (inside the caller's transaction).

    With a ``dedupe_key`` that is already in the outbox nothing new is queued: the earlier row is
    returned, so a retried event mails once.
    """
    row = queue_once(kind, to, context, appointment_id=appointment_id, dedupe_key=dedupe_key, attachments=attachments)
    return row if row is not None else Outbox.get(Outbox.dedupe_key == dedupe_key)


def queue_once(
    kind: str,
    to: str,
    context: dict[str, Any],
    *,
    appointment_id: int | None = None,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> Outbox | None:
    """``queue``, but None when ``dedupe_key`` is already in the outbox (also when a concurrent
    transaction queued it a moment ago: the unique column decides, under a savepoint)."""
    if dedupe_key is not None and Outbox.select().where(Outbox.dedupe_key == dedupe_key).exists():
        return None
    subject, text, html = render(kind, context)
    now = clock.now()
    fields = dict(
        to_addr=to,
        subject=subject[:255],
        text_body=text,
        html_body=html,
        attachments=json.dumps([asdict(a) for a in attachments]),
        kind=kind,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        dedupe_key=dedupe_key,
        appointment=appointment_id,
    )
    if dedupe_key is None:
        row = Outbox.create(**fields)
    else:
        try:
            with db.atomic():  # a savepoint inside the caller's transaction
                row = Outbox.create(**fields)
        except IntegrityError:
            if Outbox.select().where(Outbox.dedupe_key == dedupe_key).exists():
                return None
            raise
    request_delivery()
    return row


def withdraw_reminders(*, appointment_id: int | None = None, patient_id: int | None = None) -> int:
    """Take back the reminders not sent yet (waiting, or failed and open to a retry) of an
    appointment that was cancelled or moved, or of a patient who opted out: a reminder must never
    name a visit that is no longer so. Inside the caller's transaction; returns how many."""
    if appointment_id is not None:
        whose = Outbox.appointment == appointment_id
    else:
        whose = Outbox.appointment.in_(Appointment.select(Appointment.id).where(Appointment.patient == patient_id))
    unsent = Outbox.status.in_(("pending", "failed"))
    return Outbox.delete().where(whose & (Outbox.kind == REMINDER) & unsent).execute()


def request_delivery() -> None:
    """Ask the CLI (or TUI) to try delivery once this command has committed."""
    global queued_in_process
    queued_in_process += 1


def attachments_of(row: Outbox) -> list[Attachment]:
    return [Attachment(**item) for item in json.loads(row.attachments or "[]")]


# -- appointment mail ---------------------------------------------------------

APPOINTMENT_EVENTS = ("booked", "confirmed", "cancelled", "rescheduled", "reminder")


def appointment_context(appointment_id: int) -> dict[str, Any]:
    """What every appointment mail shows: patient, doctor, room, local date and time, price."""
    rows = ics.appointment_rows(Appointment.id == appointment_id)
    if not rows:
        raise Appointment.DoesNotExist(f"appointment {appointment_id} does not exist")
    return context_for(rows[0])


def context_for(row: Appointment) -> dict[str, Any]:
    """``appointment_context`` for a row from ``ics.appointment_rows`` (patient, doctor, user joined)."""
    starts = to_local(row.starts_at)
    ends = to_local(row.ends_at)
    return {
        "appointment": row,
        "patient_name": row.patient.full_name,
        "patient_email": row.patient.email,
        "doctor_name": row.doctor.user.full_name,
        "room": row.doctor.room,
        "date": starts.strftime("%A %d %B %Y"),
        "time": starts.strftime("%H:%M"),
        "end_time": ends.strftime("%H:%M"),
        "price": f"{format_money(row.price)} {config.current().clinic.currency}",
        "reason": row.reason,
        "cancel_reason": row.cancel_reason,
        "status": row.status,
    }


# Events whose mail carries an .ics: the invitation, its update, its cancellation.
_CALENDAR_METHOD = {"confirmed": "REQUEST", "rescheduled": "REQUEST", "cancelled": "CANCEL"}


def appointment_event(event: str, appointment_id: int, *, row: Appointment | None = None, **extra: Any) -> Outbox:
    """Queue the patient's mail for one appointment event (inside the event's transaction).

    Confirmed and rescheduled mails carry the visit as an invitation (METHOD:REQUEST), a
    cancellation carries METHOD:CANCEL when an invitation was queued before; each bumps
    ``Appointment.ics_sequence`` so that calendars take the newest. ``extra`` adds to the
    template context (``dedupe_key`` also keys the outbox row). ``row``: the appointment as it
    is now with its patient, doctor and the doctor's user attached, when the caller has them
    (they are not read again).
    """
    if event not in APPOINTMENT_EVENTS:
        raise ValueError(f"unknown appointment event {event!r}")
    method = _CALENDAR_METHOD.get(event)
    if method == "CANCEL" and not _invited(appointment_id):
        method = None  # nothing to take out of a calendar that never got the invitation
    if method:
        Appointment.update(ics_sequence=Appointment.ics_sequence + 1).where(Appointment.id == appointment_id).execute()
        if row is not None:
            row.ics_sequence += 1
    context = {**(context_for(row) if row is not None else appointment_context(appointment_id)), **extra}
    attachments = ()
    if method:
        filename = "invite.ics" if method == "REQUEST" else "cancel.ics"
        content = ics.invitation(context["appointment"], method)
        attachments = (Attachment(filename, f"text/calendar; method={method}", content),)
    return queue(
        f"appointment_{event}",
        context["patient_email"],
        context,
        appointment_id=appointment_id,
        dedupe_key=extra.get("dedupe_key"),
        attachments=attachments,
    )


def _invited(appointment_id: int) -> bool:
    invitations = [f"appointment_{event}" for event, method in _CALENDAR_METHOD.items() if method == "REQUEST"]
    return (
        Outbox.select()
        .where((Outbox.appointment == appointment_id) & Outbox.kind.in_(invitations))
        .exists()
    )
