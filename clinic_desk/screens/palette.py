"""ctrl+p: jump to any doctor, patient or appointment by name or number.

The lookups run in a thread worker (the palette's search is async on the event loop, and the
event loop never waits on the database); each hit opens the right screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from ..errors import ClinicError
from ..services import doctors, patients, policy, queries, timeutil
from ..services.actors import Actor
from ..widgets.literal import literal_str
from . import navigation, opening
from .base import as_clinic_error, close_thread_connection

LIMIT = 8


@dataclass(frozen=True)
class Target:
    kind: str  # doctor | patient | appointment
    id: int
    label: str
    detail: str


def lookup(actor: Actor, text: str) -> list[Target]:
    """Doctors and patients whose name contains ``text``; an appointment by its number."""
    found: list[Target] = []
    number = text.strip().lstrip("#")
    if number.isdigit() and policy.allowed(actor, "appointment.read"):
        found += _appointment(actor, int(number))
    if policy.allowed(actor, "doctor.read"):
        for doctor in doctors.list_doctors(actor, search=text)[:LIMIT]:
            found.append(Target("doctor", doctor.id, doctor.full_name, ", ".join(doctor.specialties) or "doctor"))
    if policy.allowed(actor, "patient.list"):
        for patient in patients.list_patients(actor, search=text, limit=LIMIT):
            found.append(Target("patient", patient.id, patient.full_name, f"patient #{patient.id} · {patient.email}"))
    return found


def _appointment(actor: Actor, appointment_id: int) -> list[Target]:
    try:
        view = queries.get_appointment(actor, appointment_id)
    except ClinicError:
        return []
    when = timeutil.to_local(view.starts_at)
    return [Target("appointment", view.id, f"Appointment #{view.id}", f"{when:%a %d %b %H:%M} · {view.patient_name} · {view.status}")]


def highlighted(matcher: Matcher, label: str) -> Content:
    """``label`` with the letters the query matched highlighted; a name is data, never markup
    (``Matcher.highlight`` would read it as markup)."""
    content = Content(label)
    score, offsets = matcher.fuzzy_search.match(matcher.query, label)
    for offset in offsets if score else ():
        if not label[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class JumpProvider(Provider):
    """Doctors, patients and appointments, found as you type."""

    async def discover(self) -> Hits:
        actor = self.app.actor  # type: ignore[attr-defined]
        for key, mode, label in navigation.entries(actor):
            yield DiscoveryHit(
                f"{label} ({key.upper()})", partial(self.app.action_go, mode), help="Switch to this screen"  # type: ignore[attr-defined]
            )

    async def search(self, query: str) -> Hits:
        actor: Actor | None = self.app.actor  # type: ignore[attr-defined]
        if actor is None or not query.strip():
            return
        matcher = self.matcher(query)
        for target in await self._lookup(actor, query.strip()):
            shown = literal_str(target.label)
            score = matcher.match(shown) or (1.0 if target.kind == "appointment" else 0.5)
            yield Hit(
                score,
                highlighted(matcher, shown),
                partial(opening.open_target, self.app, target.kind, target.id),
                text=shown,
                help=escape(literal_str(target.detail)),  # the palette reads help as markup
            )

    async def _lookup(self, actor: Actor, query: str) -> list[Target]:
        def job() -> list[Target]:
            try:
                return lookup(actor, query)
            except Exception as exc:  # noqa: BLE001 - the palette shows no hits; a bug is logged
                close_thread_connection()
                as_clinic_error(exc)
                return []

        worker = self.app.run_worker(job, thread=True, group="palette", exit_on_error=False)
        await worker.wait()
        return worker.result or []
