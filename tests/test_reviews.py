"""Reviews through the service: who may write, moderate and respond; what is stored; the aggregate."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import fn

from clinic_desk.errors import BadInput, NotFound, PermissionDenied, Refused
from clinic_desk.services import notify, policy, reviews
from clinic_desk.store.db import db as proxy
from clinic_desk.store.models import ALL_MODELS, Appointment, AuditEvent, Doctor, Outbox, Patient, Review
from tests.factories import actor_for, make_appointment, make_doctor, make_patient, make_slot, make_user

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
_hours = itertools.count()


# -- helpers shared with tests/test_cli_review*.py --------------------------------


def visit(doctor: Doctor, patient: Patient, status: str = "completed") -> Appointment:
    """An appointment an hour after the last one made, so that no two overlap."""
    return make_appointment(make_slot(doctor, T0 + timedelta(hours=next(_hours))), patient, status=status)


def patient_with_login(username: str | None = None, email: str | None = None) -> Patient:
    user = make_user("patient", username)
    return make_patient(user.full_name, user=user, email=email or f"{user.username}@mail.test")


def stored_aggregates() -> dict[int, tuple[int, int]]:
    return {d.id: (d.rating_count, d.rating_total) for d in Doctor.select(Doctor.id, Doctor.rating_count, Doctor.rating_total)}


def recomputed_aggregates() -> dict[int, tuple[int, int]]:
    """The aggregate as it must be: counted from the approved rows of the review table."""
    result = {d.id: (0, 0) for d in Doctor.select(Doctor.id)}
    approved = (
        Review.select(Review.doctor, fn.COUNT(Review.id), fn.SUM(Review.rating))
        .where(Review.status == "approved")
        .group_by(Review.doctor)
        .tuples()
    )
    for doctor_id, count, total in approved:
        result[doctor_id] = (int(count), int(total))
    return result


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def people(db):
    admin = actor_for(make_user("admin", "admin1"))
    reception = actor_for(make_user("reception", "desk1"))
    doctor = make_doctor("drgrey", full_name="Dr. Grey")
    other_doctor = make_doctor("drhouse", full_name="Dr. House")
    ann = patient_with_login("ann")
    bob = patient_with_login("bob")
    return {
        "admin": admin,
        "reception": reception,
        "doctor": doctor,
        "doctor_actor": actor_for(doctor.user),
        "other_doctor": other_doctor,
        "other_doctor_actor": actor_for(other_doctor.user),
        "ann": ann,
        "ann_actor": actor_for(ann.user),
        "bob": bob,
        "bob_actor": actor_for(bob.user),
    }


def _approved_review(people, rating: int = 4, comment: str = "Kind and thorough.") -> reviews.ReviewView:
    review = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, rating, comment)
    return reviews.approve(people["admin"], review.id)


# -- writing a review -----------------------------------------------------------------


def test_patient_reviews_own_completed_visit_and_it_waits_for_moderation(people):
    appointment = visit(people["doctor"], people["ann"])
    review = reviews.add(people["ann_actor"], appointment.id, "5", "Great")
    assert (review.status, review.rating, review.comment, review.doctor, review.patient_id) == (
        "pending", 5, "Great", "drgrey", people["ann"].id,
    )
    assert reviews.doctor_rating(people["doctor"].id) == reviews.DoctorRating(count=0, average=None)
    event = AuditEvent.get((AuditEvent.action == "review.add") & (AuditEvent.entity_id == review.id))
    assert json.loads(event.details) == {"appointment_id": appointment.id, "rating": 5}


def test_an_admin_reviews_on_the_patients_behalf(people):
    by_admin = reviews.add(people["admin"], visit(people["doctor"], people["bob"]).id, 2)
    assert (by_admin.patient_id, by_admin.status) == (people["bob"].id, "pending")


def test_reception_writes_a_review_exactly_when_the_policy_lets_the_desk(people):
    """Whether the desk may review for a patient is policy's call ("review.write"); the service obeys it."""
    appointment = visit(people["doctor"], people["ann"])
    if policy.allowed(people["reception"], "review.write", patient_id=people["ann"].id):
        assert reviews.add(people["reception"], appointment.id, 3).patient_id == people["ann"].id
    else:
        with pytest.raises(PermissionDenied):
            reviews.add(people["reception"], appointment.id, 3)
        assert Review.select().count() == 0


@pytest.mark.parametrize("status", ["pending", "confirmed", "cancelled", "no_show"])
def test_a_visit_that_is_not_completed_cannot_be_reviewed(people, status):
    appointment = visit(people["doctor"], people["ann"], status=status)
    with pytest.raises(Refused, match="only a completed visit"):
        reviews.add(people["ann_actor"], appointment.id, 4)
    assert Review.select().count() == 0


def test_a_visit_is_reviewed_once_whoever_tries_again(people):
    appointment = visit(people["doctor"], people["ann"])
    reviews.add(people["ann_actor"], appointment.id, 4)
    for actor in (people["ann_actor"], people["admin"]):
        with pytest.raises(Refused, match="this visit already has a review"):
            reviews.add(actor, appointment.id, 1, "second try")
    assert [r.rating for r in Review.select()] == [4]


def test_a_patient_cannot_review_someone_elses_visit(people):
    appointment = visit(people["doctor"], people["bob"])
    with pytest.raises(PermissionDenied):
        reviews.add(people["ann_actor"], appointment.id, 1, "never met him")
    assert Review.select().count() == 0


def test_a_doctor_cannot_write_reviews(people):
    appointment = visit(people["other_doctor"], people["ann"])
    with pytest.raises(PermissionDenied):
        reviews.add(people["doctor_actor"], appointment.id, 1)


def test_unknown_appointment_is_bad_input(people):
    with pytest.raises(NotFound):
        reviews.add(people["ann_actor"], 999_999, 4)


@pytest.mark.parametrize("rating", [0, 6, -1, "0", "6", "x", "", "3.5", "4 stars", True, None])
def test_rating_must_be_a_whole_number_from_1_to_5(people, rating):
    appointment = visit(people["doctor"], people["ann"])
    with pytest.raises(BadInput, match="rating"):
        reviews.add(people["ann_actor"], appointment.id, rating)
    assert Review.select().count() == 0


@pytest.mark.parametrize(("typed", "stars"), [("1", 1), (" 5 ", 5), (3, 3)])
def test_ratings_as_typed(typed, stars):
    assert reviews.parse_rating(typed) == stars


def test_comment_is_length_limited(people):
    appointment = visit(people["doctor"], people["ann"])
    with pytest.raises(BadInput, match="at most 2000"):
        reviews.add(people["ann_actor"], appointment.id, 4, "x" * 2001)
    assert reviews.add(people["ann_actor"], appointment.id, 4, "x" * 2000).comment == "x" * 2000


# -- free text is stored without terminal escapes -------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),  # CSI colours
        ("a\x1b[2J\x1b[Hb", "ab"),  # clear screen, cursor home
        ("\x1b]0;pwned title\x07ok", "ok"),  # OSC window title, BEL-terminated
        ("\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "click"),  # OSC 8 hyperlink, ST-terminated
        ("x\x1bPq#0;2;0;0;0\x1b\\y", "xy"),  # DCS (sixel)
        ("reset\x1bc!", "reset!"),  # ESC c: full terminal reset
        ("eight\x9b2Jbit\x9d0;t\x07!", "eightbit!"),  # 8-bit CSI and OSC
        ("nul\x00bell\x07bs\x08del\x7fc1\x85", "nulbellbsdelc1"),  # other C0, DEL, C1
        ("line one\r\nline two\ttabbed", "line one\nline two tabbed"),  # newlines kept, CRLF folded
        ("  \x1b[1m  \x1b[0m  ", ""),
    ],
)
def test_clean_text_strips_escape_sequences_and_controls(raw, stored):
    assert reviews.clean_text(raw) == stored


def test_comment_is_stored_without_escape_sequences(people):
    appointment = visit(people["doctor"], people["ann"])
    review = reviews.add(people["ann_actor"], appointment.id, 2, "\x1b]0;owned\x07Rude \x1b[5mstaff\x1b[0m\x00")
    stored = Review.get_by_id(review.id).comment
    assert stored == "Rude staff"
    assert "\x1b" not in stored and "\x07" not in stored


# -- moderation -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reception", "doctor_actor", "other_doctor_actor", "ann_actor"])
def test_only_an_admin_moderates(people, who):
    review = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 5)
    with pytest.raises(PermissionDenied, match="only an admin moderates"):
        reviews.approve(people[who], review.id)
    with pytest.raises(PermissionDenied, match="only an admin moderates"):
        reviews.reject(people[who], review.id, "spam")
    assert Review.get_by_id(review.id).status == "pending"
    assert stored_aggregates()[people["doctor"].id] == (0, 0)


def test_approve_counts_and_reject_uncounts(people):
    doctor_id = people["doctor"].id
    five = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 5)
    two = reviews.add(people["bob_actor"], visit(people["doctor"], people["bob"]).id, 2)
    reviews.approve(people["admin"], five.id)
    reviews.approve(people["admin"], two.id)
    assert reviews.doctor_rating(doctor_id) == reviews.DoctorRating(count=2, average=3.5)
    rejected = reviews.reject(people["admin"], five.id, "names a nurse")
    assert (rejected.status, rejected.reject_reason) == ("rejected", "names a nurse")
    assert reviews.doctor_rating(doctor_id) == reviews.DoctorRating(count=1, average=2.0)
    again = reviews.approve(people["admin"], five.id)
    assert (again.status, again.reject_reason) == ("approved", "")
    assert stored_aggregates() == recomputed_aggregates() == {doctor_id: (2, 7), people["other_doctor"].id: (0, 0)}
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity == "review").order_by(AuditEvent.id)]
    assert actions == ["review.add", "review.add", "review.approve", "review.approve", "review.reject", "review.approve"]


def test_moderating_to_the_same_state_is_refused_and_changes_nothing(people):
    review = _approved_review(people, rating=3)
    with pytest.raises(Refused, match="already approved"):
        reviews.approve(people["admin"], review.id)
    reviews.reject(people["admin"], review.id, "off topic")
    with pytest.raises(Refused, match="already rejected"):
        reviews.reject(people["admin"], review.id, "still off topic")
    assert stored_aggregates() == recomputed_aggregates()
    assert stored_aggregates()[people["doctor"].id] == (0, 0)


@pytest.mark.parametrize("reason", ["", "   ", "\x1b[0m"])
def test_a_rejection_needs_a_reason(people, reason):
    review = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 1)
    with pytest.raises(BadInput, match="reason"):
        reviews.reject(people["admin"], review.id, reason)
    assert Review.get_by_id(review.id).status == "pending"


def test_moderating_an_unknown_review_is_bad_input(people):
    with pytest.raises(NotFound):
        reviews.approve(people["admin"], 424242)


def _wipe() -> None:
    with proxy.atomic():
        for model in reversed(ALL_MODELS):
            model.delete().execute()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    written=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 1)), min_size=1, max_size=5),
    data=st.data(),
)
def test_aggregate_equals_the_approved_reviews_after_any_moderation_sequence(db, written, data):
    """Any order of approvals and rejections (including re-moderation) keeps the doctor rows exact."""
    moves = data.draw(
        st.lists(st.tuples(st.integers(0, len(written) - 1), st.sampled_from(["approved", "rejected"])), max_size=12)
    )
    try:
        admin = actor_for(make_user("admin"))
        doctors = [make_doctor(), make_doctor()]
        ids = [reviews.add(admin, visit(doctors[d], make_patient()).id, stars).id for stars, d in written]
        status = ["pending"] * len(ids)
        for index, target in moves:
            move = reviews.approve if target == "approved" else lambda actor, rid: reviews.reject(actor, rid, "no")
            if status[index] == target:
                with pytest.raises(Refused, match="already"):
                    move(admin, ids[index])
            else:
                move(admin, ids[index])
                status[index] = target
            assert stored_aggregates() == recomputed_aggregates()
        expected = {doctor.id: (0, 0) for doctor in doctors}
        for (stars, d), state in zip(written, status):
            if state == "approved":
                count, total = expected[doctors[d].id]
                expected[doctors[d].id] = (count + 1, total + stars)
        assert stored_aggregates() == expected
    finally:
        _wipe()


# -- who sees what ------------------------------------------------------------------------


def test_visibility_by_role(people):
    ann_pending = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 1).id
    ann_rejected = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 2).id
    reviews.reject(people["admin"], ann_rejected, "abusive")
    bob_approved = reviews.add(people["bob_actor"], visit(people["doctor"], people["bob"]).id, 5).id
    reviews.approve(people["admin"], bob_approved)
    bob_pending = reviews.add(people["bob_actor"], visit(people["doctor"], people["bob"]).id, 4).id
    other_approved = reviews.add(people["bob_actor"], visit(people["other_doctor"], people["bob"]).id, 3).id
    reviews.approve(people["admin"], other_approved)

    def seen(who: str, **filters) -> list[int]:
        return [v.id for v in reviews.list_reviews(people[who], **filters)]

    assert seen("admin") == [ann_pending, ann_rejected, bob_approved, bob_pending, other_approved]
    assert seen("ann_actor") == [ann_pending, ann_rejected]
    assert seen("bob_actor") == [bob_approved, bob_pending, other_approved]
    assert seen("doctor_actor") == [bob_approved]
    assert seen("other_doctor_actor") == [other_approved]
    assert seen("reception") == [bob_approved, other_approved]
    assert seen("admin", status="pending") == [ann_pending, bob_pending]
    assert seen("admin", doctor="drhouse") == [other_approved]
    assert seen("doctor_actor", doctor="drhouse") == []
    assert reviews.show(people["ann_actor"], ann_rejected).reject_reason == "abusive"
    for who, review_id in (("ann_actor", bob_approved), ("doctor_actor", ann_pending), ("reception", bob_pending),
                           ("other_doctor_actor", bob_approved)):
        with pytest.raises(PermissionDenied):
            reviews.show(people[who], review_id)


def test_list_filters_are_checked(people):
    with pytest.raises(BadInput, match="status must be one of"):
        reviews.list_reviews(people["admin"], status="published")
    with pytest.raises(NotFound, match="no doctor"):
        reviews.list_reviews(people["admin"], doctor="drnobody")


# -- doctor responses -------------------------------------------------------------------------


def test_the_reviewed_doctor_responds_and_the_patient_is_mailed(people):
    review = _approved_review(people, comment="Waited an hour")
    answered = reviews.respond(people["doctor_actor"], review.id, "Sorry, an emergency came in.\x1b[2J")
    assert answered.response == "Sorry, an emergency came in."
    assert answered.responded_at is not None
    mail = Outbox.get(Outbox.kind == "review_response")
    assert mail.to_addr == "ann@mail.test"
    assert mail.appointment_id == review.appointment_id
    assert "Dr. Grey responded to your review" in mail.subject
    assert "Sorry, an emergency came in." in mail.text_body and "Waited an hour" in mail.text_body
    assert "4 of 5" in mail.html_body


def test_responding_again_replaces_the_response_and_mails_again(people):
    review = _approved_review(people)
    reviews.respond(people["doctor_actor"], review.id, "First answer")
    edited = reviews.respond(people["doctor_actor"], review.id, "Better answer")
    assert Review.get_by_id(review.id).doctor_response == edited.response == "Better answer"
    subjects = [m.subject for m in Outbox.select().where(Outbox.kind == "review_response").order_by(Outbox.id)]
    assert len(subjects) == 2 and "updated their response" in subjects[1]
    details = [json.loads(e.details) for e in AuditEvent.select().where(AuditEvent.action == "review.respond").order_by(AuditEvent.id)]
    assert details == [{"edited": False}, {"edited": True}]


@pytest.mark.parametrize("who", ["other_doctor_actor", "admin", "reception", "ann_actor"])
def test_only_the_reviewed_doctor_responds(people, who):
    review = _approved_review(people)
    with pytest.raises(PermissionDenied, match="the reviewed doctor does"):
        reviews.respond(people[who], review.id, "I speak for the doctor")
    assert Review.get_by_id(review.id).doctor_response == ""
    assert Outbox.select().count() == 0


@pytest.mark.parametrize("state", ["pending", "rejected"])
def test_only_an_approved_review_is_answered(people, state):
    review = reviews.add(people["ann_actor"], visit(people["doctor"], people["ann"]).id, 1, "bad")
    if state == "rejected":
        reviews.reject(people["admin"], review.id, "abusive")
    with pytest.raises(Refused, match="only an approved review"):
        reviews.respond(people["doctor_actor"], review.id, "How dare you")
    assert Outbox.select().count() == 0


def test_an_empty_or_overlong_response_is_bad_input(people):
    review = _approved_review(people)
    for text in ("", " \x07 ", "y" * 2001):
        with pytest.raises(BadInput):
            reviews.respond(people["doctor_actor"], review.id, text)


def test_a_response_whose_mail_fails_is_not_saved(people, monkeypatch):
    """The response, its audit event and its mail are one transaction."""
    review = _approved_review(people)

    def broken_queue(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(notify, "queue", broken_queue)
    with pytest.raises(RuntimeError):
        reviews.respond(people["doctor_actor"], review.id, "Thank you")
    assert Review.get_by_id(review.id).doctor_response == ""
    assert not AuditEvent.select().where(AuditEvent.action == "review.respond").exists()


def test_the_response_mail_escapes_html(people):
    review = _approved_review(people, comment="<img src=x onerror=alert(1)>")
    reviews.respond(people["doctor_actor"], review.id, "Thanks <b>a lot</b> & see you")
    mail = Outbox.get(Outbox.kind == "review_response")
    assert "<img" not in mail.html_body and "&lt;img" in mail.html_body
    assert "&lt;b&gt;a lot&lt;/b&gt; &amp; see you" in mail.html_body
    assert "Thanks <b>a lot</b> & see you" in mail.text_body


def test_a_doctors_average_rounds_half_up_to_two_decimals():
    assert [reviews.average(33, 8), reviews.average(107, 40), reviews.average(9, 8), reviews.average(9, 2)] == [
        4.13, 2.68, 1.13, 4.5,
    ]
    assert reviews.average(0, 0) is None
