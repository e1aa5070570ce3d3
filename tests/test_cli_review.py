"""`clinic-desk review ...` as a user or a script sees it: output, JSON, exit codes, one-line errors."""

from __future__ import annotations

import pytest

from clinic_desk.store.models import Outbox, Review
from tests.factories import login_env, make_doctor, make_user
from tests.test_reviews import patient_with_login, recomputed_aggregates, stored_aggregates, visit


@pytest.fixture
def desk(db):
    make_user("admin", "admin1")
    make_user("reception", "desk1")
    return {
        "doctor": make_doctor("drgrey", full_name="Dr. Grey"),
        "other_doctor": make_doctor("drhouse", full_name="Dr. House"),
        "ann": patient_with_login("ann"),
        "bob": patient_with_login("bob"),
    }


def _one_line_error(result, code: int, text: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert text in result.err
    assert "Traceback" not in result.err


def _add(cli, appointment_id: int, rating: str = "4", *extra: str, who: str = "ann"):
    return cli("review", "add", str(appointment_id), "--rating", rating, *extra, env=login_env(who))


def test_patient_adds_a_review_and_gets_its_id(cli, desk):
    appointment = visit(desk["doctor"], desk["ann"])
    result = _add(cli, appointment.id, "5", "--comment", "Very kind")
    assert result.code == 0, result.err
    review = Review.get(Review.appointment == appointment.id)
    assert result.out == f"{review.id}\n"
    assert (review.rating, review.comment, review.status) == (5, "Very kind", "pending")


def test_add_with_json_prints_the_object(cli, desk):
    appointment = visit(desk["doctor"], desk["ann"])
    data = _add(cli, appointment.id, "3", "--json", who="admin1").json()
    assert {k: data[k] for k in ("appointment_id", "rating", "status", "doctor", "patient_id", "comment", "response")} == {
        "appointment_id": appointment.id, "rating": 3, "status": "pending", "doctor": "drgrey",
        "patient_id": desk["ann"].id, "comment": "", "response": "",
    }
    assert isinstance(data["id"], int)
    assert data["created_at"].endswith("+01:00")  # clinic time (Berlin, winter)


def test_refusals_exit_1_with_one_line(cli, desk):
    confirmed = visit(desk["doctor"], desk["ann"], status="confirmed")
    _one_line_error(_add(cli, confirmed.id), 1, "only a completed visit can be reviewed")

    done = visit(desk["doctor"], desk["ann"])
    assert _add(cli, done.id).code == 0
    _one_line_error(_add(cli, done.id, "1"), 1, "this visit already has a review")
    _one_line_error(_add(cli, done.id, "1", who="admin1"), 1, "this visit already has a review")

    bobs = visit(desk["doctor"], desk["bob"])
    _one_line_error(_add(cli, bobs.id), 1, "permission denied")
    _one_line_error(_add(cli, bobs.id, who="drgrey"), 1, "permission denied")
    assert Review.select().count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "x", "-1", "4.5", ""])
def test_bad_ratings_exit_2_and_store_nothing(cli, desk, rating):
    appointment = visit(desk["doctor"], desk["ann"])
    _one_line_error(_add(cli, appointment.id, rating), 2, "rating")
    assert Review.select().count() == 0


def test_bad_input_exits_2(cli, desk):
    appointment = visit(desk["doctor"], desk["ann"])
    _one_line_error(_add(cli, appointment.id, "4", "--comment", "z" * 2001), 2, "at most 2000")
    _one_line_error(_add(cli, 987654), 2, "no appointment with id 987654")
    _one_line_error(cli("review", "add", "abc", "--rating", "4", env=login_env("ann")), 2, "APPOINTMENT")
    _one_line_error(cli("review", "add", str(appointment.id), env=login_env("ann")), 2, "--rating")
    _one_line_error(cli("review", "list", "--status", "nice", env=login_env("admin1")), 2, "status must be one of")
    _one_line_error(cli("review", "list", "--doctor", "drno", env=login_env("admin1")), 2, "no doctor")
    _one_line_error(cli("review", "show", "777", env=login_env("admin1")), 2, "no review with id 777")
    assert Review.select().count() == 0


def test_moderation_is_for_admins_only(cli, desk):
    review_id = int(_add(cli, visit(desk["doctor"], desk["ann"]).id, "5").out)
    for who in ("desk1", "drgrey", "ann"):
        _one_line_error(cli("review", "approve", str(review_id), env=login_env(who)), 1, "only an admin moderates")
        _one_line_error(
            cli("review", "reject", str(review_id), "--reason", "x", env=login_env(who)), 1, "only an admin moderates"
        )
    assert Review.get_by_id(review_id).status == "pending"
    _one_line_error(cli("review", "reject", str(review_id), "--reason", " ", env=login_env("admin1")), 2, "reason")

    approved = cli("review", "approve", str(review_id), env=login_env("admin1"))
    assert (approved.code, approved.out) == (0, f"review {review_id} approved\n")
    _one_line_error(cli("review", "approve", str(review_id), env=login_env("admin1")), 1, "already approved")


def test_ratings_follow_approvals_and_rejections(cli, desk):
    ids = [
        int(_add(cli, visit(desk["doctor"], desk[who]).id, stars, who=who).out)
        for who, stars in (("ann", "5"), ("bob", "2"), ("ann", "4"), ("bob", "1"))
    ]
    admin = login_env("admin1")
    for step in (
        ("approve", ids[0]), ("approve", ids[1]), ("approve", ids[2]),
        ("reject", ids[1], "--reason", "personal data"), ("reject", ids[3], "--reason", "spam"),
        ("approve", ids[1]), ("reject", ids[0], "--reason", "on reflection, no"),
    ):
        result = cli("review", step[0], *map(str, step[1:]), env=admin)
        assert result.code == 0, result.err
        assert stored_aggregates() == recomputed_aggregates()
    assert stored_aggregates()[desk["doctor"].id] == (2, 6)  # ids[1] (2) and ids[2] (4)
    assert {(r["id"], r["status"]) for r in cli("review", "list", "--json", env=admin).json()} == {
        (ids[0], "rejected"), (ids[1], "approved"), (ids[2], "approved"), (ids[3], "rejected"),
    }


def test_list_and_show_as_each_role_sees_them(cli, desk):
    mine = int(_add(cli, visit(desk["doctor"], desk["ann"]).id, "2", "--comment", "meh").out)
    published = int(_add(cli, visit(desk["doctor"], desk["bob"]).id, "5", who="bob").out)
    elsewhere = int(_add(cli, visit(desk["other_doctor"], desk["bob"]).id, "4", who="bob").out)
    for review_id in (published, elsewhere):
        assert cli("review", "approve", str(review_id), env=login_env("admin1")).code == 0

    def ids(who: str, *args: str) -> list[int]:
        result = cli("review", "list", *args, "--json", env=login_env(who))
        assert result.code == 0, result.err
        return [row["id"] for row in result.json()]

    assert ids("admin1") == [mine, published, elsewhere]
    assert ids("admin1", "--status", "pending") == [mine]
    assert ids("admin1", "--doctor", "drgrey") == [mine, published]
    assert ids("ann") == [mine]
    assert ids("drgrey") == [published]
    assert ids("desk1", "--doctor", "drhouse") == [elsewhere]

    shown = cli("review", "show", str(mine), "--json", env=login_env("ann")).json()
    assert (shown["id"], shown["status"], shown["comment"]) == (mine, "pending", "meh")
    _one_line_error(cli("review", "show", str(mine), env=login_env("drgrey")), 1, "permission denied")
    table = cli("review", "list", env=login_env("admin1"))
    assert table.code == 0 and "drhouse" in table.out and "pending" in table.out


def test_escape_sequences_never_reach_the_store_or_the_terminal(cli, desk):
    hostile = "\x1b]0;owned\x07Nice\x1b[2J doctor\x1b[31m!\x9b0m"
    review_id = int(_add(cli, visit(desk["doctor"], desk["ann"]).id, "5", "--comment", hostile).out)
    assert Review.get_by_id(review_id).comment == "Nice doctor!"
    for args in (("list",), ("show", str(review_id)), ("show", str(review_id), "--json")):
        result = cli("review", *args, env=login_env("admin1"))
        assert result.code == 0 and "\x1b" not in result.out and "\x9b" not in result.out
        assert "Nice" in result.out  # a table may wrap the rest


def test_only_the_reviewed_doctor_responds_and_the_patient_is_mailed(cli, desk):
    review_id = int(_add(cli, visit(desk["doctor"], desk["ann"]).id, "3", "--comment", "Late start").out)
    _one_line_error(
        cli("review", "respond", str(review_id), "--text", "Too early", env=login_env("drgrey")),
        1, "only an approved review can be answered",
    )
    assert cli("review", "approve", str(review_id), env=login_env("admin1")).code == 0
    for who in ("drhouse", "admin1", "desk1", "ann"):
        _one_line_error(
            cli("review", "respond", str(review_id), "--text", "Not mine", env=login_env(who)), 1, "permission denied"
        )
    assert Outbox.select().count() == 0

    result = cli("review", "respond", str(review_id), "--text", "Sorry about the wait.", env=login_env("drgrey"))
    assert result.code == 0, result.err
    shown = cli("review", "show", str(review_id), "--json", env=login_env("ann")).json()
    assert shown["response"] == "Sorry about the wait." and shown["responded_at"]
    mail = Outbox.get(Outbox.kind == "review_response")
    assert mail.to_addr == "ann@mail.test" and "Sorry about the wait." in mail.text_body

    assert cli("review", "respond", str(review_id), "--text", "Edited.", env=login_env("drgrey")).code == 0
    assert cli("review", "show", str(review_id), "--json", env=login_env("drgrey")).json()["response"] == "Edited."
    assert Outbox.select().where(Outbox.kind == "review_response").count() == 2


def test_reject_without_a_reason_gives_the_standard_one(cli, desk):
    review_id = int(_add(cli, visit(desk["doctor"], desk["ann"]).id, "2").out)
    rejected = cli("review", "reject", str(review_id), env=login_env("admin1"))
    assert (rejected.code, rejected.out) == (0, f"review {review_id} rejected\n")
    assert Review.get_by_id(review_id).reject_reason == "it does not follow the clinic's review guidelines"
