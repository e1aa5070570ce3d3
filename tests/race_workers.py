"""The race tests' processes: ``run_all`` in the test, the entry points in the spawned children
(each child opens the database URL itself)."""

from __future__ import annotations

import multiprocessing
import random
from datetime import date, time

from clinic_desk import config
from clinic_desk.config import ClinicSettings, DatabaseSettings, Settings
from clinic_desk.errors import ClinicError
from clinic_desk.services import booking, clock, slotgen
from clinic_desk.services.actors import Actor
from clinic_desk.store.db import db as proxy
from clinic_desk.store.db import open_database

SPAWN = multiprocessing.get_context("spawn")


def run_all(target, argument_lists) -> list:
    """Start one spawned process per argument tuple (each also gets a start barrier and the result
    queue), wait for one result from each, and return them."""
    barrier = SPAWN.Barrier(len(argument_lists))
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args, barrier, results)) for args in argument_lists]
    proxy.close()  # this process holds no lock or snapshot while the children run; it reconnects after
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return outcomes


def _setup(url: str, now) -> None:
    config.use(Settings(database=DatabaseSettings(url=url), clinic=ClinicSettings(timezone="Europe/Berlin")))
    open_database(url)
    clock.set_now(now)


def book_one(url, now, actor: Actor, patient_id: int, slot_id: int, barrier, results) -> None:
    """Book one slot as soon as every desk is ready; report ("ok", id) or ("refused", message)."""
    _setup(url, now)
    barrier.wait()
    try:
        results.put(("ok", booking.book(actor, patient_id, slot_id).id))
    except ClinicError as exc:
        results.put(("refused", exc.message))
    except Exception as exc:  # noqa: BLE001 - the test must hear of it, not wait for it
        results.put(("crashed", repr(exc)))


def book_randomly(url, now, actor: Actor, patient_ids, slot_ids, attempts: int, seed: int, barrier, results) -> None:
    """Book random (patient, slot) pairs from the hot set; report every outcome."""
    _setup(url, now)
    chooser = random.Random(seed)
    barrier.wait()
    outcomes = []
    for _ in range(attempts):
        try:
            booking.book(actor, chooser.choice(patient_ids), chooser.choice(slot_ids))
            outcomes.append(("ok", ""))
        except ClinicError as exc:
            outcomes.append(("refused", exc.message))
        except Exception as exc:  # noqa: BLE001 - the test must hear of it, not wait for it
            outcomes.append(("crashed", repr(exc)))
    results.put(outcomes)


def generate(url, now, actor: Actor, username: str, length: int, barrier, results) -> None:
    """Generate two weeks of slots of ``length`` minutes for the doctor."""
    _setup(url, now)
    barrier.wait()
    try:
        summary = slotgen.generate(
            actor, username, date(2027, 5, 3), date(2027, 5, 16), start=time(8), end=time(18), length=length
        )
        results.put(("ok", summary.created, summary.conflicts))
    except ClinicError as exc:
        results.put(("refused", exc.message, 0))
    except Exception as exc:  # noqa: BLE001 - the test must hear of it, not wait for it
        results.put(("crashed", repr(exc), 0))
