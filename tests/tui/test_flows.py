"""The desk's main flows at the keyboard (Pilot), on the fixed desk data."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from clinic_desk.services import clock, queries, reviews, wallet
from clinic_desk.store.models import Appointment, Doctor, Review
from tests.factories import actor_for

from .conftest import settle
from .desk_data import DAY


def run(flow) -> None:  # noqa: ANN001 - an async function of no arguments
    asyncio.run(flow())


def notes(app) -> list[str]:  # noqa: ANN001
    return [str(n.message) for n in app._notifications]


def test_reception_books_a_free_slot_for_an_existing_patient_and_pays_from_the_wallet(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1", start="calendar")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("enter")  # the grid is on today: into the day's slots
            await pilot.press("enter")  # 09:00 is free: book it
            await settle(pilot)
            await pilot.press(*"Anna")
            await settle(pilot)
            await pilot.press("enter")  # one match: she is the patient
            await pilot.press(*"check-up", "enter")
            await pilot.press("down", "enter")  # pay: later -> wallet
            await pilot.press("ctrl+s")
            await settle(pilot)
            booked = Appointment.get(Appointment.slot == desk.slots[0].id)
            assert booked.patient_id == desk.anna.id
            assert booked.reason == "check-up"
            view = queries.get_appointment(actor_for(desk.reception), booked.id)
            assert view.paid and view.status == "confirmed"  # paying confirms
            assert wallet.show(actor_for(desk.reception), desk.anna.id).balance == 20000 - 8000
            assert any(f"Booked #{booked.id}" in note for note in notes(app))
            slots = app.screen.query_one("#calendar-slots")
            assert "Anna Adler" in str(slots.get_row(str(desk.slots[0].id)))

    run(flow)


def test_reception_cancels_a_paid_appointment_for_the_clinic_and_the_wallet_is_refunded(desk, desk_app):
    from clinic_desk.services import booking, payments

    desk_actor = actor_for(desk.reception)
    view = booking.book(desk_actor, desk.anna.id, desk.slots[4].id, "follow-up")  # 11:00
    payments.pay(desk_actor, view.id, method="wallet")
    assert wallet.show(desk_actor, desk.anna.id).balance == 12000

    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "enter")  # today's third arrival: Anna at 11:00
            await settle(pilot)
            assert app.screen.TITLE_TEXT == f"Appointment #{view.id}"
            await pilot.press("x")
            await pilot.press(*"doctor is ill", "tab", "space", "ctrl+s")
            await settle(pilot)
            assert Appointment.get_by_id(view.id).status == "cancelled"
            assert wallet.show(desk_actor, desk.anna.id).balance == 20000
            assert any("Refunded 80.00" in note for note in notes(app))
            history = app.screen.query_one("#appointment-history")
            actions = [str(history.get_row_at(i)[2]) for i in range(history.row_count)]
            assert actions[0] == "appointment.book" and "appointment.cancel" in actions and "payment.refund" in actions

    run(flow)


def test_a_late_cancellation_tells_the_desk_that_the_payment_is_kept(desk, desk_app):
    from clinic_desk.services import booking, payments

    desk_actor = actor_for(desk.reception)
    view = booking.book(desk_actor, desk.anna.id, desk.slots[4].id, "follow-up")  # 11:00 today: late
    payments.pay(desk_actor, view.id, method="wallet")

    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "enter")
            await settle(pilot)
            await pilot.press("x")
            await pilot.press(*"patient is ill", "ctrl+s")  # the patient cancels, not the clinic
            await settle(pilot)
            assert Appointment.get_by_id(view.id).status == "cancelled"
            assert wallet.show(desk_actor, desk.anna.id).balance == 12000
            assert any("The payment is kept (late cancellation)" in note for note in notes(app))

    run(flow)


def test_a_doctor_marks_a_visit_completed_from_my_day(desk, desk_app):
    clock.set_now(DAY + timedelta(minutes=45))  # 09:45 Berlin: Ben's 09:30 visit has begun

    async def flow() -> None:
        app = desk_app("dr.house", start="my_day")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("d")  # the cursor is on the first visit: Ben at 09:30
            await settle(pilot)
            assert Appointment.get(Appointment.slot == desk.slots[1].id).status == "completed"
            row = app.screen.query_one("#my-day-table").get_row_at(0)
            assert str(row[1]) == "Ben Berger" and str(row[3]) == "completed"

    run(flow)


def test_an_admin_approves_a_pending_review(desk, desk_app):
    async def flow() -> None:
        app = desk_app("admin1", start="reviews")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#reviews-table").row_count == 1
            await pilot.press("a")
            await settle(pilot)
            assert Review.get().status == "approved"
            assert app.screen.query_one("#reviews-table").row_count == 0  # the queue is empty now
            doctor = Doctor.get_by_id(desk.doctor.id)
            assert (doctor.rating_count, doctor.rating_total) == (1, 4)

    run(flow)


def test_a_refusal_is_a_notification_that_says_why(desk, desk_app):
    from clinic_desk.services import booking

    async def flow() -> None:
        app = desk_app("reception1", start="calendar")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("enter", "enter")  # book 09:00...
            await settle(pilot)
            await pilot.press(*"Anna")
            await settle(pilot)
            await pilot.press("enter")
            booking.book(actor_for(desk.reception), desk.ben.id, desk.slots[0].id)  # ...another desk is quicker
            await pilot.press("ctrl+s")
            await settle(pilot)
            error = str(app.screen.query_one("#book-error").render())
            assert "slot already booked" in error
            assert Appointment.get(Appointment.slot == desk.slots[0].id).patient_id == desk.ben.id

    run(flow)


def test_reception_reschedules_in_the_calendar_picker(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("down", "enter")  # Anna at 10:30
            await settle(pilot)
            await pilot.press("s")  # the calendar opens on her day, as a picker
            await settle(pilot)
            assert app.screen.picking is not None
            await pilot.press("enter")  # into the day's slots: 09:00 is free
            await pilot.press("down", "down", "down", "down", "enter")  # 11:00, free
            await settle(pilot)
            moved = Appointment.get(Appointment.patient == desk.anna.id, Appointment.status == "pending")
            assert moved.slot_id == desk.slots[4].id
            assert app.screen.TITLE_TEXT == f"Appointment #{moved.id}"  # back on the detail
            assert any("Moved to Thu 04 Mar 11:00" in note for note in notes(app))

    run(flow)


def test_doctors_search_as_you_type_and_enter_opens_that_doctors_calendar(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1", start="doctors")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#doctor-table").row_count == 2
            await pilot.press(*"quinn")
            await settle(pilot)
            assert app.screen.query_one("#doctor-table").row_count == 1
            await pilot.press("enter", "enter")  # to the list, then open
            await settle(pilot)
            assert app.current_mode == "calendar" and app.selected_doctor_id == desk.other_doctor.id
            slots = app.screen.query_one("#calendar-slots")
            assert slots.row_count == 4  # Dr. Quinn's four slots today
            await pilot.press("pagedown")
            await settle(pilot)
            assert app.screen.query_one("#calendar-day").render().plain.startswith("Sunday 04 April 2027")
            await pilot.press("t")
            await settle(pilot)
            assert slots.row_count == 4

    run(flow)


def test_reception_registers_a_patient_and_deposits_into_the_wallet(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1", start="patients")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+n", *"Carl Clark", "enter", *"carl@example.test", "ctrl+s")
            await settle(pilot)
            carl = [p for p in app.screen.query_one("PatientPicker").found.values() if p.full_name == "Carl Clark"]
            assert carl and app.selected_patient_id == carl[0].id
            await pilot.press("f6", "d", *"-5", "enter")  # refused inline: nothing is sent
            await settle(pilot)
            assert wallet.show(actor_for(desk.reception), carl[0].id).balance == 0
            await pilot.press("ctrl+u", *"75.50", "enter")
            await settle(pilot)
            assert wallet.show(actor_for(desk.reception), carl[0].id).balance == 7550
            assert app.screen.query_one("#wallet-ledger").row_count == 1

    run(flow)


def test_outbox_retries_a_failed_message(desk, desk_app):
    from clinic_desk.store.models import Outbox

    async def flow() -> None:
        app = desk_app("reception1", start="outbox")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert Outbox.get().status == "pending"
            assert str(app.screen.query_one("#outbox-table").get_row_at(0)[2]) == "pending"

    run(flow)


def test_confirm_pay_by_card_and_refund_from_the_appointment_detail(desk, desk_app):
    from clinic_desk.store.models import Payment

    async def flow() -> None:
        app = desk_app("reception1")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("down", "enter")  # Anna at 10:30, pending
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            assert Appointment.get(Appointment.slot == desk.slots[3].id).status == "confirmed"
            await pilot.press("p", "down", "enter")  # card
            await pilot.press(*"4000 0000 0000 0002", "ctrl+s")  # the test card that is declined
            await settle(pilot)
            assert any("card declined" in note for note in notes(app))
            await pilot.press("p", "down", "enter", *"4242424242424242", "ctrl+s")
            await settle(pilot)
            payment = Payment.get(Payment.status == "succeeded")
            assert (payment.method, payment.card_last4, payment.amount) == ("card", "4242", 8000)
            await pilot.press("f", "y")
            await settle(pilot)
            assert wallet.show(actor_for(desk.reception), desk.anna.id).balance == 20000 + 8000
            assert any("Refunded 80.00" in note for note in notes(app))

    run(flow)


def test_a_doctor_writes_notes_and_marks_a_no_show(desk, desk_app):
    clock.set_now(DAY + timedelta(hours=2))  # 11:00 Berlin: both of today's visits have begun

    async def flow() -> None:
        app = desk_app("dr.house", start="my_day")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("e", *"BP 120/80", "ctrl+s")
            await settle(pilot)
            assert Appointment.get(Appointment.slot == desk.slots[1].id).notes == "BP 120/80"
            await pilot.press("down", "n", "y")
            await settle(pilot)
            assert Appointment.get(Appointment.slot == desk.slots[3].id).status == "no_show"

    run(flow)


def test_an_admin_rejects_with_a_reason_and_a_doctor_responds_to_an_approved_review(desk, desk_app):
    async def flow() -> None:
        admin = desk_app("admin1", start="reviews")
        async with admin.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("r", *"names a nurse", "enter")
            await settle(pilot)
            review = Review.get()
            assert (review.status, review.reject_reason) == ("rejected", "names a nurse")
        Review.update(status="pending", reject_reason="").execute()
        reviews.approve(actor_for(desk.admin), review.id)
        doctor = desk_app("dr.house", start="reviews")
        async with doctor.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("o", *"Thank you!", "ctrl+s")
            await settle(pilot)
            assert Review.get().doctor_response == "Thank you!"

    run(flow)


def test_withdrawing_more_than_the_balance_is_refused_with_the_reason(desk, desk_app):
    async def flow() -> None:
        app = desk_app("reception1", start="wallet")
        app.selected_patient_id = desk.ben.id
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("w", *"10", "enter")
            await settle(pilot)
            assert any("insufficient funds" in note for note in notes(app))
            assert wallet.show(actor_for(desk.reception), desk.ben.id).balance == 0

    run(flow)
