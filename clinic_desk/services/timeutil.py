"""Clinic-local time at the edges, UTC inside: parsing dates and times people type."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .. import config
from ..errors import BadInput

# The dates a clinic works with; outside them date arithmetic would overflow (year 1, year 9999).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)


def clinic_tz() -> ZoneInfo:
    return config.current().clinic.tz


def to_local(instant: datetime) -> datetime:
    return instant.astimezone(clinic_tz())


def iso_local(instant: datetime | None) -> str | None:
    """ISO 8601 with the clinic's UTC offset, as the JSON contract wants."""
    return to_local(instant).isoformat() if instant is not None else None


def parse_date(text: str, *, what: str = "date") -> date:
    cleaned = str(text).strip().lower()
    if cleaned == "today":
        from . import clock

        return to_local(clock.now()).date()
    if cleaned == "tomorrow":
        from . import clock

        return to_local(clock.now()).date() + timedelta(days=1)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        raise BadInput(f"{what} must be YYYY-MM-DD: {text!r}")
    try:
        parsed = date.fromisoformat(cleaned)
    except ValueError:
        raise BadInput(f"{what} is not a real date: {text!r}") from None
    if not FIRST_DATE <= parsed <= LAST_DATE:
        raise BadInput(f"{what} must be between {FIRST_DATE} and {LAST_DATE}: {text!r}")
    return parsed


def parse_hhmm(text: str, *, what: str = "time") -> time:
    cleaned = str(text).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", cleaned)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise BadInput(f"{what} must be HH:MM (00:00-23:59): {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the clinic's local ``day`` starts and the next one starts."""
    tz = clinic_tz()
    try:
        start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    except OverflowError:
        raise BadInput(f"date out of range: {day}") from None
    return start, end


def local_range_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC bounds covering the local days ``first`` .. ``last`` inclusive."""
    if last < first:
        raise BadInput(f"the range ends ({last}) before it starts ({first})")
    return local_day_bounds(first)[0], local_day_bounds(last)[1]
