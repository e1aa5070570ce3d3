"""Every service function asks the policy: one row per function (and per way of calling it) x six
roles, each call refused with PermissionDenied exactly when the role may not do it.

tests/test_permissions.py proves the policy table cell by cell; this proves that the services
consult it, with the owner of the very row they act on. The roles are relative to the target:
the target belongs to drgrey (doctor-own) and to Ann (patient-own); drhouse is doctor-other and
Bob, who has a login too, patient-other.

Each call runs inside a transaction that is rolled back, so every role meets the same database.
An allowed role's call must succeed outright (not only "not be denied"): the setup makes each
call possible, so a wrong owner check cannot hide behind a domain refusal.

A public service function that takes an actor (or runs in a transaction) and has no row here,
and no reason in EXEMPT, fails test_every_service_function_has_a_row.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

import pyotp
import pytest

import clinic_desk.services as services_package
from clinic_desk import config
from clinic_desk.errors import PermissionDenied
from clinic_desk.services import (
    accounts,
    audit_log,
    booking,
    clock,
    dashboard,
    doctors,
    ics,
    mailer,
    outbox,
    patients,
    payments,
    queries,
    reminders,
    reports,
    reviews,
    slotgen,
    slotimport,
    slots,
    totp,
    wallet,
)
from clinic_desk.services.actors import Actor
from clinic_desk.store.db import db
from clinic_desk.store.models import Patient, Payment, Review, User
from tests.booking_support import local
from tests.factories import make_appointment, make_slot, make_user
from tests.hardening_support import ADMIN, CLINIC, DESK, DOCTOR, OTHER_DOCTOR, PATIENT_USER, seed_clinic

ROLES = ("admin", "reception", "doctor-own", "doctor-other", "patient-own", "patient-other")
EVERYONE = frozenset(ROLES)
STAFF_TWO_FACTOR = frozenset({"admin", "reception", "doctor-own", "doctor-other"})
TOTP_SECRET = pyotp.random_base32()
DAY = date(2027, 3, 10)


def _roles(text: str) -> frozenset[str]:
    """'A R Do Po' -> the role names (A admin, R reception, Do/Dx doctor own/other, Po/Px patient)."""
    names = {"A": "admin", "R": "reception", "Do": "doctor-own", "Dx": "doctor-other", "Po": "patient-own",
             "Px": "patient-other"}
    return frozenset(names[mark] for mark in text.split())


@dataclass(frozen=True)
class Row:
    """``call(actor)`` is run per role; ``allowed`` are the roles that may."""

    name: str
    function: Callable[..., Any]
    call: Callable[[Actor], Any]
    allowed: frozenset[str]


# -- set-ups that make an allowed call possible (they run inside the rolled-back transaction) ---


def _started_visit() -> int:
    """A confirmed visit of Ann with drgrey that begins now (complete / no-show it); Bob's visit
    with drgrey ends as it starts."""
    slot = make_slot(_doctor(CLINIC.doctor), clock.now())
    return make_appointment(slot, Patient.get_by_id(CLINIC.patient), status="confirmed").id


def _completed_visit() -> int:
    """A completed visit of Ann with drgrey that has no review yet."""
    slot = make_slot(_doctor(CLINIC.doctor), local(2027, 2, 20, 9))
    return make_appointment(slot, Patient.get_by_id(CLINIC.patient), status="completed").id


def _doctor(doctor_id: int):
    from clinic_desk.store.models import Doctor

    return Doctor.get_by_id(doctor_id)


def _paid_visit() -> int:
    """Ann's pending appointment, paid by card (refund it)."""
    Payment.create(appointment=CLINIC.pending_appointment, method="card", amount=8000, status="succeeded",
                   card_last4="4242", created_at=clock.now())
    return CLINIC.pending_appointment


def _approved_review_of_ann() -> int:
    Review.update(status="approved").where(Review.id == CLINIC.pending_review).execute()
    return CLINIC.pending_review


def _totp_waiting(actor: Actor) -> str:
    """Put a two-factor enrolment in waiting for the actor; returns the app's current code."""
    if actor.user_id is not None:
        User.update(totp_secret=TOTP_SECRET, totp_confirmed=False, totp_last_step=None).where(
            User.id == actor.user_id
        ).execute()
    return pyotp.TOTP(TOTP_SECRET).at(clock.now())


CSV = "doctor,date,start,end\ndrgrey,2027-04-05,09:00,09:30\n"

ROWS: list[Row] = [
    # accounts
    Row("add_user", accounts.add_user, lambda a: accounts.add_user(
        a, "newbie", role="reception", email="newbie@example.test", full_name="New Bie"), _roles("A")),
    Row("list_users", accounts.list_users, lambda a: accounts.list_users(a), _roles("A")),
    Row("show_user", accounts.show_user, lambda a: accounts.show_user(a, "staff2"), _roles("A")),
    Row("deactivate", accounts.deactivate, lambda a: accounts.deactivate(a, "staff2"), _roles("A")),
    Row("unlock", accounts.unlock, lambda a: accounts.unlock(a, "staff2"), _roles("A")),
    Row("totp.begin", totp.begin, lambda a: totp.begin(a), STAFF_TWO_FACTOR),
    Row("totp.confirm", totp.confirm, lambda a: totp.confirm(a, _totp_waiting(a)), STAFF_TWO_FACTOR),
    Row("totp.disable own", totp.disable, lambda a: totp.disable(a), STAFF_TWO_FACTOR),
    Row("totp.disable another's", totp.disable, lambda a: totp.disable(a, "staff2"), _roles("A")),
    Row("audit list", audit_log.list_events, lambda a: audit_log.list_events(a), _roles("A")),
    # doctors and patients
    Row("list_doctors", doctors.list_doctors, lambda a: doctors.list_doctors(a), EVERYONE),
    Row("show_doctor", doctors.show_doctor, lambda a: doctors.show_doctor(a, DOCTOR), EVERYONE),
    Row("list_specialties", doctors.list_specialties, lambda a: doctors.list_specialties(a), EVERYONE),
    Row("add_doctor", doctors.add_doctor, lambda a: doctors.add_doctor(
        a, "drnew", full_name="Dr. New", email="drnew@example.test", specialties=["Cardiology"], fee=5000),
        _roles("A")),
    Row("edit_doctor", doctors.edit_doctor, lambda a: doctors.edit_doctor(a, DOCTOR, room="R9"), _roles("A")),
    Row("add_patient", patients.add_patient, lambda a: patients.add_patient(
        a, full_name="Cy New", email="cy@example.test"), _roles("A R")),
    Row("list_patients", patients.list_patients, lambda a: patients.list_patients(a), _roles("A R")),
    Row("show_patient", patients.show_patient, lambda a: patients.show_patient(a, CLINIC.patient), _roles("A R Po")),
    Row("edit_patient", patients.edit_patient, lambda a: patients.edit_patient(a, CLINIC.patient, phone="123 456"),
        _roles("A R Po")),
    # slots
    Row("list_slots", slots.list_slots, lambda a: slots.list_slots(a, DOCTOR), EVERYONE),
    Row("block_slot", slots.block_slot, lambda a: slots.block_slot(a, CLINIC.free_slot), _roles("A R Do")),
    Row("unblock_slot", slots.unblock_slot, lambda a: slots.unblock_slot(a, CLINIC.blocked_slot), _roles("A R Do")),
    Row("delete_slot", slots.delete_slot, lambda a: slots.delete_slot(a, CLINIC.free_slot), _roles("A R Do")),
    Row("slots generate", slotgen.generate, lambda a: slotgen.generate(
        a, DOCTOR, date(2027, 4, 5), date(2027, 4, 6), start=time(9), end=time(10), length=30), _roles("A R Do")),
    Row("slots import", slotimport.import_slots, lambda a: slotimport.import_slots(a, CSV), _roles("A R Do")),
    Row("next_free_slot", queries.next_free_slot, lambda a: queries.next_free_slot(a, "Cardiology", clock.now()),
        EVERYONE),
    Row("month_occupancy", queries.month_occupancy, lambda a: queries.month_occupancy(a, CLINIC.doctor, 2027, 3),
        EVERYONE),
    Row("day_slots", queries.day_slots, lambda a: queries.day_slots(a, CLINIC.doctor, DAY), EVERYONE),
    # booking and the appointment's life
    Row("book", booking.book, lambda a: booking.book(a, CLINIC.patient, CLINIC.free_slot), _roles("A R Po")),
    Row("confirm", booking.confirm, lambda a: booking.confirm(a, CLINIC.pending_appointment), _roles("A R Do")),
    Row("cancel", booking.cancel, lambda a: booking.cancel(a, CLINIC.pending_appointment, "ill"),
        _roles("A R Do Po")),
    Row("cancel by the clinic", booking.cancel,
        lambda a: booking.cancel(a, CLINIC.pending_appointment, "doctor ill", by_clinic=True), _roles("A R Do")),
    Row("complete", booking.complete, lambda a: booking.complete(a, _started_visit()), _roles("A Do")),
    Row("no_show", booking.no_show, lambda a: booking.no_show(a, _started_visit()), _roles("A Do")),
    Row("set_notes", booking.set_notes, lambda a: booking.set_notes(a, CLINIC.pending_appointment, "BP 120/80"),
        _roles("A Do")),
    Row("reschedule", booking.reschedule, lambda a: booking.reschedule(a, CLINIC.pending_appointment, CLINIC.free_slot),
        _roles("A R Po")),
    Row("get_appointment", queries.get_appointment, lambda a: queries.get_appointment(a, CLINIC.pending_appointment),
        _roles("A R Do Po")),
    Row("appointment_history", dashboard.appointment_history,
        lambda a: dashboard.appointment_history(a, CLINIC.pending_appointment), _roles("A R Do Po")),
    # A doctor or patient who names nobody sees their own; naming someone else's is refused.
    Row("list_appointments", queries.list_appointments, lambda a: queries.list_appointments(a), EVERYONE),
    Row("list_appointments of a patient", queries.list_appointments,
        lambda a: queries.list_appointments(a, patient_id=CLINIC.patient), _roles("A R Do Dx Po")),
    Row("list_appointments of a doctor", queries.list_appointments,
        lambda a: queries.list_appointments(a, doctor=DOCTOR), _roles("A R Do Po Px")),
    Row("agenda", queries.agenda, lambda a: queries.agenda(a, DOCTOR, DAY), _roles("A R Do")),
    Row("dashboard", dashboard.today, lambda a: dashboard.today(a), EVERYONE),
    Row("export a doctor's calendar", ics.export_calendar, lambda a: ics.export_calendar(a, doctor=DOCTOR),
        _roles("A R Do")),
    Row("export a patient's calendar", ics.export_calendar,
        lambda a: ics.export_calendar(a, patient_id=CLINIC.patient), _roles("A R Po")),
    # money
    Row("wallet show", wallet.show, lambda a: wallet.show(a, CLINIC.patient), _roles("A R Po")),
    Row("wallet history", wallet.history, lambda a: wallet.history(a, CLINIC.patient), _roles("A R Po")),
    Row("deposit", wallet.deposit, lambda a: wallet.deposit(a, CLINIC.patient, 1000), _roles("A R")),
    Row("withdraw", wallet.withdraw, lambda a: wallet.withdraw(a, CLINIC.patient, 1000), _roles("A R")),
    Row("pay", payments.pay, lambda a: payments.pay(a, CLINIC.pending_appointment, method="wallet"),
        _roles("A R Po")),
    Row("refund", payments.refund, lambda a: payments.refund(a, _paid_visit()), _roles("A R")),
    Row("revenue of a doctor", reports.revenue, lambda a: reports.revenue(a, doctor_username=DOCTOR),
        _roles("A Do")),
    Row("revenue", reports.revenue, lambda a: reports.revenue(a), _roles("A Do Dx")),
    # reviews: everyone may list (each sees what they may); one review is read by its readers only
    Row("list_reviews", reviews.list_reviews, lambda a: reviews.list_reviews(a), EVERYONE),
    Row("show a pending review", reviews.show, lambda a: reviews.show(a, CLINIC.pending_review), _roles("A Po")),
    Row("show an approved review", reviews.show, lambda a: reviews.show(a, _approved_review_of_ann()),
        _roles("A R Do Po")),
    Row("review add", reviews.add, lambda a: reviews.add(a, _completed_visit(), 4, "fine"), _roles("A R Po")),
    Row("approve", reviews.approve, lambda a: reviews.approve(a, CLINIC.pending_review), _roles("A")),
    Row("reject", reviews.reject, lambda a: reviews.reject(a, CLINIC.pending_review, "off topic"), _roles("A")),
    Row("respond", reviews.respond, lambda a: reviews.respond(a, _approved_review_of_ann(), "Thank you"),
        _roles("Do")),
    # mail
    Row("mail log", outbox.mail_log, lambda a: outbox.mail_log(a), _roles("A R")),
    Row("mail retry", outbox.retry, lambda a: outbox.retry(a, CLINIC.failed_mail), _roles("A R")),
    Row("mail send", mailer.deliver_due, lambda a: mailer.deliver_due(actor=a), _roles("A R")),
    Row("reminders", reminders.queue_reminders, lambda a: reminders.queue_reminders(a), _roles("A R")),
]

# Public service functions with no row, and why.
EXEMPT: dict[str, str] = {
    "accounts.start_session": "starts a session for the actor that authenticate() has just proved",
    "accounts.actor_for_session": "turns a session token into its actor; no actor exists yet",
    "accounts.end_session": "whoever holds the token may end its session (logout)",
    "accounts.admin_exists": "the bootstrap question asked before anyone can log in",
    "audit.record": "the audit primitive, called by services after they asked the policy",
    "dashboard.ping": "the outage banner's liveness probe (SELECT 1), no data",
    "onetime.issue": "stores a code inside accounts.add_user / request_code, which decide who may",
    "payments.refund_on_cancel": "runs inside booking.cancel, which asked appointment.cancel",
    "policy.allowed": "the policy itself",
    "policy.require": "the policy itself",
    "queries.appointment_view": "shapes a row for the actor (hides notes from patients); callers ask",
    "queries.load_appointment": "loads for a caller that asks the policy with the loaded owners",
    "reviews.doctor_rating": "a doctor's public average, shown to everyone who may read doctors",
    "schema.schema_status": "schema upkeep: run by whoever holds the database credentials",
    "slots.slot_view": "shapes a row for the actor (hides other patients' names); callers ask",
    "slots.slots_between": "the query behind list_slots and day_slots, which ask slot.read",
    "wallet.credit": "money primitive inside a @writes service that asked the policy",
    "wallet.debit": "money primitive inside a @writes service that asked the policy",
}


def service_functions() -> dict[str, Callable[..., Any]]:
    """Public functions of the services that run in a transaction (@reads/@writes) or take an actor."""
    found = {}
    for info in pkgutil.iter_modules(services_package.__path__):
        module = importlib.import_module(f"{services_package.__name__}.{info.name}")
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            transactional = hasattr(function, "__wrapped__") and function.__code__.co_filename.endswith("tx.py")
            if transactional or "actor" in inspect.signature(function).parameters:
                found[f"{info.name}.{name}"] = function
    return found


def test_every_service_function_has_a_row():
    listed = {row.function for row in ROWS}
    missing = [name for name, function in service_functions().items() if function not in listed and name not in EXEMPT]
    assert not missing, f"service functions with no permission row (add one to ROWS, or a reason to EXEMPT): {missing}"
    stale = [name for name in EXEMPT if name not in service_functions()]
    assert not stale, f"EXEMPT names functions that are gone: {stale}"


@pytest.fixture
def actors(db, frozen_clock) -> dict[str, Actor]:
    seed_clinic()
    bob = make_user("patient", "bob", full_name="Bob Other")
    Patient.update(user=bob).where(Patient.id == CLINIC.other_patient).execute()
    make_user("reception", "staff2")
    # `mail send` needs a server to aim at; nothing is due, so it never connects.
    current = config.current()
    config.use(replace(current, smtp=replace(current.smtp, host="127.0.0.1", port=9)))
    by_name = {
        "admin": ADMIN, "reception": DESK, "doctor-own": DOCTOR, "doctor-other": OTHER_DOCTOR,
        "patient-own": PATIENT_USER, "patient-other": "bob",
    }
    return {role: accounts.actor_for_user(User.get(User.username == name)) for role, name in by_name.items()}


def _outcome(row: Row, actor: Actor) -> str:
    """'allowed', 'denied', or what else went wrong; the database is rolled back either way."""
    with db.atomic() as transaction:
        try:
            row.call(actor)
            return "allowed"
        except PermissionDenied:
            return "denied"
        except Exception as exc:  # noqa: BLE001 - reported as the cell's outcome
            return f"{type(exc).__name__}: {exc}"
        finally:
            transaction.rollback()


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_role_is_allowed_or_denied(row, actors):
    assert set(row.allowed) <= EVERYONE
    outcomes = {role: _outcome(row, actors[role]) for role in ROLES}
    expected = {role: "allowed" if role in row.allowed else "denied" for role in ROLES}
    assert outcomes == expected


def test_the_roles_are_who_the_rows_say(actors):
    assert actors["doctor-own"].doctor_id == CLINIC.doctor
    assert actors["doctor-other"].doctor_id == CLINIC.other_doctor
    assert actors["patient-own"].patient_id == CLINIC.patient
    assert actors["patient-other"].patient_id == CLINIC.other_patient
    assert datetime(2027, 3, 10) > clock.now().replace(tzinfo=None)  # the pending visit is still ahead
