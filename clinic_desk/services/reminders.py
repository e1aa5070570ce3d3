"""Reminder mail: one per confirmed appointment starting within the next hours, never two.

Safe from cron every few minutes and with two runs at once: each reminder is keyed in the outbox
by ``reminder:<appointment id>:<starts_at>`` (a unique column), so a rescheduled visit gets a
new reminder and nothing else gets a second one. Patients who opted out get none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from .. import config
from ..errors import BadInput
from ..store.models import Appointment, Outbox
from . import audit, clock, ics, notify, policy
from .actors import Actor
from .tx import writes


MAX_HOURS = 366 * 24  # a year ahead; more is a typo


@dataclass(frozen=True)
class ReminderReport:
    queued: int
    opted_out: int  # due for a reminder, skipped: the patient opted out
    hours: int


def reminder_key(appointment: Appointment) -> str:
    return f"reminder:{appointment.id}:{appointment.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


@writes
def queue_reminders(actor: Actor, hours: int | None = None) -> ReminderReport:
    """Queue the reminders for confirmed visits starting within ``hours`` (default: booking.reminder_hours)."""
    policy.require(actor, "mail.manage")
    hours = config.current().booking.reminder_hours if hours is None else hours
    if hours < 1:
        raise BadInput(f"--hours must be at least 1: {hours}")
    if hours > MAX_HOURS:
        raise BadInput(f"--hours must be at most {MAX_HOURS} (a year): {hours}")
    now = clock.now()
    rows = ics.appointment_rows(
        Appointment.status == "confirmed",
        Appointment.starts_at > now,
        Appointment.starts_at <= now + timedelta(hours=hours),
    )
    keys = {row.id: reminder_key(row) for row in rows}
    done = set()
    if keys:
        done = {r.dedupe_key for r in Outbox.select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(list(keys.values())))}
    queued = opted_out = 0
    for row in rows:
        if keys[row.id] in done:
            continue
        if row.patient.reminders_opt_out:
            opted_out += 1
            continue
        context = notify.context_for(row)
        if notify.queue_once(
            notify.REMINDER, row.patient.email, context, appointment_id=row.id, dedupe_key=keys[row.id]
        ):
            queued += 1
    if queued:
        audit.record(actor, "mail.reminders", "outbox", None, queued=queued, hours=hours)
    return ReminderReport(queued=queued, opted_out=opted_out, hours=hours)
