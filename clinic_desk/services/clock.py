"""The one source of "now" for the domain, so that tests can freeze or move time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(instant: datetime | None) -> None:
    """Freeze the clock at ``instant`` (aware), or unfreeze it with None."""
    global _frozen
    if instant is not None and instant.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _frozen = instant.astimezone(UTC) if instant is not None else None


@contextmanager
def frozen(instant: datetime) -> Iterator[None]:
    previous = _frozen
    set_now(instant)
    try:
        yield
    finally:
        set_now(previous)
