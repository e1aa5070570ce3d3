"""Queuing mail: a dedupe key makes a retried event mail once."""

from __future__ import annotations

from clinic_desk.services import notify
from clinic_desk.store.models import Outbox

CODE = {"full_name": "Ann", "purpose_text": "signing in", "code": "123456", "minutes": 10}


def test_the_same_dedupe_key_queues_one_mail_and_returns_it_again(db, frozen_clock):
    first = notify.queue("one_time_code", "ann@example.test", CODE, dedupe_key="receipt:7")
    again = notify.queue("one_time_code", "ann@example.test", CODE, dedupe_key="receipt:7")
    assert again.id == first.id
    assert notify.queue_once("one_time_code", "ann@example.test", CODE, dedupe_key="receipt:7") is None
    assert Outbox.select().count() == 1


def test_mail_without_a_key_is_queued_every_time(db, frozen_clock):
    notify.queue("one_time_code", "ann@example.test", CODE)
    notify.queue("one_time_code", "ann@example.test", CODE)
    assert Outbox.select().count() == 2
