"""Reading the audit trail (admins): newest first, filtered by entity and by who acted."""

from __future__ import annotations

from ..errors import BadInput
from ..store.models import AuditEvent, User
from . import audit, policy
from .actors import Actor
from .tx import reads

MAX_LIMIT = 10_000


@reads
def list_events(
    actor: Actor, *, entity: str | None = None, actor_name: str | None = None, limit: int = 100
) -> list[audit.AuditView]:
    """The newest ``limit`` events, optionally only for one entity kind and/or one actor's username."""
    policy.require(actor, "audit.read")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be 1-{MAX_LIMIT}: {limit}")
    query = AuditEvent.select()
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if actor_name:
        user_id = User.select(User.id).where(User.username == actor_name).scalar()
        # Events of that user, and events recorded under that name with no user ("system",
        # "anonymous", a user since deleted), even when an account now has the name.
        by_name = AuditEvent.actor.is_null() & (AuditEvent.actor_name == actor_name)
        query = query.where(by_name | (AuditEvent.actor == user_id) if user_id is not None else by_name)
    return [audit.view(event) for event in query.order_by(AuditEvent.id.desc()).limit(limit)]
