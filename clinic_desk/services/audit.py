"""The audit trail: every state change writes one AuditEvent in its own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..store.models import AuditEvent
from . import clock
from .actors import Actor

# Keys whose values never reach the audit log, whatever a caller passes.
_SECRET_WORDS = ("password", "token", "code", "secret", "card_number", "totp")


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: ("[redacted]" if any(word in key.lower() for word in _SECRET_WORDS) else value)
        for key, value in details.items()
    }


def record(actor: Actor, action: str, entity: str, entity_id: int | None, **details: Any) -> AuditEvent:
    """Write the event; call it inside the service's transaction."""
    return AuditEvent.create(
        actor=actor.user_id,
        actor_name=actor.username,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=json.dumps(_scrub(details), default=str, sort_keys=True),
        at=clock.now(),
    )


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    details: dict[str, Any]


def view(event: AuditEvent) -> AuditView:
    return AuditView(
        id=event.id,
        at=event.at,
        actor=event.actor_name,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        details=json.loads(event.details or "{}"),
    )
