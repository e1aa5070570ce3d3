"""Booking a free slot: pick or register the patient (search as you type), a reason, and pay now
(wallet or card) or later. One worker books, then pays, as `clinic-desk book --pay` does."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import uuid4

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, RadioButton, RadioSet, Static

from ..errors import ClinicError
from ..services import booking, cards, patients, payments, queries, timeutil
from ..services.actors import Actor
from ..services.patients import PatientView
from ..services.queries import AppointmentView
from ..services.slots import SlotView
from ..widgets.fields import Field
from ..widgets.literal import literal
from ..widgets.money import money_text
from .base import DeskDialog
from .dialogs import PatientDetails, PatientDialog, PaymentChoice
from .pickers import PatientPicker


@dataclass(frozen=True)
class Booked:
    """What the booking dialog did: the appointment, and why its payment failed (if it did)."""

    appointment: AppointmentView
    payment_error: str = ""


def book_and_pay(actor: Actor, patient_id: int, slot_id: int, reason: str, pay: PaymentChoice | None) -> Booked:
    """Book, then pay when asked; a refused payment leaves the booking in place (pay later)."""
    view = booking.book(actor, patient_id, slot_id, reason)
    if pay is None:
        return Booked(view)
    try:
        payments.pay(
            actor,
            view.id,
            method=pay.method,
            card_number=pay.card_number,
            card_expiry=pay.card_expiry,
            idempotency_key=pay.idempotency_key,
        )
    except ClinicError as exc:
        return Booked(view, exc.message)
    return Booked(queries.get_appointment(actor, view.id))


def slot_line(slot: SlotView, doctor_name: str) -> str:
    start, end = timeutil.to_local(slot.starts_at), timeutil.to_local(slot.ends_at)
    return f"{doctor_name} · {start:%a %d %b %Y} · {start:%H:%M}–{end:%H:%M}"


class BookDialog(DeskDialog):
    """Book ``slot``: returns ``Booked`` (or None when cancelled)."""

    HELP_TITLE = "Book dialog"
    BINDINGS = [
        Binding("ctrl+n", "register", "New patient"),
        Binding("ctrl+f", "find", "Find patient"),
        Binding("ctrl+s", "book", "Book"),
        Binding("escape", "dismiss_dialog", "Cancel"),
    ]

    def __init__(self, slot: SlotView, *, doctor_name: str, fee: int, currency: str = "") -> None:
        super().__init__()
        self.slot = slot
        self.doctor_name = doctor_name
        self.fee = fee
        self.currency = currency
        self.patient: PatientView | None = None
        self.busy = False  # a booking is on its way: a second ctrl+s waits for its answer
        self.pay_key = f"tui-{uuid4()}"  # one key per dialog: a second Enter cannot charge twice

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="book-dialog"):
            yield Static(Text("Book appointment", style="bold"), classes="dialog-title")
            yield Label(literal(slot_line(self.slot, self.doctor_name)) + Text("   fee ") + money_text(self.fee, currency=self.currency))
            if self.actor.role == "patient":
                yield Label(Text("For: you"), id="book-patient")
            else:
                yield Label(Text("Patient: none yet (search, Enter picks; ctrl+n registers)", style="dim"), id="book-patient")
                yield PatientPicker(enter="Choose patient", id="book-picker")
            yield Field("Reason", optional=True, placeholder="optional, e.g. check-up", id="book-reason")
            with Horizontal(id="book-pay-row"):
                with RadioSet(id="book-pay", compact=True):
                    yield RadioButton("Pay later", value=True, id="pay-later")
                    yield RadioButton("Wallet", id="pay-wallet")
                    yield RadioButton("Card", id="pay-card")
                with Vertical(id="book-card"):
                    yield Field("Card number", parse=cards.normalize, placeholder="4242 4242 4242 4242", id="book-card-number")
                    yield Field("Expiry (MM/YY)", parse=cards.parse_expiry, optional=True, placeholder="MM/YY", id="book-card-expiry")
            yield Label("", id="book-error", classes="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#book-card").display = False
        if self.actor.role == "patient" and self.actor.patient_id is not None:
            self.call_service(patients.show_patient, self.actor, self.actor.patient_id, then=self._chosen)
            self.query_one("#book-reason", Field).focus()
        else:
            self.query_one(PatientPicker).focus_search()

    # -- the patient ------------------------------------------------------------

    def _chosen(self, patient: PatientView) -> None:
        self.patient = patient
        label = Text("Patient: ") + literal(f"{patient.full_name} (#{patient.id}, {patient.email})", style="bold")
        self.query_one("#book-patient", Label).update(label)

    @on(PatientPicker.Picked)
    def _picked(self, event: PatientPicker.Picked) -> None:
        self._chosen(event.patient)
        self.query_one("#book-reason", Field).focus()

    def action_find(self) -> None:
        if self.query(PatientPicker):
            self.query_one(PatientPicker).focus_search()

    def action_register(self) -> None:
        if self.actor.role == "patient":
            return
        self.app.push_screen(PatientDialog("Register a new patient"), self._register)

    def _register(self, details: PatientDetails | None) -> None:
        if details is None:
            return
        self.call_service(
            patients.add_patient,
            self.actor,
            **asdict(details),
            then=self._registered,
        )

    def _registered(self, patient: PatientView) -> None:
        self.app.notify(f"Registered {patient.full_name} as patient #{patient.id}.")
        self._chosen(patient)
        self.query_one(PatientPicker).search(select=patient.id)
        self.query_one("#book-reason", Field).focus()

    # -- payment and booking -----------------------------------------------------

    @property
    def pay_method(self) -> str:
        for method in ("wallet", "card"):
            if self.query_one(f"#pay-{method}", RadioButton).value:
                return method
        return "later"

    @on(RadioSet.Changed, "#book-pay")
    def _pay_changed(self) -> None:
        self.query_one("#book-card").display = self.pay_method == "card"

    @on(Input.Submitted, "#book-reason Input")
    def _reason_done(self) -> None:
        self.query_one(RadioSet).focus()

    @on(Input.Submitted, "#book-card Input")
    def _card_done(self) -> None:
        self.action_book()

    def action_book(self) -> None:
        if self.busy:
            return
        error = self.query_one("#book-error", Label)
        if self.patient is None:
            error.update("Choose the patient first (search, then Enter on a row).")
            self.action_find()
            return
        choice = None
        if self.pay_method == "wallet":
            choice = PaymentChoice("wallet", None, None, self.pay_key)
        elif self.pay_method == "card":
            number, expiry = self.query_one("#book-card-number", Field), self.query_one("#book-card-expiry", Field)
            if not (number.check() and expiry.check()):
                return
            choice = PaymentChoice("card", number.text, expiry.text.strip() or None, self.pay_key)
        error.update("Booking…")
        self.busy = True
        self.call_service(
            book_and_pay,
            self.actor,
            self.patient.id,
            self.slot.id,
            self.query_one("#book-reason", Field).text.strip(),
            choice,
            then=self.dismiss,
            otherwise=self._refused,
        )

    def _refused(self, error: ClinicError) -> None:
        self.busy = False
        self.query_one("#book-error", Label).update(literal(error.message))
