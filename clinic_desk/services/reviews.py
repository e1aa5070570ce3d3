"""Reviews of completed visits: write, moderate, respond; each doctor's rating aggregate.

- A patient (or reception/admin on the patient's behalf) reviews a *completed* visit, once: the
  unique index on ``review.appointment_id`` is the proof, not a check before the insert.
- New reviews are pending. Only an admin approves or rejects (with a reason); a decision may be
  changed later (approved -> rejected, rejected -> approved).
- ``Doctor.rating_count`` / ``Doctor.rating_total`` hold the aggregate of *approved* reviews. Every
  moderation moves the review's status with a compare-and-set UPDATE and applies the difference with
  relative SQL (``rating_count = rating_count + 1``) in the same transaction, so concurrent desks
  never lose or double an update.
- Who sees what: an admin every review; a patient their own reviews in any state; a doctor the
  approved reviews of themselves; reception the approved reviews (the desk answers questions).
- The reviewed doctor, in person, responds to an approved review (again to edit it); the patient
  is mailed through the Outbox in the same transaction.
- Free text (comment, response, reason) is stored without control characters or terminal escape
  sequences, so it cannot repaint a terminal or a TUI that shows it later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from peewee import Expression, IntegrityError

from ..errors import BadInput, Conflict, NotFound, PermissionDenied, Refused
from ..store.models import REVIEW_STATUSES, Appointment, Doctor, Patient, Review, User
from . import audit, clock, notify, policy
from .actors import Actor
from .doctors import average
from .timeutil import to_local
from .tx import reads, writes

COMMENT_MAX = 2000
RESPONSE_MAX = 2000
REASON_MAX = 500
RATING_MIN, RATING_MAX = 1, 5

# -- free text ----------------------------------------------------------------

_ESCAPE_SEQUENCES = re.compile(
    r"""
      (?:\x1b\[|\x9b) [0-?]* [ -/]* [@-~]                           # CSI ... final byte (colours, cursor)
    | (?:\x1b\]|\x9d) [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)         # OSC ... BEL or ST (titles, links)
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]) [^\x1b\x9c]* (?:\x1b\\|\x9c) # DCS, SOS, PM, APC ... ST
    | \x1b [ -/]* [0-~]                                             # two-byte escapes (ESC c resets)
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # C0 but newline, DEL, C1


def clean_text(text: str) -> str:
    """``text`` without terminal escape sequences or control characters (newlines kept, tabs as spaces)."""
    text = text.replace("\r\n", "\n").replace("\t", " ")
    text = _ESCAPE_SEQUENCES.sub("", text)
    return _CONTROLS.sub("", text).strip()


def _clean_limited(text: str | None, limit: int, what: str) -> str:
    cleaned = clean_text(text or "")
    if len(cleaned) > limit:
        raise BadInput(f"{what} is {len(cleaned)} characters long; at most {limit} are allowed")
    return cleaned


def parse_rating(value: object) -> int:
    """A rating as a user types it ("4") or an int; anything but a whole number 1..5 -> BadInput."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r"-?\d{1,9}", text):
            raise BadInput(f"rating must be a whole number from {RATING_MIN} to {RATING_MAX}, not {str(value)!r}")
        number = int(text)
    if not RATING_MIN <= number <= RATING_MAX:
        raise BadInput(f"rating must be from {RATING_MIN} to {RATING_MAX}, not {number}")
    return number


# -- views --------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewView:
    id: int
    appointment_id: int
    visit_at: datetime
    doctor: str  # the doctor's username
    doctor_name: str
    patient_id: int
    patient_name: str
    rating: int
    status: str
    comment: str
    response: str
    responded_at: datetime | None
    reject_reason: str
    moderated_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class DoctorRating:
    count: int  # approved reviews
    average: float | None  # None while there are none


def _query():
    return (
        Review.select(Review, Appointment, Doctor, User, Patient)
        .join(Appointment, on=(Review.appointment == Appointment.id))
        .switch(Review)
        .join(Doctor, on=(Review.doctor == Doctor.id))
        .join(User, on=(Doctor.user == User.id))
        .switch(Review)
        .join(Patient, on=(Review.patient == Patient.id))
    )


def _view(row: Review) -> ReviewView:
    return ReviewView(
        id=row.id,
        appointment_id=row.appointment.id,
        visit_at=row.appointment.starts_at,
        doctor=row.doctor.user.username,
        doctor_name=row.doctor.user.full_name,
        patient_id=row.patient.id,
        patient_name=row.patient.full_name,
        rating=row.rating,
        status=row.status,
        comment=row.comment,
        response=row.doctor_response,
        responded_at=row.responded_at,
        reject_reason=row.reject_reason,
        moderated_at=row.moderated_at,
        created_at=row.created_at,
    )


def _load(review_id: int) -> Review:
    row = _query().where(Review.id == review_id).first()
    if row is None:
        raise NotFound(f"no review with id {review_id}")
    return row


def _visible_to(actor: Actor) -> Expression | None:
    """The reviews ``actor`` may read, as a WHERE clause (None: all of them)."""
    if policy.allowed(actor, "review.read_all"):
        return None
    if actor.role == "patient" and actor.patient_id is not None:
        return Review.patient == actor.patient_id
    if actor.role == "doctor" and actor.doctor_id is not None:
        return (Review.doctor == actor.doctor_id) & (Review.status == "approved")
    if actor.role == "reception":
        return Review.status == "approved"
    raise PermissionDenied("reading reviews")


# -- reading ------------------------------------------------------------------


@reads
def list_reviews(actor: Actor, *, status: str | None = None, doctor: str | None = None) -> list[ReviewView]:
    """The reviews ``actor`` may see, oldest first, optionally of one status and/or one doctor (username)."""
    visible = _visible_to(actor)
    query = _query()
    if visible is not None:
        query = query.where(visible)
    if status is not None:
        if status not in REVIEW_STATUSES:
            raise BadInput(f"status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}")
        query = query.where(Review.status == status)
    if doctor is not None:
        doctor_id = Doctor.select(Doctor.id).join(User).where(User.username == doctor).scalar()
        if doctor_id is None:
            raise NotFound(f"no doctor with username {doctor!r}")
        query = query.where(Review.doctor == doctor_id)
    return [_view(row) for row in query.order_by(Review.id)]


@reads
def show(actor: Actor, review_id: int) -> ReviewView:
    row = _load(review_id)
    visible = _visible_to(actor)
    if visible is not None and not Review.select().where((Review.id == review_id) & visible).exists():
        raise PermissionDenied("reading this review")
    return _view(row)


@reads
def doctor_rating(doctor_id: int) -> DoctorRating:
    """A doctor's approved-review count and average, from the aggregate kept on the doctor row."""
    row = Doctor.select(Doctor.rating_count, Doctor.rating_total).where(Doctor.id == doctor_id).first()
    if row is None:
        raise NotFound(f"no doctor with id {doctor_id}")
    return DoctorRating(count=row.rating_count, average=average(row.rating_total, row.rating_count))


# -- writing ------------------------------------------------------------------


@writes
def add(actor: Actor, appointment_id: int, rating: object, comment: str | None = None) -> ReviewView:
    """Review a completed visit (pending until an admin approves it)."""
    stars = parse_rating(rating)
    text = _clean_limited(comment, COMMENT_MAX, "comment")
    appointment = Appointment.get_or_none(Appointment.id == appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    policy.require(actor, "review.write", doctor_id=appointment.doctor_id, patient_id=appointment.patient_id)
    if appointment.status != "completed":
        raise Refused(f"only a completed visit can be reviewed; appointment {appointment_id} is {appointment.status}")
    try:
        review = Review.create(
            appointment=appointment.id,
            doctor=appointment.doctor_id,
            patient=appointment.patient_id,
            rating=stars,
            comment=text,
            status="pending",
            created_at=clock.now(),
        )
    except IntegrityError:
        raise Refused(f"this visit already has a review (appointment {appointment_id})") from None
    audit.record(actor, "review.add", "review", review.id, appointment_id=appointment.id, rating=stars)
    return _view(_load(review.id))


@writes
def approve(actor: Actor, review_id: int) -> ReviewView:
    """Publish a review: it counts towards the doctor's rating from now on."""
    policy.require(actor, "review.moderate")
    return _moderate(actor, review_id, "approved", reason="")


STANDARD_REJECT_REASON = "it does not follow the clinic's review guidelines"


@writes
def reject(actor: Actor, review_id: int, reason: str | None = None) -> ReviewView:
    """Hide a review (and take it out of the doctor's rating if it was approved). The patient sees
    ``reason``; without one, the standard reason (a reason given must say something)."""
    policy.require(actor, "review.moderate")
    cleaned = _clean_limited(STANDARD_REJECT_REASON if reason is None else reason, REASON_MAX, "reason")
    if not cleaned:
        raise BadInput("a rejection needs a reason (--reason)")
    return _moderate(actor, review_id, "rejected", reason=cleaned)


def _moderate(actor: Actor, review_id: int, to_status: str, *, reason: str) -> ReviewView:
    row = _load(review_id)
    from_status = row.status
    if from_status == to_status:
        raise Refused(f"review {review_id} is already {to_status}")
    moved = (
        Review.update(status=to_status, reject_reason=reason, moderated_by=actor.user_id, moderated_at=clock.now())
        .where((Review.id == review_id) & (Review.status == from_status))
        .execute()
    )
    if moved != 1:  # another desk moderated it between our read and our write
        raise Conflict(f"review {review_id} was just moderated by someone else; look again")
    counted = int(to_status == "approved") - int(from_status == "approved")
    if counted:
        Doctor.update(
            rating_count=Doctor.rating_count + counted,
            rating_total=Doctor.rating_total + counted * row.rating,
        ).where(Doctor.id == row.doctor_id).execute()
    details = {"from_status": from_status, "to_status": to_status}
    if reason:
        details["reason"] = reason
    audit.record(actor, f"review.{'approve' if to_status == 'approved' else 'reject'}", "review", review_id, **details)
    return _view(_load(review_id))


@writes
def respond(actor: Actor, review_id: int, text: str) -> ReviewView:
    """The reviewed doctor answers an approved review (again: replaces the answer); the patient is mailed."""
    row = _load(review_id)
    policy.require(actor, "review.respond", doctor_id=row.doctor_id)
    if actor.doctor_id != row.doctor_id:  # admins pass every rule, but a response is the doctor's own words
        raise PermissionDenied(policy.RULES["review.respond"][1])
    response = _clean_limited(text, RESPONSE_MAX, "response")
    if not response:
        raise BadInput("the response is empty (--text)")
    if row.status != "approved":
        raise Refused(f"only an approved review can be answered; review {review_id} is {row.status}")
    edited = bool(row.doctor_response)
    saved = (
        Review.update(doctor_response=response, responded_at=clock.now())
        .where((Review.id == review_id) & (Review.status == "approved"))
        .execute()
    )
    if saved != 1:
        raise Conflict(f"review {review_id} was just moderated by someone else; look again")
    audit.record(actor, "review.respond", "review", review_id, edited=edited)
    view = _view(_load(review_id))
    notify.queue(
        "review_response",
        row.patient.email,
        {
            "patient_name": view.patient_name,
            "doctor_name": view.doctor_name,
            "visit_date": to_local(view.visit_at).strftime("%A %d %B %Y"),
            "rating": view.rating,
            "comment": view.comment,
            "response": view.response,
            "edited": edited,
        },
        appointment_id=view.appointment_id,
    )
    return view
