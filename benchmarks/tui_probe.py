"""The TUI measured from inside a fresh process, headless (``App.run_test``); run by bench_tui:

    python -m benchmarks.tui_probe first-frame        `clinic-desk tui` up to the login form painted
    python -m benchmarks.tui_probe calendar SPEC      open the calendar, PgDn month after month
    python -m benchmarks.tui_probe bare               a bare Textual app's memory (the baseline)

Each prints one line when done (the parent times first-frame from spawn to that line). "Painted"
means: the screen's compositor produced the frame after the change (``App._display`` is called
with it; headless, nothing is written to a terminal).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable

SIZE = (120, 40)
TIMEOUT_S = 120


def _memory_kb() -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (its peak) of this process, in kB."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                found[name] = int(value.split()[0])
    return found


class FrameClock:
    """Tells when the first frame showing some state is composed (wraps the app's ``_display``,
    where each composed frame goes; the condition is checked right there, for that frame)."""

    def __init__(self, app) -> None:  # noqa: ANN001 - a Textual App
        self._waiting: tuple[Callable[[], bool], asyncio.Future] | None = None
        display = app._display

        def recording(screen, renderable) -> None:  # noqa: ANN001 - Textual's types
            display(screen, renderable)
            if renderable is not None and self._waiting is not None:
                condition, future = self._waiting
                if not future.done() and condition():
                    future.set_result(time.perf_counter())

        app._display = recording

    def painted_when(self, condition: Callable[[], bool]) -> asyncio.Future:
        """A future: the time of the first frame composed while ``condition()`` holds. Ask before
        causing the change."""
        future = asyncio.get_running_loop().create_future()
        self._waiting = (condition, future)
        return future


# -- first frame -----------------------------------------------------------------------


def first_frame() -> None:
    """Start exactly as `clinic-desk tui` does (the CLI, its settings, the database) with the
    App run headless: ready when the login form is up and painted."""
    from clinic_desk.screens import app as app_module

    def run_headless() -> None:
        asyncio.run(_login_painted(app_module.ClinicDeskApp()))

    app_module.run_app = run_headless
    from clinic_desk.cli import run

    code = run(["tui"])
    if code:
        sys.exit(code)


async def _login_painted(app) -> None:  # noqa: ANN001 - the App
    from textual.widgets import ContentSwitcher

    def login_shown() -> bool:
        switchers = app.screen.query(ContentSwitcher)
        return bool(switchers) and switchers.first().current == "gate-login"

    painted = FrameClock(app).painted_when(login_shown)
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(painted, TIMEOUT_S)
        print(json.dumps({"ready": True}), flush=True)


# -- the calendar ------------------------------------------------------------------------


async def _calendar(spec: dict) -> dict:
    from datetime import UTC, date, datetime

    from clinic_desk.screens.app import ClinicDeskApp
    from clinic_desk.screens.calendar import CalendarScreen
    from clinic_desk.services import clock, queries
    from clinic_desk.services.actors import Actor
    from clinic_desk.widgets.month_grid import MonthGrid, add_months

    from .scratch import bind

    bind(os.environ["CLINIC_DESK_DATABASE_URL"])
    start = date.fromisoformat(spec["start_day"])
    clock.set_now(datetime(start.year, start.month, start.day, 8, 0, tzinfo=UTC))
    actor = Actor(**spec["actor"])
    doctor_id = spec["doctor_id"]
    app = ClinicDeskApp(actor=actor, start="calendar", live=False, blink=False)
    app.selected_doctor_id = doctor_id

    def grid() -> MonthGrid | None:
        screen = app.screen
        return screen.query_one(MonthGrid) if isinstance(screen, CalendarScreen) else None

    def month_shown(year: int, month: int) -> bool:
        g = grid()
        return g is not None and any(d.year == year and d.month == month for d in g.counts)

    frames = FrameClock(app)
    opened_at = time.perf_counter()
    painted = frames.painted_when(lambda: month_shown(start.year, start.month))
    async with app.run_test(size=SIZE) as pilot:
        opened = await asyncio.wait_for(painted, TIMEOUT_S)
        await app.workers.wait_for_complete()
        await pilot.pause()
        memory_open = _memory_kb()
        switches, queries_ms = [], []
        cursor = grid().cursor
        for _ in range(spec["presses"]):
            target = add_months(cursor, 1)
            painted = frames.painted_when(lambda: month_shown(target.year, target.month))
            pressed = time.perf_counter()
            await pilot.press("pagedown")
            switches.append((await asyncio.wait_for(painted, TIMEOUT_S) - pressed) * 1000)
            await app.workers.wait_for_complete()  # the day's slots too, before the next key
            await pilot.pause()
            cursor = grid().cursor
            began = time.perf_counter()
            queries.month_occupancy(actor, doctor_id, target.year, target.month)
            queries_ms.append((time.perf_counter() - began) * 1000)
        memory_end = _memory_kb()
    return {
        "open_s": opened - opened_at,
        "rss_kb": memory_open["VmRSS"],
        "hwm_kb": memory_end["VmHWM"],
        "rss_end_kb": memory_end["VmRSS"],
        "switch_ms": switches,
        "query_ms": queries_ms,
    }


def calendar(spec_json: str) -> None:
    print(json.dumps(asyncio.run(_calendar(json.loads(spec_json)))), flush=True)


# -- a bare Textual app ----------------------------------------------------------------------


def bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")
            yield Footer()

    async def main() -> dict:
        app = Bare()
        painted = FrameClock(app).painted_when(lambda: True)
        async with app.run_test(size=SIZE):
            await asyncio.wait_for(painted, TIMEOUT_S)
            return {"rss_kb": _memory_kb()["VmRSS"]}

    print(json.dumps(asyncio.run(main())), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "first-frame":
        first_frame()
    elif mode == "calendar":
        calendar(sys.argv[2])
    elif mode == "bare":
        bare()
    else:
        sys.exit(f"unknown mode {mode!r}")
