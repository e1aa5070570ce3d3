"""Live updates between desks, and the database-outage banner."""

from __future__ import annotations

import asyncio
import time

import psycopg2
import pytest

from clinic_desk.errors import DatabaseUnavailable
from clinic_desk.screens import app as app_module
from clinic_desk.services import dashboard
from clinic_desk.store.db import db as proxy
from tests.conftest import PG_URL

from .conftest import settle

WITHIN_SECONDS = 2.0


async def shows(pilot, predicate, *, within: float) -> bool:  # noqa: ANN001
    """Poll the running app (no key pressed) until ``predicate()`` holds or ``within`` has passed."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


def test_a_second_desk_sees_a_booking_made_at_the_first_within_two_seconds(desk, desk_app):
    async def flow() -> None:
        first = desk_app("reception1", start="calendar")
        second = desk_app("reception1", start="calendar", live=True)
        async with first.run_test(size=(100, 30)) as one, second.run_test(size=(100, 30)) as two:
            await settle(one)
            await settle(two)
            slots = second.screen.query_one("#calendar-slots")
            row = str(desk.slots[0].id)
            assert "Anna Adler" not in str(slots.get_row(row))
            await one.press("enter", "enter")
            await settle(one)
            await one.press(*"Anna")
            await settle(one)
            await one.press("enter", "ctrl+s")
            await settle(one)
            assert "Anna Adler" in str(first.screen.query_one("#calendar-slots").get_row(row))
            # The second desk: nobody touches it.
            assert await shows(two, lambda: "Anna Adler" in str(slots.get_row(row)), within=WITHIN_SECONDS)

    asyncio.run(flow())


def test_a_database_outage_shows_a_banner_that_clears_when_it_comes_back(desk, desk_app, monkeypatch):
    down = {"now": True}
    real_today, real_ping = dashboard.today, dashboard.ping

    def today(actor):  # noqa: ANN001, ANN202
        if down["now"]:
            raise DatabaseUnavailable()
        return real_today(actor)

    def ping():  # noqa: ANN202
        if down["now"]:
            raise DatabaseUnavailable()
        return real_ping()

    monkeypatch.setattr(dashboard, "today", today)
    monkeypatch.setattr(dashboard, "ping", ping)
    monkeypatch.setattr(app_module, "PROBE_SECONDS", 0.1)

    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.3)
            banner = app.screen.query_one("OutageBanner")
            assert app.db_down and banner.display and "database unavailable" in str(banner.render())
            assert app.screen.query_one("#arrivals").row_count == 0
            down["now"] = False
            assert await shows(pilot, lambda: not app.db_down and not banner.has_class("-down"), within=2)
            await settle(pilot)
            assert app.screen.query_one("#arrivals").row_count == 2  # reloaded once it came back

    asyncio.run(flow())


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL connections: run in the PostgreSQL pass")
def test_the_desks_kept_connections_are_replaced_when_the_server_drops_them(db, desk, desk_app):
    """Workers keep their PostgreSQL connection from call to call; when the server drops them
    all (a restart, pg_terminate_backend), the next load reconnects: no banner, no refusal."""

    def drop_the_desks_connections() -> int:
        own = proxy.execute_sql("SELECT pg_backend_pid()").fetchone()[0]  # the test's own, kept
        admin = psycopg2.connect(db)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = 'clinic-desk' AND pid <> %s",
                    (own,),
                )
                return cursor.fetchone()[0]
        finally:
            admin.close()

    async def flow() -> None:
        app = desk_app("reception1", start="patients")
        refused = []
        app.notify = lambda message, **options: refused.append(message)  # noqa: ARG005
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert drop_the_desks_connections() >= 1  # the desk kept its workers' connections
            await pilot.press("f3")  # the doctors screen loads on them
            await settle(pilot)
            assert app.screen.query_one("#doctor-table").row_count == 2
            assert not app.db_down and not refused

    asyncio.run(flow())
