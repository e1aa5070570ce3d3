"""Email as part of the event: render text + HTML from jinja2 templates into the Outbox.

``queue`` runs inside the caller's transaction, so a mail exists exactly when its event does.
Delivery is ``services/mailer.py``'s job; SMTP being down only delays it.
Templates: ``templates/<kind>.txt.j2`` (with a ``subject`` block) and ``templates/<kind>.html.j2``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import config
from ..store.models import Outbox
from . import clock

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

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
    text = text_template.render(full)
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
    """Render the mail and put it in the Outbox (inside the caller's transaction)."""
    global queued_in_process
    subject, text, html = render(kind, context)
    now = clock.now()
    row = Outbox.create(
        to_addr=to,
        subject=subject[:255],
        text_body=text,
        html_body=html,
        attachments=json.dumps([a.__dict__ for a in attachments]),
        kind=kind,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        dedupe_key=dedupe_key,
        appointment=appointment_id,
    )
    queued_in_process += 1
    return row


# -- appointment mail ---------------------------------------------------------

APPOINTMENT_EVENTS = ("booked", "confirmed", "cancelled", "rescheduled", "reminder")


def appointment_context(appointment_id: int) -> dict[str, Any]:
    """What every appointment mail shows: patient, doctor, room, local date and time, price."""
    from ..store.models import Appointment, Doctor, Patient, User
    from .money import format_money
    from .timeutil import to_local

    row = (
        Appointment.select(Appointment, Patient, Doctor, User)
        .join(Patient, on=(Appointment.patient == Patient.id))
        .switch(Appointment)
        .join(Doctor, on=(Appointment.doctor == Doctor.id))
        .join(User, on=(Doctor.user == User.id))
        .where(Appointment.id == appointment_id)
        .get()
    )
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


def appointment_event(event: str, appointment_id: int, **extra: Any) -> Outbox:
    """Queue the patient's mail for one appointment event (inside the event's transaction)."""
    if event not in APPOINTMENT_EVENTS:
        raise ValueError(f"unknown appointment event {event!r}")
    context = {**appointment_context(appointment_id), **extra}
    return queue(
        f"appointment_{event}",
        context["patient_email"],
        context,
        appointment_id=appointment_id,
        dedupe_key=extra.get("dedupe_key"),
    )
