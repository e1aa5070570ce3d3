"""Revenue: paid minus refunded, per doctor, over clinic-local days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clinic_desk.errors import BadInput, NotFound, PermissionDenied
from clinic_desk.services import clock, payments, reports
from tests.factories import actor_for, make_doctor, make_user
from tests.wallet_support import GOOD_CARD, cancel, make_world

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _pay_at(world, index: int, instant: datetime) -> None:
    clock.set_now(instant)
    payments.pay(world.staff, world.appointments[index].id, method="card", card_number=GOOD_CARD)


@pytest.fixture
def takings(db):
    """Dr. ann: 80 + 50 paid, 50 refunded; Dr. bob: 120 paid, on days chosen around local midnight."""
    ann = make_doctor("ann")
    bob = make_doctor("bob")
    a = make_world(8000, 5000, doctor=ann)
    b = make_world(12000, doctor=bob)
    _pay_at(a, 0, datetime(2027, 3, 4, 22, 30, tzinfo=UTC))  # 23:30 on 4 March in Berlin
    _pay_at(a, 1, datetime(2027, 3, 4, 23, 30, tzinfo=UTC))  # 00:30 on 5 March in Berlin
    _pay_at(b, 0, datetime(2027, 3, 5, 10, 0, tzinfo=UTC))
    clock.set_now(datetime(2027, 3, 6, 9, 0, tzinfo=UTC))
    cancel(a.staff, a.appointments[1].id, by_clinic=True)  # 50 back on 6 March
    return ann, bob


def _by_doctor(rows):
    return {row.username: (row.payments, row.paid, row.refunded, row.revenue) for row in rows}


def test_all_time_revenue_per_doctor(takings):
    admin = actor_for(make_user("admin"))
    assert _by_doctor(reports.revenue(admin)) == {"ann": (2, 13000, 5000, 8000), "bob": (1, 12000, 0, 12000)}


def test_a_period_is_made_of_local_days(takings):
    admin = actor_for(make_user("admin"))
    on_4th = reports.revenue(admin, first=date(2027, 3, 4), last=date(2027, 3, 4))
    assert _by_doctor(on_4th) == {"ann": (1, 8000, 0, 8000)}
    on_5th = reports.revenue(admin, first=date(2027, 3, 5), last=date(2027, 3, 5))
    assert _by_doctor(on_5th) == {"ann": (1, 5000, 0, 5000), "bob": (1, 12000, 0, 12000)}
    from_6th = reports.revenue(admin, first=date(2027, 3, 6))
    assert _by_doctor(from_6th) == {"ann": (0, 0, 5000, -5000)}  # a refund counts on the day it was made
    up_to_5th = reports.revenue(admin, last=date(2027, 3, 5))
    assert _by_doctor(up_to_5th) == {"ann": (2, 13000, 0, 13000), "bob": (1, 12000, 0, 12000)}


def test_one_doctor_and_an_empty_period(takings):
    admin = actor_for(make_user("admin"))
    assert _by_doctor(reports.revenue(admin, doctor_username="bob")) == {"bob": (1, 12000, 0, 12000)}
    quiet = reports.revenue(admin, doctor_username="bob", first=date(2027, 4, 1), last=date(2027, 4, 30))
    assert _by_doctor(quiet) == {"bob": (0, 0, 0, 0)}
    assert reports.revenue(admin, first=date(2027, 4, 1)) == []


def test_a_doctor_reads_only_their_own_revenue(takings):
    ann, _ = takings
    ann_actor = actor_for(ann.user)
    assert _by_doctor(reports.revenue(ann_actor)) == {"ann": (2, 13000, 5000, 8000)}
    with pytest.raises(PermissionDenied):
        reports.revenue(ann_actor, doctor_username="bob")
    with pytest.raises(PermissionDenied):
        reports.revenue(actor_for(make_user("reception")))


def test_bad_doctor_and_backwards_period(takings):
    admin = actor_for(make_user("admin"))
    with pytest.raises(NotFound, match="unknown doctor 'zed'"):
        reports.revenue(admin, doctor_username="zed")
    with pytest.raises(BadInput, match="before it starts"):
        reports.revenue(admin, first=date(2027, 3, 6), last=date(2027, 3, 5))
