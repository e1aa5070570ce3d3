"""The permission matrix (services/policy.py), cell by cell, and how the CLI shows a refusal.

The expected table is the issue's matrix written out independently of the policy module:
admin everything; reception patients, booking for anyone, payments, wallet deposits, every
schedule, slot block/unblock; doctor their own schedule, appointments (complete, no-show,
notes), slots, responses to reviews of themselves, revenue; patient their own appointments,
booking for themselves, paying from their own wallet, reviews of their own visits.
"""

from __future__ import annotations

import pytest

from clinic_desk.errors import PermissionDenied
from clinic_desk.services import accounts, policy
from clinic_desk.services.actors import SYSTEM
from tests.factories import login_env, make_doctor, make_patient, make_user

# Who may, besides admin (who may everything):
#   R  reception, whoever owns the thing      S  the system actor (cron work)
#   D  a doctor, for what is their own        D* a doctor, whoever owns it
#   P  a patient, for what is their own       P* a patient, whoever owns it
EXPECTED: dict[str, str] = {
    "user.manage": "",
    "user.list": "",
    "account.two_factor": "R D*",
    "audit.read": "",
    "doctor.manage": "",
    "doctor.read": "R D* P*",
    "patient.create": "R",
    "patient.read": "R P",
    "patient.edit": "R P",
    "patient.list": "R",
    "slot.read": "R D* P*",
    "slot.manage": "R D",
    "slot.block": "R D",
    "appointment.book": "R P",
    "appointment.read": "R D P",
    "appointment.list": "R D P",
    "appointment.confirm": "R D",
    "appointment.cancel": "R D P",
    "appointment.cancel_by_clinic": "R D",
    "appointment.reschedule": "R P",
    "appointment.complete": "D",
    "appointment.notes": "D",
    "wallet.read": "R P",
    "wallet.deposit": "R",
    "wallet.withdraw": "R",
    "payment.take": "R P",
    "payment.refund": "R",
    "report.revenue": "D",
    "review.write": "R P",
    "review.read_all": "",
    "review.moderate": "",
    "review.respond": "D",
    "mail.manage": "R S",
}

ROLES = ("admin", "reception", "doctor", "patient", "system")
OWNERS = ("own", "other")


def expected(permission: str, role: str, owner: str) -> bool:
    marks = EXPECTED[permission].split()
    if role == "admin":
        return True
    if role == "reception":
        return "R" in marks
    if role == "system":
        return "S" in marks
    letter = role[0].upper()  # D or P
    return f"{letter}*" in marks or (owner == "own" and letter in marks)


@pytest.fixture
def people(db):
    """Real users (doctor and patient with their records) on the backend under test."""
    doctor, other_doctor = make_doctor("drgrey"), make_doctor("drhouse")
    patient_user = make_user("patient", "ann")
    patient, other_patient = make_patient(user=patient_user), make_patient()
    return {
        "actors": {
            "admin": accounts.actor_for_user(make_user("admin", "admin1")),
            "reception": accounts.actor_for_user(make_user("reception", "desk1")),
            "doctor": accounts.actor_for_user(doctor.user),
            "patient": accounts.actor_for_user(patient_user),
            "system": SYSTEM,
        },
        "own": {"doctor_id": doctor.id, "patient_id": patient.id},
        "other": {"doctor_id": other_doctor.id, "patient_id": other_patient.id},
    }


def test_every_permission_has_a_row_in_the_expected_matrix():
    assert set(policy.RULES) == set(EXPECTED)


def test_every_cell_of_the_matrix(people):
    assert people["actors"]["doctor"].doctor_id == people["own"]["doctor_id"]
    assert people["actors"]["patient"].patient_id == people["own"]["patient_id"]
    wrong = []
    cells = 0
    for permission in sorted(EXPECTED):
        for role in ROLES:
            actor = people["actors"][role]
            for owner in OWNERS:
                cells += 1
                want = expected(permission, role, owner)
                got = policy.allowed(actor, permission, **people[owner])
                if got != want:
                    wrong.append(f"{permission} {role}/{owner}: {'allowed' if got else 'refused'}, want the opposite")
                try:
                    policy.require(actor, permission, **people[owner])
                    required = True
                except PermissionDenied as refusal:
                    required = False
                    assert refusal.message == f"permission denied: {policy.RULES[permission][1]}"
                    assert refusal.exit_code == 1
                assert required == got, f"require and allowed disagree on {permission} {role}/{owner}"
    assert not wrong, "\n".join(wrong)
    assert cells == len(EXPECTED) * len(ROLES) * len(OWNERS)


def test_a_doctor_or_patient_without_a_record_owns_nothing(db):
    doctor_user = accounts.actor_for_user(make_user("doctor", "drnew"))
    patient_user = accounts.actor_for_user(make_user("patient", "bob"))
    assert doctor_user.doctor_id is None and patient_user.patient_id is None
    assert not policy.allowed(doctor_user, "slot.manage", doctor_id=None)
    assert not policy.allowed(patient_user, "appointment.book", patient_id=None)


# -- the CLI shows a refusal as one line, exit 1 ----------------------------------------------


@pytest.mark.parametrize(
    ("role", "args", "message"),
    [
        ("reception", ("user", "add", "x1", "--role", "reception", "--email", "x1@example.test", "--name", "X"),
         "permission denied: only an admin manages users"),
        ("reception", ("user", "list"), "permission denied: only an admin lists users"),
        ("doctor", ("user", "unlock", "admin1"), "permission denied: only an admin manages users"),
        ("doctor", ("user", "deactivate", "admin1"), "permission denied: only an admin manages users"),
        ("doctor", ("audit", "list"), "permission denied: only an admin reads the audit log"),
        ("patient", ("user", "totp", "enable"), "permission denied: two-factor codes are for staff accounts"),
        ("reception", ("user", "totp", "disable", "--user", "admin1"), "permission denied: only an admin manages users"),
    ],
)
def test_a_refusal_exits_1_with_permission_denied(cli, role, args, message):
    make_user("admin", "admin1")
    make_user(role, "someone")
    result = cli(*args, env=login_env("someone"))
    assert (result.code, result.out, result.err) == (1, "", f"error: {message}\n")
