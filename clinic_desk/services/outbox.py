"""The outbox as people see it: the mail log, and putting a message back in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import BadInput, Conflict, NotFound, Refused
from ..store.models import OUTBOX_STATUSES, Outbox
from . import audit, clock, notify, policy
from .actors import Actor
from .timeutil import to_local
from .tx import reads, writes

LOG_LIMIT = 100


@dataclass(frozen=True)
class OutboxView:
    id: int
    to: str
    subject: str
    kind: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None  # clinic-local; only while pending
    sent_at: datetime | None
    created_at: datetime
    appointment_id: int | None


def view(row: Outbox) -> OutboxView:
    return OutboxView(
        id=row.id,
        to=row.to_addr,
        subject=row.subject,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=to_local(row.next_attempt_at) if row.status == "pending" else None,
        sent_at=to_local(row.sent_at) if row.sent_at else None,
        created_at=to_local(row.created_at),
        appointment_id=row.appointment_id,
    )


@reads
def mail_log(actor: Actor, *, status: str | None = None, limit: int = LOG_LIMIT) -> list[OutboxView]:
    """The newest messages first, optionally only those with ``status``."""
    policy.require(actor, "mail.manage")
    if status is not None and status not in OUTBOX_STATUSES:
        raise BadInput(f"status must be one of {', '.join(OUTBOX_STATUSES)}: {status!r}")
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    query = Outbox.select().order_by(Outbox.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Outbox.status == status)
    return [view(row) for row in query]


@writes
def retry(actor: Actor, outbox_id: int) -> OutboxView:
    """Put a failed message back in the queue with a fresh set of attempts (a pending one that
    waits for its next attempt becomes due at once); it goes out with the next delivery."""
    policy.require(actor, "mail.manage")
    row = Outbox.get_or_none(Outbox.id == outbox_id)
    if row is None:
        raise NotFound(f"no message with id {outbox_id}")
    now = clock.now()
    if row.status == "sent":
        raise Refused(f"message {outbox_id} was already sent")
    if row.status == "sending" and row.claimed_until is not None and row.claimed_until > now:
        raise Refused(f"message {outbox_id} is being sent right now")
    attempts = 0 if row.status == "failed" else row.attempts
    changed = (
        Outbox.update(status="pending", attempts=attempts, next_attempt_at=now, claimed_until=None)
        .where((Outbox.id == outbox_id) & (Outbox.status == row.status))
        .execute()
    )
    if changed != 1:
        raise Conflict(f"message {outbox_id} changed meanwhile; look again")
    audit.record(actor, "mail.retry", "outbox", outbox_id, previous_status=row.status, attempts=row.attempts)
    notify.request_delivery()
    return view(Outbox.get_by_id(outbox_id))
