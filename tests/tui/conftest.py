"""TUI fixtures: a fixed desk, an app logged in as someone, and waiting for workers to settle."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.worker import WorkerCancelled

from clinic_desk.screens.app import ClinicDeskApp
from tests.factories import actor_for

from .desk_data import Desk, seed_desk


@pytest.fixture
def desk(db, frozen_clock) -> Desk:
    return seed_desk()


@pytest.fixture
def desk_app(desk: Desk) -> Callable[..., ClinicDeskApp]:
    """``desk_app("reception1", start="calendar")``: an app already logged in, cursor still,
    no change watcher (tests that need one start it themselves)."""

    users = {"admin1": desk.admin, "reception1": desk.reception, "dr.house": desk.doctor_user}

    def make(username: str = "reception1", *, start: str = "dashboard", live: bool = False) -> ClinicDeskApp:
        return ClinicDeskApp(actor=actor_for(users[username]), start=start, live=live, blink=False)

    return make


async def settle(pilot) -> None:
    """Wait until every service worker has answered and its message has been rendered (and any
    worker that answer started has answered too)."""
    app = pilot.app
    for _ in range(5):
        busy = [w for w in app.workers if w.group not in {"live", "probe"} and not w.is_cancelled and not w.is_finished]
        for worker in busy:
            try:
                await worker.wait()
            except WorkerCancelled:  # superseded by a newer search: its answer is dropped
                pass
        await pilot.pause()
        if not busy:
            return
