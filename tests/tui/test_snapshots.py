"""Every screen at 100x30 (and the calendar at 80x24, the dashboard at 200x60), frozen clock and
fixed data. Sync tests: ``snap_compare`` runs the app itself. Update after a deliberate change
with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the report."""

from __future__ import annotations

from clinic_desk.errors import DatabaseUnavailable
from clinic_desk.screens import app as app_module
from clinic_desk.screens.app import ClinicDeskApp
from clinic_desk.services import dashboard

from .conftest import settle

SIZE = (100, 30)


def keys(*pressed: str):
    """A ``run_before`` that waits for the workers, presses keys (settling after each), and waits again."""

    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def typed(text: str) -> list[str]:
    return list(text)


def test_login(desk, snap_compare):
    assert snap_compare(ClinicDeskApp(live=False, blink=False), terminal_size=SIZE, run_before=keys())


def test_login_refused(desk, snap_compare):
    app = ClinicDeskApp(live=False, blink=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys(*typed("reception1"), "enter", *typed("nope"), "enter"))


def test_first_run(db, frozen_clock, snap_compare):
    assert snap_compare(ClinicDeskApp(live=False, blink=False), terminal_size=SIZE, run_before=keys())


def test_dashboard_reception(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys())


def test_dashboard_admin(desk_app, snap_compare):
    assert snap_compare(desk_app("admin1"), terminal_size=SIZE, run_before=keys())


def test_dashboard_admin_200x60(desk_app, snap_compare):
    assert snap_compare(desk_app("admin1"), terminal_size=(200, 60), run_before=keys())


def test_dashboard_doctor(desk_app, snap_compare):
    assert snap_compare(desk_app("dr.house"), terminal_size=SIZE, run_before=keys())


def test_help(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys("f1"))


def test_palette(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys("ctrl+p", "a", "d"))


def test_doctors(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1", start="doctors"), terminal_size=SIZE, run_before=keys())


def test_calendar(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1", start="calendar"), terminal_size=SIZE, run_before=keys("right", "left"))


def test_calendar_80x24(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1", start="calendar"), terminal_size=(80, 24), run_before=keys())


def test_book_dialog(desk_app, snap_compare):
    steps = ["enter", "enter", *typed("Anna"), "enter", *typed("check-up"), "enter", "down", "enter"]
    assert snap_compare(desk_app("reception1", start="calendar"), terminal_size=SIZE, run_before=keys(*steps))


def test_appointment_detail(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys("enter"))


def test_cancel_dialog(desk_app, snap_compare):
    steps = ["enter", "x", *typed("patient is ill"), "tab", "space"]
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys(*steps))


def test_patients(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1", start="patients"), terminal_size=SIZE, run_before=keys())


def test_patient_dialog_says_what_is_wrong(desk_app, snap_compare):
    steps = ["ctrl+n", *typed("Carl Clark"), "enter", *typed("carl@"), "enter", *typed("12ab")]
    assert snap_compare(desk_app("reception1", start="patients"), terminal_size=SIZE, run_before=keys(*steps))


def test_wallet(desk, desk_app, snap_compare):
    app = desk_app("reception1", start="wallet")
    app.selected_patient_id = desk.anna.id
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_amount_dialog_says_what_is_wrong(desk, desk_app, snap_compare):
    app = desk_app("reception1", start="wallet")
    app.selected_patient_id = desk.anna.id
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("d", *typed("12.345")))


def test_my_day(desk_app, snap_compare):
    assert snap_compare(desk_app("dr.house", start="my_day"), terminal_size=SIZE, run_before=keys())


def test_reviews(desk_app, snap_compare):
    assert snap_compare(desk_app("admin1", start="reviews"), terminal_size=SIZE, run_before=keys())


def test_outbox(desk_app, snap_compare):
    assert snap_compare(desk_app("reception1", start="outbox"), terminal_size=SIZE, run_before=keys())


def test_outage_banner(desk_app, snap_compare, monkeypatch):
    def down(actor):  # noqa: ANN001, ANN202
        raise DatabaseUnavailable()

    monkeypatch.setattr(dashboard, "today", down)
    monkeypatch.setattr(app_module, "PROBE_SECONDS", 3600.0)
    assert snap_compare(desk_app("reception1"), terminal_size=SIZE, run_before=keys())
