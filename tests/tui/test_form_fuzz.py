"""The TUI's forms fed generated text, as the CLI fuzz test feeds its commands: the app keeps
running, every submission ends in an inline message or a notification (or is simply done), and
nothing a user typed reaches the terminal raw: Rich markup shows its brackets, control
characters never get painted.

Text arrives as a terminal's bracketed paste does (``events.Paste``), so it may hold anything a
keyboard cannot type: ESC, BEL, C1 controls, ``[bold red]x[/]``, right-to-left marks, thousands of
characters. Each form runs one hand-picked batch of nasty strings and a couple of generated ones
(derandomized, so a failure reproduces).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from textual import events
from textual.widgets import Input, Label

from clinic_desk.screens.app import ClinicDeskApp
from clinic_desk.screens.appointment import AppointmentScreen, CancelDialog
from clinic_desk.screens.booking import BookDialog
from clinic_desk.screens.dialogs import AmountDialog, PatientDialog, TextDialog
from clinic_desk.services import clock, reviews
from clinic_desk.store.models import Patient, Review
from tests.factories import actor_for, make_appointment, make_patient, make_slot

from .conftest import settle
from .desk_data import DAY

NASTY = [
    "",
    "x" * 3000,
    "[bold red]x[/]",
    "[/]",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x9b31m a\x00b\x7fc\rd",
    "\u202eZoë Ünïcødé 李小龍 🙂 '; DROP TABLE patient;--",
]
NASTY_AMOUNTS = ["", "[bold red]1[/]", "\x1b]0;pwned\x07", "-5", "80.555", "1e3", "9" * 40, "٨٠", "NaN"]
NASTY_PATIENT_FIELDS = [*NASTY, "2027-02-30"]
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
text = st.one_of(st.sampled_from(NASTY), any_text)
batch = st.lists(text, min_size=2, max_size=2)

cards = st.one_of(
    st.sampled_from(["4242 4242 4242 4242", "4000000000000002", "4242424242424241", "1234", "", "[b]4242[/b]", "\x1b[2J"]),
    st.text(alphabet="0123456789 -", max_size=25),
)
expiries = st.sampled_from(["", "12/30", "13/30", "01/20", "x", "12/2030", "\x1b", "[/]"])
book_batch = st.lists(st.tuples(text, cards, expiries), min_size=2, max_size=2)
NASTY_BOOKINGS = [
    ("[bold red]x[/]", "4242 4242 4242 4242", "12/30"),
    ("\x1b]0;pwned\x07", "", ""),
    ("x" * 5000, "1234", "13/30"),
    ("Zoë 🙂", "4000000000000002", "[/]"),
    ("", "\x1b[2J", "\x1b"),
]

FUZZ = settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
SIZE = (100, 30)
_unique = itertools.count(1)


def run(flow) -> None:  # noqa: ANN001 - an async function of no arguments
    asyncio.run(flow())


# -- what the user sees ------------------------------------------------------------------


def painted(app) -> list[str]:  # noqa: ANN001
    """The text of every line of the screen as it is written to the terminal."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def raw_controls(app) -> set[str]:  # noqa: ANN001
    """Control characters a terminal would obey, anywhere on the painted screen."""
    return {ch for line in painted(app) for ch in line if ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F}


def alive(app) -> bool:  # noqa: ANN001
    return app._exception is None and not app._exit


def notifications(app) -> int:  # noqa: ANN001
    """How many notifications the app has shown so far (they expire from the screen, so count)."""
    if not hasattr(app, "shown_notifications"):
        app.shown_notifications = []
        show = app.notify

        def notify(message: str, **options) -> None:  # noqa: ANN003
            app.shown_notifications.append(message)
            show(message, **options)

        app.notify = notify
    return len(app.shown_notifications)


def says_why(app) -> bool:  # noqa: ANN001
    """An inline message on the screen: a field's error, a form's error line, an invalid input."""
    screen = app.screen
    for message in screen.query(".field-error, .form-error").results(Label):
        if message.display and not message.has_class("-ok") and str(message.render()).strip():
            return True
    return any(field.has_class("-invalid") for field in screen.query(Input))


def healthy(app) -> None:  # noqa: ANN001
    assert alive(app), "the app stopped"
    assert not raw_controls(app), f"raw control characters painted: {raw_controls(app)!r}"


# -- typing ----------------------------------------------------------------------------------


async def paste_into(pilot, selector: str, value: str) -> None:  # noqa: ANN001
    """Empty the field and paste ``value`` into it (as a terminal's bracketed paste arrives)."""
    widget = pilot.app.screen.query_one(selector)
    widget.clear()
    widget.post_message(events.Paste(value))
    await pilot.pause()


async def opened(pilot, key: str, dialog: type) -> None:  # noqa: ANN001
    """The ``dialog`` on screen: still open from the last value (it refused it), or opened by ``key``."""
    if not isinstance(pilot.app.screen, dialog):
        await pilot.press(key)
        await settle(pilot)
    assert isinstance(pilot.app.screen, dialog)


async def submitted(pilot, key: str, dialog: type) -> None:  # noqa: ANN001
    """Press ``key`` in the open ``dialog``: once everything settled, the app runs and paints
    nothing raw, and the dialog either closed with a notification (done, or refused by the
    service) or stays open saying why (an inline message)."""
    app = pilot.app
    before = notifications(app)
    await pilot.press(key)
    await settle(pilot)
    told = notifications(app) > before
    healthy(app)
    if isinstance(app.screen, dialog):
        assert says_why(app) or told, f"{dialog.__name__} refused without saying why"
    else:
        assert told, f"{dialog.__name__} closed without a word"


async def each_through(pilot, key: str, dialog: type, selector: str, values, submit: str) -> None:  # noqa: ANN001
    """For each value: open ``dialog`` with ``key``, paste the value into ``selector``, submit."""
    for value in values:
        await opened(pilot, key, dialog)
        await paste_into(pilot, selector, value)
        await submitted(pilot, submit, dialog)


# -- the forms -------------------------------------------------------------------------------


@FUZZ
@given(strings=batch)
@example(strings=NASTY)
def test_login_form(desk, strings):
    async def flow() -> None:
        app = ClinicDeskApp(live=False, blink=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for username, password in zip(strings, strings[1:] + strings[:1]):
                await paste_into(pilot, "#login-username", username)
                await paste_into(pilot, "#login-password", password)
                app.screen.query_one("#login-password").focus()
                await pilot.press("enter")
                await settle(pilot)
                healthy(app)
                assert app.actor is None
                assert str(app.screen.query_one("#login-error").render()).strip(), "a refused login says why"

    run(flow)


@FUZZ
@given(strings=batch)
@example(strings=NASTY_PATIENT_FIELDS)
def test_patient_register_and_edit_dialogs(desk, desk_app, strings):
    fields = ["#patient-name", "#patient-email", "#patient-phone", "#patient-birth"]

    async def flow() -> None:
        app = desk_app("reception1", start="patients")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for n, value in enumerate(strings[::2]):  # register: this value in one field, the others fine
                await opened(pilot, "ctrl+n", PatientDialog)
                good = {"#patient-name": "Fuzz Patient", "#patient-email": f"fuzz{next(_unique)}@example.test",
                        "#patient-phone": "", "#patient-birth": ""}
                for selector, text in good.items():
                    app.screen.query_one(f"{selector} Input").value = text
                await paste_into(pilot, f"{fields[n % len(fields)]} Input", value)
                await submitted(pilot, "ctrl+s", PatientDialog)
            if isinstance(app.screen, PatientDialog):
                await pilot.press("escape")
            app.selected_patient_id = desk.ben.id
            for n, selector in enumerate(fields):  # edit Ben: values in each field in turn
                await each_through(pilot, "ctrl+t", PatientDialog, f"{selector} Input", strings[1 + 2 * n :: 8], "ctrl+s")

    run(flow)


@FUZZ
@given(strings=batch)
@example(strings=NASTY_AMOUNTS)
def test_deposit_and_withdraw_dialogs(desk, desk_app, strings):
    async def flow() -> None:
        app = desk_app("reception1", start="wallet")
        app.selected_patient_id = desk.anna.id
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for key, values in (("d", strings[::2]), ("w", strings[1::2])):
                await each_through(pilot, key, AmountDialog, "#amount Input", values, "enter")
                if isinstance(app.screen, AmountDialog):
                    await pilot.press("escape")
                    await settle(pilot)

    run(flow)


@FUZZ
@given(bookings=book_batch)
@example(bookings=NASTY_BOOKINGS)
def test_booking_dialog_reason_and_card(desk, desk_app, bookings):
    for _ in bookings:  # a free slot today for each booking of this example
        make_slot(desk.doctor, DAY.replace(hour=12) + timedelta(minutes=5 * next(_unique)), minutes=5)

    async def flow() -> None:
        app = desk_app("reception1", start="calendar")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for reason, card, expiry in bookings:
                if not isinstance(app.screen, BookDialog):
                    assert await open_a_free_slot(pilot)
                    await paste_into(pilot, "#book-picker #patient-search", "Anna")
                    await settle(pilot)
                    await pilot.press("enter")  # one match: she is the patient
                await paste_into(pilot, "#book-reason Input", reason)
                if card or expiry:
                    app.screen.query_one("#pay-card").value = True
                    await settle(pilot)
                    await paste_into(pilot, "#book-card-number Input", card)
                    await paste_into(pilot, "#book-card-expiry Input", expiry)
                await submitted(pilot, "ctrl+s", BookDialog)

    run(flow)


async def open_a_free_slot(pilot) -> bool:  # noqa: ANN001
    """Enter on a free slot of the calendar's day: the booking dialog."""
    app = pilot.app
    screen = app.screen
    free = [key for key, slot in screen.slots.items() if slot.free]
    if not free:
        return False
    table = screen.query_one("#calendar-slots")
    table.focus()
    table.move_cursor(row=table.get_row_index(free[0]))
    await pilot.press("enter")
    await settle(pilot)
    return isinstance(app.screen, BookDialog)


@FUZZ
@given(strings=batch)
@example(strings=NASTY)
def test_cancel_reason(desk, desk_app, strings):
    appointments = [
        make_appointment(make_slot(desk.doctor, DAY + timedelta(days=1, minutes=5 * next(_unique)), minutes=5), desk.anna, status="confirmed")
        for _ in strings
    ]

    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for reason in strings:
                if not isinstance(app.screen, CancelDialog):
                    if isinstance(app.screen, AppointmentScreen):
                        await pilot.press("escape")  # back from the one just cancelled
                    app.push_screen(AppointmentScreen(appointments.pop().id))
                    await settle(pilot)
                    await opened(pilot, "x", CancelDialog)
                await paste_into(pilot, "#cancel-reason", reason)
                await submitted(pilot, "ctrl+s", CancelDialog)

    run(flow)


@FUZZ
@given(strings=batch)
@example(strings=NASTY)
def test_visit_notes(desk, desk_app, strings):
    clock.set_now(DAY + timedelta(hours=2))  # 11:00 Berlin: today's visits have begun

    async def flow() -> None:
        app = desk_app("dr.house", start="my_day")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await each_through(pilot, "e", TextDialog, "#text", strings, "ctrl+s")

    run(flow)


@FUZZ
@given(strings=batch)
@example(strings=NASTY)
def test_review_reject_reason_and_doctor_response(desk, desk_app, strings):
    async def flow() -> None:
        admin = desk_app("admin1", start="reviews")
        async with admin.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for value in strings[::2]:
                if not isinstance(admin.screen, TextDialog):
                    Review.update(status="pending", reject_reason="").execute()
                    admin.screen.load()
                    await settle(pilot)
                    await opened(pilot, "r", TextDialog)
                await paste_into(pilot, "#text", value)
                await submitted(pilot, "enter", TextDialog)
        Review.update(status="pending", reject_reason="").execute()
        reviews.approve(actor_for(desk.admin), Review.get().id)
        doctor = desk_app("dr.house", start="reviews")
        async with doctor.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await each_through(pilot, "o", TextDialog, "#text", strings[1::2], "ctrl+s")

    run(flow)


@FUZZ
@given(strings=batch)
@example(strings=NASTY)
def test_search_fields_and_the_palette(desk, desk_app, strings):
    async def flow() -> None:
        app = desk_app("reception1", start="doctors")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for value in strings:
                await paste_into(pilot, "#doctor-search", value)
                await paste_into(pilot, "#doctor-max-fee", value)
                await settle(pilot)
                healthy(app)
                fee = app.screen.query_one("#doctor-max-fee", Input)
                assert fee.has_class("-invalid") or fee.has_class("-valid") or not fee.value.strip()
            await pilot.press("f5")
            await settle(pilot)
            for value in strings:
                await paste_into(pilot, "#patient-search", value)
                await settle(pilot)
                healthy(app)
            await pilot.press("ctrl+p")
            await settle(pilot)
            palette = app.focused
            for value in strings:
                palette.clear()
                palette.post_message(events.Paste(value))
                await pilot.pause(0.2)  # the palette searches as it is typed into
                await settle(pilot)
                healthy(app)

    run(flow)


# -- shown literally -------------------------------------------------------------------------

ODD_NAME = "[bold red]x[/] \x1b]0;pwned\x07 \x9b2J"
SHOWN = "[bold red]x[/] \\x1b]0;pwned\\x07 \\x9b2J"


def test_markup_and_escape_sequences_in_names_render_literally(desk, desk_app):
    """A name written before names were checked (or by another program) is shown as written:
    brackets and all, its escape sequences spelled out, none of them obeyed."""
    odd = make_patient(ODD_NAME, email="odd@example.test")

    async def flow() -> None:
        app = desk_app("reception1", start="patients")
        async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts painted too
            await settle(pilot)
            await paste_into(pilot, "#patient-search", "odd@")
            await settle(pilot)
            table = app.screen.query_one("#patient-results")
            assert table.row_count == 1 and str(table.get_row(str(odd.id))[1]) == SHOWN
            assert sum(line.count(SHOWN) for line in painted(app)) == 2  # in the table and the details
            assert not raw_controls(app)
            await pilot.press("ctrl+n")
            await settle(pilot)
            await paste_into(pilot, "#patient-name Input", "[b]Bea[/b] Bold")
            await paste_into(pilot, "#patient-email Input", "bea@example.test")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert Patient.get(Patient.email == "bea@example.test").full_name == "[b]Bea[/b] Bold"
            assert any("Registered [b]Bea[/b] Bold" in str(n.message) for n in app._notifications)
            assert any("Registered [b]Bea[/b] Bold" in line for line in painted(app))  # the toast, literally
            await pilot.press("ctrl+p")
            await settle(pilot)
            app.focused.post_message(events.Paste("bold"))
            await pilot.pause(0.2)
            await settle(pilot)
            assert any("[bold red]x[/]" in line for line in painted(app))  # the palette's hit
            assert not raw_controls(app)

    run(flow)
