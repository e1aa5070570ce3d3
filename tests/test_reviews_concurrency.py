"""Several desks moderating at once: the doctor's aggregate loses and doubles nothing."""

from __future__ import annotations

import multiprocessing

import pytest

from clinic_desk.services import reviews
from clinic_desk.store.db import db as proxy
from tests.factories import actor_for, make_doctor, make_patient, make_user
from tests.test_reviews import recomputed_aggregates, stored_aggregates, visit

DESKS = 4


def _moderate_in_child(url: str, admin: tuple, contested: int, approve_id: int, reject_id: int, barrier, results) -> None:
    """One desk (its own process and connection): race for ``contested``, then moderate its own two."""
    from clinic_desk import config
    from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
    from clinic_desk.errors import Refused
    from clinic_desk.services import reviews as child_reviews
    from clinic_desk.services.actors import Actor
    from clinic_desk.store.db import db as child_db
    from clinic_desk.store.db import open_database

    config.use(Settings(database=DatabaseSettings(url=url), clinic=ClinicSettings(timezone="Europe/Berlin")))
    open_database(url)
    actor = Actor(*admin)
    outcome = []
    barrier.wait(timeout=60)
    for call in (
        lambda: child_reviews.approve(actor, contested),
        lambda: child_reviews.approve(actor, approve_id),
        lambda: child_reviews.reject(actor, reject_id, "withdrawn by the patient"),
    ):
        try:
            call()
            outcome.append("ok")
        except Refused as exc:
            outcome.append(f"refused: {exc}")
    child_db.close()
    results.put(outcome)


@pytest.mark.slow
def test_concurrent_moderation_keeps_the_aggregate_exact(db):
    admin = actor_for(make_user("admin"))
    doctor = make_doctor()

    def new_review(stars: int) -> int:
        return reviews.add(admin, visit(doctor, make_patient()).id, stars).id

    contested = new_review(5)
    to_approve = [new_review(stars) for stars in (1, 2, 3, 4)]
    to_reject = [new_review(stars) for stars in (2, 3, 4, 5)]
    for review_id in to_reject:
        reviews.approve(admin, review_id)
    assert stored_aggregates()[doctor.id] == (4, 14)
    proxy.close()

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(DESKS)
    results = context.Queue()
    admin_fields = (admin.user_id, admin.username, admin.role, admin.doctor_id, admin.patient_id)
    desks = [
        context.Process(
            target=_moderate_in_child,
            args=(db, admin_fields, contested, to_approve[i], to_reject[i], barrier, results),
        )
        for i in range(DESKS)
    ]
    for desk in desks:
        desk.start()
    outcomes = [results.get(timeout=120) for _ in desks]
    for desk in desks:
        desk.join(timeout=60)
        assert desk.exitcode == 0

    contested_wins = [o[0] for o in outcomes].count("ok")
    assert contested_wins == 1, outcomes
    assert all(o[1:] == ["ok", "ok"] for o in outcomes), outcomes
    # The contested 5 plus the four approved (1+2+3+4); the four rejected are out again.
    assert stored_aggregates()[doctor.id] == recomputed_aggregates()[doctor.id] == (5, 15)
