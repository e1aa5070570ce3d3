"""Patients: register, search, show, edit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..errors import BadInput, NotFound
from ..store.models import Patient
from . import audit, clock, policy
from .actors import Actor
from .contact import clean_email, clean_name, clean_phone
from .tx import reads, writes

DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class PatientView:
    id: int
    full_name: str
    email: str
    phone: str
    date_of_birth: date | None
    reminders: bool  # False when the patient opted out of reminder mail
    user_id: int | None


def _view(patient: Patient) -> PatientView:
    return PatientView(
        id=patient.id,
        full_name=patient.full_name,
        email=patient.email,
        phone=patient.phone,
        date_of_birth=patient.date_of_birth,
        reminders=not patient.reminders_opt_out,
        user_id=patient.user_id,
    )


def find_patient(patient_id: int) -> Patient:
    patient = Patient.get_or_none(Patient.id == patient_id)
    if patient is None:
        raise NotFound(f"unknown patient {patient_id}")
    return patient


@writes
def add_patient(
    actor: Actor, *, full_name: str, email: str, phone: str = "", date_of_birth: date | None = None
) -> PatientView:
    policy.require(actor, "patient.create")
    patient = Patient.create(
        full_name=clean_name(full_name),
        email=clean_email(email),
        phone=clean_phone(phone),
        date_of_birth=date_of_birth,
        created_at=clock.now(),
    )
    audit.record(actor, "patient.add", "patient", patient.id)
    return _view(patient)


@reads
def list_patients(actor: Actor, *, search: str | None = None, limit: int = DEFAULT_LIMIT) -> list[PatientView]:
    """Patients whose name, e-mail or phone contains ``search`` (literally: % and _ are just characters)."""
    policy.require(actor, "patient.list")
    if limit < 1:
        raise BadInput("--limit must be at least 1")
    query = Patient.select()
    text = (search or "").strip()
    if text:
        query = query.where(
            Patient.full_name.contains(text) | Patient.email.contains(text) | Patient.phone.contains(text)
        )
    return [_view(p) for p in query.order_by(Patient.full_name, Patient.id).limit(limit)]


@reads
def show_patient(actor: Actor, patient_id: int) -> PatientView:
    policy.require(actor, "patient.read", patient_id=patient_id)
    return _view(find_patient(patient_id))


@writes
def edit_patient(
    actor: Actor,
    patient_id: int,
    *,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    date_of_birth: date | None = None,
    reminders: bool | None = None,
) -> PatientView:
    policy.require(actor, "patient.edit", patient_id=patient_id)
    patient = find_patient(patient_id)
    changes: dict[str, object] = {}
    if full_name is not None:
        changes["full_name"] = clean_name(full_name)
    if email is not None:
        changes["email"] = clean_email(email)
    if phone is not None:
        changes["phone"] = clean_phone(phone)
    if date_of_birth is not None:
        changes["date_of_birth"] = date_of_birth
    if reminders is not None:
        changes["reminders_opt_out"] = not reminders
    if not changes:
        raise BadInput("nothing to change: give at least one option (see --help)")
    Patient.update(**changes).where(Patient.id == patient.id).execute()
    if reminders is False:
        from .notify import withdraw_reminders  # mail templates load only where mail is made

        withdraw_reminders(patient_id=patient.id)
    audit.record(actor, "patient.edit", "patient", patient.id, fields=sorted(changes))
    return _view(find_patient(patient_id))
