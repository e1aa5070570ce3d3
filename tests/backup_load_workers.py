"""The desks of the backup-under-load test: spawned children that book, pay, cancel and deposit in a
loop until told to stop (or a bound on rounds and time). A light module: a child imports only this."""

from __future__ import annotations

import random
import time
from collections import Counter

from clinic_desk import config
from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
from clinic_desk.errors import ClinicError
from clinic_desk.services import booking, clock, payments, wallet
from clinic_desk.services.actors import Actor
from clinic_desk.store.db import open_database

MAX_ROUNDS = 5000
MAX_SECONDS = 180.0


def desk(url, now, actor: Actor, patient_ids, slot_ids, seed: int, stop, results) -> None:
    """Work like a busy reception desk; report ("done", counts) or ("crashed", what)."""
    config.use(Settings(database=DatabaseSettings(url=url), clinic=ClinicSettings(timezone="Europe/Berlin")))
    open_database(url, busy_timeout_ms=60_000)
    clock.set_now(now)
    chooser = random.Random(seed)
    booked: list[int] = []
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + MAX_SECONDS
    try:
        for _ in range(MAX_ROUNDS):
            if stop.is_set() or time.monotonic() > deadline:
                break
            roll = chooser.random()
            try:
                if roll < 0.5:
                    appointment = booking.book(actor, chooser.choice(patient_ids), chooser.choice(slot_ids))
                    booked.append(appointment.id)
                    payments.pay(actor, appointment.id, method="wallet")
                elif roll < 0.75 and booked:
                    booking.cancel(actor, booked.pop(chooser.randrange(len(booked))), "desk test", by_clinic=True)
                else:
                    wallet.deposit(actor, chooser.choice(patient_ids), chooser.choice((2500, 8000, 12000)))
                counts["done"] += 1
            except ClinicError:
                counts["refused"] += 1
    except Exception as exc:  # noqa: BLE001 - the test must hear of it, not wait for it
        results.put(("crashed", repr(exc)))
        return
    results.put(("done", dict(counts)))
