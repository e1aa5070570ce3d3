"""Who may do what: the one place that decides. Every service function asks ``require``.

A rule gets the actor and the owner of the thing acted on (the doctor's id, the patient's id)
and says yes or no. Admin may do everything; the system actor (cron work) only what is listed.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import PermissionDenied
from .actors import Actor

Rule = Callable[[Actor, int | None, int | None], bool]


def _roles(*roles: str) -> Rule:
    return lambda actor, doctor_id, patient_id: actor.role in roles


def _own_doctor(actor: Actor, doctor_id: int | None, patient_id: int | None) -> bool:
    return actor.role == "doctor" and actor.doctor_id is not None and actor.doctor_id == doctor_id


def _own_patient(actor: Actor, doctor_id: int | None, patient_id: int | None) -> bool:
    return actor.role == "patient" and actor.patient_id is not None and actor.patient_id == patient_id


def _any(*rules: Rule) -> Rule:
    return lambda actor, doctor_id, patient_id: any(rule(actor, doctor_id, patient_id) for rule in rules)


_STAFF_DESK = _roles("reception")
_ANY_STAFF = _roles("reception", "doctor")

# permission -> (rule, what the refusal says)
RULES: dict[str, tuple[Rule, str]] = {
    # accounts
    "user.manage": (_roles(), "only an admin manages users"),
    "user.list": (_roles(), "only an admin lists users"),
    "account.two_factor": (_ANY_STAFF, "two-factor codes are for staff accounts"),
    "audit.read": (_roles(), "only an admin reads the audit log"),
    # doctors and patients
    "doctor.manage": (_roles(), "only an admin adds or edits doctors"),
    "doctor.read": (_roles("reception", "doctor", "patient"), "reading doctors"),
    "patient.create": (_STAFF_DESK, "only reception registers patients"),
    "patient.read": (_any(_STAFF_DESK, _own_patient), "reading this patient"),
    "patient.edit": (_any(_STAFF_DESK, _own_patient), "editing this patient"),
    "patient.list": (_STAFF_DESK, "listing patients"),
    # schedules
    "slot.read": (_roles("reception", "doctor", "patient"), "reading slots"),
    "slot.manage": (_any(_STAFF_DESK, _own_doctor), "managing this doctor's slots"),
    "slot.block": (_any(_STAFF_DESK, _own_doctor), "blocking this doctor's slots"),
    # appointments
    "appointment.book": (_any(_STAFF_DESK, _own_patient), "booking for this patient"),
    "appointment.read": (_any(_STAFF_DESK, _own_doctor, _own_patient), "reading this appointment"),
    "appointment.list": (_any(_STAFF_DESK, _own_doctor, _own_patient), "listing these appointments"),
    "appointment.confirm": (_any(_STAFF_DESK, _own_doctor), "confirming this appointment"),
    "appointment.cancel": (_any(_STAFF_DESK, _own_doctor, _own_patient), "cancelling this appointment"),
    "appointment.cancel_by_clinic": (_any(_STAFF_DESK, _own_doctor), "cancelling on the clinic's behalf"),
    "appointment.reschedule": (_any(_STAFF_DESK, _own_patient), "rescheduling this appointment"),
    "appointment.complete": (_own_doctor, "completing this visit (its doctor does)"),
    "appointment.notes": (_own_doctor, "writing notes on this visit (its doctor does)"),
    # money
    "wallet.read": (_any(_STAFF_DESK, _own_patient), "reading this wallet"),
    "wallet.deposit": (_STAFF_DESK, "only reception takes deposits"),
    "wallet.withdraw": (_STAFF_DESK, "only staff at the desk pay out"),
    "payment.take": (_any(_STAFF_DESK, _own_patient), "paying this appointment"),
    "payment.refund": (_STAFF_DESK, "only staff at the desk refund"),
    "report.revenue": (_own_doctor, "reading revenue (a doctor reads their own)"),
    # reviews
    "review.write": (_any(_STAFF_DESK, _own_patient), "reviewing this visit"),
    "review.read_all": (_roles(), "reading reviews that are not approved"),
    "review.moderate": (_roles(), "only an admin moderates reviews"),
    "review.respond": (_own_doctor, "responding to this review (the reviewed doctor does)"),
    # mail
    "mail.manage": (_roles("reception", "system"), "managing the outbox"),
}


def allowed(actor: Actor, permission: str, *, doctor_id: int | None = None, patient_id: int | None = None) -> bool:
    rule, _ = RULES[permission]
    return actor.role == "admin" or rule(actor, doctor_id, patient_id)


def require(actor: Actor, permission: str, *, doctor_id: int | None = None, patient_id: int | None = None) -> None:
    """Raise PermissionDenied (exit 1) unless ``actor`` may do ``permission`` to that owner."""
    if not allowed(actor, permission, doctor_id=doctor_id, patient_id=patient_id):
        raise PermissionDenied(RULES[permission][1])
