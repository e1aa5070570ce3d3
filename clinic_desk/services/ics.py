"""Calendars (RFC 5545) built with the icalendar library: mailed invitations and ``export ics``.

Every appointment is one event with a UID that never changes (``appointment-<id>@<clinic host>``),
so a calendar that took the invitation moves the event on a reschedule (a new METHOD:REQUEST) and
removes it on a cancellation (METHOD:CANCEL), each with a higher SEQUENCE
(``Appointment.ics_sequence``, bumped by ``notify.appointment_event``). Times carry the clinic's
TZID with its VTIMEZONE, or are plain UTC when the clinic keeps UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Literal

from .. import config
from ..errors import BadInput, NotFound
from ..store.models import Appointment, Doctor, Patient, User
from . import clock, policy
from .actors import Actor
from .controls import CONTROL_BUT_LAYOUT
from .timeutil import local_day_bounds
from .tx import reads

if TYPE_CHECKING:  # icalendar is imported where a calendar is built: notify's queries stay light
    from icalendar import Event, Timezone

PRODID = "-//clinic-desk//clinic-desk//EN"
View = Literal["patient", "doctor"]
_STATUS = {"pending": "TENTATIVE", "cancelled": "CANCELLED"}  # everything else is CONFIRMED
# RFC 5545 allows no control characters in TEXT but tab (newlines are escaped): none from a name
# or a reason reaches a calendar, or the terminal that `export ics` prints it on.


def _text(value: str) -> str:
    return CONTROL_BUT_LAYOUT.sub("", value)


def clinic_host() -> str:
    """The domain part of the clinic's sender address: what makes the UIDs globally unique."""
    return config.current().smtp.sender_address.rpartition("@")[2] or "clinic-desk.invalid"


def appointment_uid(appointment_id: int) -> str:
    return f"appointment-{appointment_id}@{clinic_host()}"


def appointment_rows(*conditions) -> list[Appointment]:
    """Appointments with their patient, doctor and the doctor's user, in one query, by start."""
    return list(
        Appointment.select(Appointment, Patient, Doctor, User)
        .join(Patient, on=(Appointment.patient == Patient.id))
        .switch(Appointment)
        .join(Doctor, on=(Appointment.doctor == Doctor.id))
        .join(User, on=(Doctor.user == User.id))
        .where(*conditions)
        .order_by(Appointment.starts_at, Appointment.id)
    )


# -- mailed invitations -----------------------------------------------------------


def invitation(appointment: Appointment, method: Literal["REQUEST", "CANCEL"]) -> str:
    """The .ics a patient's mail carries: the appointment as an invitation or its cancellation.

    ``appointment`` comes from ``appointment_rows`` (patient, doctor and user joined).
    """
    from icalendar import vCalAddress

    settings = config.current()
    event = _event(appointment, view="patient")
    if method == "CANCEL":
        event["STATUS"] = "CANCELLED"
    organizer = vCalAddress(f"mailto:{settings.smtp.sender_address}")
    organizer.params["CN"] = settings.clinic.name
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{appointment.patient.email}")
    attendee.params.update(
        {"CN": _text(appointment.patient.full_name), "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
    )
    event.add("attendee", attendee)
    return _calendar([event], method=method)


# -- export -----------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarExport:
    text: str
    events: int


@reads
def export_calendar(
    actor: Actor,
    *,
    doctor: str | None = None,
    patient_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
) -> CalendarExport:
    """One doctor's or one patient's appointments (not cancelled) as a calendar.

    ``first``/``last`` are clinic-local days, both included; either may be open.
    A doctor exports their own, a patient their own, reception and admin anyone's.
    """
    if (doctor is None) == (patient_id is None):
        raise BadInput("give exactly one of --doctor or --patient")
    if first and last and last < first:
        raise BadInput(f"the range ends ({last}) before it starts ({first})")
    conditions = [Appointment.status != "cancelled"]
    view: View
    if doctor is not None:
        found = Doctor.select(Doctor.id).join(User).where(User.username == doctor).first()
        if found is None:
            raise NotFound(f"no doctor with username {doctor!r}")
        policy.require(actor, "appointment.list", doctor_id=found.id)
        conditions.append(Appointment.doctor == found.id)
        title, view = doctor, "doctor"
    else:
        policy.require(actor, "appointment.list", patient_id=patient_id)
        patient = Patient.get_or_none(Patient.id == patient_id)
        if patient is None:
            raise NotFound(f"no patient with id {patient_id}")
        conditions.append(Appointment.patient == patient.id)
        title, view = patient.full_name, "patient"
    if first:
        conditions.append(Appointment.starts_at >= local_day_bounds(first)[0])
    if last:
        conditions.append(Appointment.starts_at < local_day_bounds(last)[1])
    rows = appointment_rows(*conditions)
    events = [_event(row, view=view) for row in rows]
    name = f"{config.current().clinic.name}: {title}"
    return CalendarExport(text=_calendar(events, name=name), events=len(events))


# -- building blocks -------------------------------------------------------------


def _event(appointment: Appointment, *, view: View) -> Event:
    from icalendar import Event

    tz = config.current().clinic.tz
    patient_name = _text(appointment.patient.full_name)
    doctor_name = _text(appointment.doctor.user.full_name)
    event = Event()
    event.add("uid", appointment_uid(appointment.id))
    event.add("sequence", appointment.ics_sequence)
    event.add("dtstamp", clock.now())
    event.add("last-modified", appointment.updated_at)
    event.add("dtstart", _calendar_time(appointment.starts_at, tz))
    event.add("dtend", _calendar_time(appointment.ends_at, tz))
    event.add("summary", f"Appointment: {patient_name}" if view == "doctor" else f"Appointment with {doctor_name}")
    if appointment.doctor.room:
        event.add("location", _text(appointment.doctor.room))
    if appointment.reason:
        event.add("description", _text(appointment.reason))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    return event


def _calendar_time(moment: datetime, tz: tzinfo) -> datetime:
    """The clinic's wall-clock time, or UTC where the wall clock is ambiguous: RFC 5545 reads a
    local time that happens twice (the hour the clocks go back) as the first of the two."""
    local = moment.astimezone(tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def _calendar(events: Sequence[Event], *, method: str | None = None, name: str | None = None) -> str:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", _text(name))
    for event in events:
        calendar.add_component(event)
    missing = calendar.get_missing_tzids()  # empty when the clinic keeps UTC: times are then written ...Z
    if missing:
        first_year = min(event.decoded("dtstart") for event in events).year
        last_year = max(event.decoded("dtend") for event in events).year
        start, end = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 2, tzinfo=UTC)
        for tzid in missing:
            calendar.subcomponents.insert(0, vtimezone(config.current().clinic.tz, tzid, start, end))
    return calendar.to_ical().decode("utf-8")


def offset_changes(tz: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) for each change of ``tz``'s UTC offset in [start, end)."""
    changes = []
    day = timedelta(days=1)
    left = start
    while left < end:
        right = min(left + day, end)
        before, after = left.astimezone(tz).utcoffset(), right.astimezone(tz).utcoffset()
        if before != after:
            low, high = int(left.timestamp()), int(right.timestamp())
            while high - low > 1:  # the first whole second of the new offset
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            changes.append((datetime.fromtimestamp(high, UTC), before, after))
        left = right
    return changes


def vtimezone(tz: tzinfo, tzid: str, start: datetime, end: datetime) -> Timezone:
    """A VTIMEZONE for ``tz`` valid from ``start`` to ``end`` (UTC instants).

    Each onset is written in the offset in force before it, as RFC 5545 says (02:00 for the
    spring change in Europe/Berlin); icalendar's ``Timezone.from_tzinfo`` writes the spring
    onset in the new offset (03:00), an hour late for a client that reads the VTIMEZONE.
    """
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    component = Timezone()
    component.add("tzid", tzid)
    first = start.astimezone(tz)
    onsets: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = defaultdict(list)
    onsets[(first.utcoffset(), first.utcoffset(), first.tzname() or "", bool(first.dst()))].append(
        first.replace(tzinfo=None)
    )
    for instant, before, after in offset_changes(tz, start, end):
        local = instant.astimezone(tz)
        onsets[(before, after, local.tzname() or "", bool(local.dst()))].append(
            instant.astimezone(timezone(before)).replace(tzinfo=None)
        )
    for (before, after, name, is_dst), starts in onsets.items():
        observance = TimezoneDaylight() if is_dst else TimezoneStandard()
        observance.add("dtstart", starts[0])
        if starts[1:]:
            observance.add("rdate", starts[1:])
        observance.add("tzoffsetfrom", before)
        observance.add("tzoffsetto", after)
        if name:
            observance.add("tzname", name)
        component.add_component(observance)
    return component
