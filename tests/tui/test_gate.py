"""The way in (login, TOTP, lockout, first run), navigation, help, the palette, and imports."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys

import pyotp
from rich.console import Console

from clinic_desk import config
from clinic_desk.commands import saved_session
from clinic_desk.screens.app import ClinicDeskApp
from clinic_desk.screens.help import HelpScreen, key_table
from clinic_desk.services import accounts, clock
from clinic_desk.store.models import User
from tests.factories import actor_for

from .conftest import settle


def run(flow) -> None:  # noqa: ANN001
    asyncio.run(flow())


def text_of(app, selector: str) -> str:  # noqa: ANN001
    return str(app.screen.query_one(selector).render())


async def paste(pilot, text: str) -> None:  # noqa: ANN001
    """Put text into the focused field at once (as a paste does; typing it key by key is slow)."""
    pilot.app.focused.insert_text_at_cursor(text)
    await pilot.pause()


async def log_in(pilot, username: str, password: str = "correct-horse-battery") -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press(*username, "enter")
    await paste(pilot, password)
    await pilot.press("enter")
    await settle(pilot)


def test_login_opens_the_dashboard_with_the_keys_of_the_role(desk):
    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await log_in(pilot, "dr.house")
            assert app.actor is not None and app.actor.username == "dr.house"
            assert app.current_mode == "dashboard"
            assert [mode for _, mode, _ in app.navigation()] == ["dashboard", "doctors", "calendar", "my_day", "reviews"]
            await pilot.press("f5")  # patients are the desk's business, not a doctor's
            assert app.current_mode == "dashboard"
            await pilot.press("f7")
            assert app.current_mode == "my_day"
            await pilot.press("f10")  # log out: back at an empty login form
            await settle(pilot)
            assert app.actor is None and app.current_mode == "login"
            assert app.screen.query_one("#login-username").value == ""

    run(flow)


def test_a_wrong_password_says_so_and_the_fifth_locks_the_account(desk):
    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await log_in(pilot, "reception1", "wrong-password")
            assert text_of(app, "#login-error") == "invalid username or password"
            assert app.actor is None
            for _ in range(4):
                await paste(pilot, "wrong-password")
                await pilot.press("enter")
                await settle(pilot)
            assert text_of(app, "#login-error") == "account locked until 08:45"  # 15 minutes from 08:30
            await pilot.press("tab")
            await paste(pilot, "correct-horse-battery")
            await pilot.press("enter")
            await settle(pilot)
            assert app.actor is None and "account locked" in text_of(app, "#login-error")

    run(flow)


def test_an_account_with_two_factor_asks_for_the_code_after_the_password(desk):
    secret = pyotp.random_base32()
    User.update(totp_secret=secret, totp_confirmed=True).where(User.username == "reception1").execute()

    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            totp = app.screen.query_one("#login-totp")
            assert not totp.display
            await log_in(pilot, "reception1")
            assert totp.display and totp.has_focus and app.actor is None
            await pilot.press(*"000000", "enter")
            await settle(pilot)
            assert text_of(app, "#login-error") == "invalid two-factor code" and app.actor is None
            await pilot.press(*pyotp.TOTP(secret).at(clock.now()), "enter")
            await settle(pilot)
            assert app.actor is not None and app.current_mode == "dashboard"

    run(flow)


def test_an_empty_database_opens_the_first_run_form_that_creates_the_first_admin(db, frozen_clock):
    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#gate-switcher").current == "gate-first-run"
            assert "clinic-desk demo" in str(app.screen.query_one("#gate-first-run .form-hint").render())
            for value in ("boss", "Bea Boss", "boss@example.test", "a-long-passphrase", "a-long-passphrasX"):
                await paste(pilot, value)
                await pilot.press("enter")
            await settle(pilot)
            assert text_of(app, "#first-error") == "The two passwords differ."
            await pilot.press("ctrl+a", "ctrl+k")
            await paste(pilot, "a-long-passphrase")
            await pilot.press("enter")
            await settle(pilot)
            assert app.actor is not None and app.actor.role == "admin" and app.current_mode == "dashboard"
            assert User.get(User.username == "boss").role == "admin"

    run(flow)


def test_a_session_saved_by_clinic_desk_login_opens_the_desk_without_a_password(desk):
    token = accounts.start_session(actor_for(desk.reception), remember=False)  # what `clinic-desk login` does
    saved_session.save(config.current().database_url, token)

    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False, resume=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.actor is not None and app.actor.username == "reception1"
            assert app.current_mode == "dashboard" and app.screen.query_one("#arrivals").row_count == 2
            await pilot.press("f10")  # logging out of the desk leaves the login form, and stays there
            await settle(pilot)
            assert app.actor is None and app.current_mode == "login"

    run(flow)
    assert accounts.actor_for_session(token).username == "reception1"  # the CLI's session lives on


def test_an_ended_or_foreign_saved_session_leaves_the_login_form(desk):
    ended = accounts.start_session(actor_for(desk.reception), remember=False)
    accounts.end_session(ended)  # `clinic-desk logout`
    saved_session.save(config.current().database_url, ended)
    saved_session.save("sqlite:////elsewhere/clinic.db", accounts.start_session(actor_for(desk.admin), remember=False))

    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False, resume=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.actor is None
            assert app.screen.query_one("#gate-switcher").current == "gate-login"
            assert app.screen.query_one("#login-username").has_focus

    run(flow)


def test_f1_lists_every_screens_keys(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            console = Console(width=120, file=io.StringIO(), record=True)
            console.print(key_table(app.screen.sections))
            listed = console.export_text()
            for expected in ("F3", "Doctors", "Book dialog", "PgDn", "Deposit", "Approve", "Retry", "ctrl+q"):
                assert expected in listed
            await pilot.press("escape")
            assert app.current_mode == "dashboard" and app.screen.query("#arrivals")

    run(flow)


def test_the_palette_jumps_to_a_patient_by_name(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p", *"Berger")
            await settle(pilot)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "patients"
            assert app.selected_patient_id == desk.ben.id
            assert "Ben Berger" in str(app.screen.query_one("#patient-info").render())

    run(flow)


def test_the_palette_jumps_to_an_appointment_by_number_and_to_a_doctors_calendar(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p", "#", "2")
            await settle(pilot)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.TITLE_TEXT == "Appointment #2"
            await pilot.press("ctrl+p", *"Quinn")
            await settle(pilot)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "calendar" and app.selected_doctor_id == desk.other_doctor.id

    run(flow)


def test_importing_the_cli_commands_does_not_import_textual():
    code = "import sys, clinic_desk.commands as c; c.build_app(); print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_starting_the_desk_loads_no_screen_but_the_login():
    """Each screen's module (the calendar pulls in half the services) loads when its key is
    first pressed, so the login form is up sooner."""
    code = "import sys, clinic_desk.screens.app; print(' '.join(sorted(m for m in sys.modules if m.startswith('clinic_desk.screens.'))))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    screens = {"calendar", "doctors", "dashboard", "patients", "wallet", "my_day", "reviews", "outbox", "palette", "help", "booking"}
    assert "clinic_desk.screens.gate" in loaded
    assert not loaded & {f"clinic_desk.screens.{name}" for name in screens}
