"""An appointment's detail: confirm, cancel with a reason, reschedule in the calendar, complete,
no-show, notes, pay and refund, with its history from the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Footer, Input, Label, Static

from .. import config
from ..errors import ClinicError
from ..services import booking, clock, dashboard, payments, policy, queries, timeutil, wallet
from ..services.actors import Actor
from ..services.audit import AuditView
from ..services.queries import AppointmentView
from ..services.slots import SlotView
from ..widgets.literal import literal
from ..widgets.money import money_text
from ..widgets.status import StatusBadge
from ..widgets.table import DeskTable
from .base import DeskDialog, DeskScreen
from .dialogs import ConfirmDialog, PayDialog, PaymentChoice, TextDialog


@dataclass(frozen=True)
class Detail:
    appointment: AppointmentView
    history: list[AuditView]
    balance: int | None  # the patient's wallet, when the actor may read it


def load_detail(actor: Actor, appointment_id: int) -> Detail:
    view = queries.get_appointment(actor, appointment_id)
    history = dashboard.appointment_history(actor, appointment_id)
    balance = None
    if policy.allowed(actor, "wallet.read", patient_id=view.patient_id):
        balance = wallet.show(actor, view.patient_id).balance
    return Detail(view, history, balance)


@dataclass(frozen=True)
class CancelRequest:
    reason: str
    by_clinic: bool


class CancelDialog(DeskDialog):
    """The reason (required) and, for staff, whether the clinic cancels (always a full refund)."""

    HELP_TITLE = "Cancel dialog"
    BINDINGS = [Binding("ctrl+s", "save", "Cancel appointment"), Binding("escape", "dismiss_dialog", "Keep it")]

    def __init__(self, appointment: AppointmentView, *, may_cancel_for_clinic: bool) -> None:
        super().__init__()
        self.appointment = appointment
        self.may_cancel_for_clinic = may_cancel_for_clinic

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Cancel appointment #{self.appointment.id}", style="bold"), classes="dialog-title")
            yield Label("Reason (the patient is told):", classes="form-hint")
            yield Input(id="cancel-reason", placeholder="e.g. patient is ill", compact=True)
            if self.may_cancel_for_clinic:
                yield Checkbox("The clinic cancels (always a full refund)", id="cancel-by-clinic", compact=True)
            yield Label("Otherwise the cancellation policy decides the refund.", classes="form-hint")
            yield Label("", id="cancel-error", classes="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cancel-reason", Input).focus()

    @on(Input.Submitted)
    def action_save(self) -> None:
        reason = self.query_one("#cancel-reason", Input).value.strip()
        if not reason:
            self.query_one("#cancel-error", Label).update("A cancellation needs a reason.")
            return
        by_clinic = self.may_cancel_for_clinic and self.query_one("#cancel-by-clinic", Checkbox).value
        self.dismiss(CancelRequest(reason, by_clinic))


def _describe(event: AuditView) -> str:
    details = event.details
    parts = []
    for key in ("previous", "status", "cancel_reason", "reason", "method", "amount", "card_last4", "to_starts_at", "via"):
        if key in details and details[key] not in (None, ""):
            value = details[key]
            if key == "amount":
                value = money_text(int(value)).plain
            elif key == "to_starts_at":
                key, value = "to", str(value)[:16].replace("T", " ")
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return ", ".join(parts)


class AppointmentScreen(DeskScreen):
    TITLE_TEXT = "Appointment"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "confirm", "Confirm"),
        Binding("x", "cancel", "Cancel appt."),
        Binding("s", "reschedule", "Reschedule"),
        Binding("d", "complete", "Completed"),
        Binding("n", "no_show", "No-show"),
        Binding("e", "notes", "Notes"),
        Binding("p", "pay", "Pay"),
        Binding("f", "refund", "Refund"),
    ]

    def __init__(self, appointment_id: int) -> None:
        super().__init__()
        self.appointment_id = appointment_id
        self.TITLE_TEXT = f"Appointment #{appointment_id}"
        self.MODE = self.app.current_mode  # the function key it was opened from stays lit
        self.detail: Detail | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="appointment-top"):
            with Vertical(id="appointment-fields"):
                yield Static("Loading…", id="appointment-info")
            with Vertical(id="appointment-side"):
                yield StatusBadge("", id="appointment-status")
                yield Static("", id="appointment-money")
        yield Label("History", classes="section-title")
        yield DeskTable(enter="", id="appointment-history")

    def on_mount(self) -> None:
        self.query_one("#appointment-history", DeskTable).add_columns("When", "Who", "What", "Details")

    def load(self) -> None:
        self.call_service(load_detail, self.actor, self.appointment_id, then=self.show, group="load", exclusive=True)

    def show(self, detail: Detail) -> None:
        self.detail = detail
        view = detail.appointment
        start, end = timeutil.to_local(view.starts_at), timeutil.to_local(view.ends_at)
        info = Text()
        for label, value in (
            ("Patient", f"{view.patient_name} (#{view.patient_id})"),
            ("Doctor", view.doctor_name),
            ("When", f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M}"),
            ("Reason", view.reason or "—"),
            ("Notes", view.notes or "—") if self.actor.is_staff else ("", ""),
            ("Cancelled", view.cancel_reason) if view.cancel_reason else ("", ""),
        ):
            if label:
                info.append(f"{label:<11}", style="dim")
                info.append_text(literal(f"{value}\n"))
        self.query_one("#appointment-info", Static).update(info)
        self.query_one("#appointment-status", StatusBadge).status = view.status
        currency = config.current().clinic.currency
        money = Text("Price  ") + money_text(view.price, currency=currency)
        money.append("\n")
        money.append("paid" if view.paid else "not paid", style="bold #43b95a" if view.paid else "bold #e5b700")
        if detail.balance is not None:
            money.append("\nWallet ")
            money.append_text(money_text(detail.balance, currency=currency))
        self.query_one("#appointment-money", Static).update(money)
        table = self.query_one("#appointment-history", DeskTable)
        table.clear()
        for event in detail.history:
            table.add_row(
                f"{timeutil.to_local(event.at):%d %b %H:%M}", literal(event.actor), literal(event.action), literal(_describe(event))
            )
        self.refresh_bindings()

    # -- which actions apply now ----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.detail is None or action in {"back"} or action not in _ACTIONS:
            return True
        view = self.detail.appointment
        actor = self.actor
        owners = {"doctor_id": view.doctor_id, "patient_id": view.patient_id}
        permission, statuses = _ACTIONS[action]
        if view.status not in statuses or not policy.allowed(actor, permission, **owners):
            return False
        if action in {"complete", "no_show"} and clock.now() < view.starts_at:
            return None  # shown, but not yet: the visit has not started
        if action == "pay" and view.paid:
            return False
        if action == "refund" and not view.paid:
            return False
        return True

    # -- actions ------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def _done(self, message: str):  # noqa: ANN202 - a callback
        def then(_: object) -> None:
            self.app.notify(message)
            self.load()

        return then

    def action_confirm(self) -> None:
        self.call_service(booking.confirm, self.actor, self.appointment_id, then=self._done("Confirmed."))

    def action_cancel(self) -> None:
        assert self.detail is not None
        view = self.detail.appointment
        may = policy.allowed(self.actor, "appointment.cancel_by_clinic", doctor_id=view.doctor_id, patient_id=view.patient_id)
        self.app.push_screen(CancelDialog(view, may_cancel_for_clinic=may), self._cancel)

    def _cancel(self, request: CancelRequest | None) -> None:
        if request is None:
            return
        self.call_service(
            booking.cancel, self.actor, self.appointment_id, request.reason, by_clinic=request.by_clinic, then=self._cancelled
        )

    def _cancelled(self, result: booking.CancelResult) -> None:
        money = f" {result.money[:1].upper()}{result.money[1:]}." if result.money else ""
        self.app.notify(f"Cancelled; the slot is free again.{money}", title="Cancelled")
        self.load()

    def action_reschedule(self) -> None:
        from .calendar import CalendarScreen

        assert self.detail is not None
        self.app.push_screen(CalendarScreen(picking=self.detail.appointment), self._rescheduled)

    def _rescheduled(self, slot: SlotView | None) -> None:
        if slot is None:
            return
        when = timeutil.to_local(slot.starts_at)
        self.call_service(
            booking.reschedule, self.actor, self.appointment_id, slot.id, then=self._done(f"Moved to {when:%a %d %b %H:%M}.")
        )

    def action_complete(self) -> None:
        self.call_service(booking.complete, self.actor, self.appointment_id, then=self._done("Marked completed."))

    def action_no_show(self) -> None:
        self.app.push_screen(ConfirmDialog("Mark this appointment as a no-show?"), self._no_show)

    def _no_show(self, yes: bool | None) -> None:
        if yes:
            self.call_service(booking.no_show, self.actor, self.appointment_id, then=self._done("Marked no-show."))

    def action_notes(self) -> None:
        assert self.detail is not None
        dialog = TextDialog("Visit notes", prompt="ctrl+s saves", value=self.detail.appointment.notes, required=False, multiline=True)
        self.app.push_screen(dialog, self._notes)

    def _notes(self, text: str | None) -> None:
        if text is not None:
            self.call_service(booking.set_notes, self.actor, self.appointment_id, text, then=self._done("Notes saved."))

    def action_pay(self) -> None:
        assert self.detail is not None
        dialog = PayDialog(amount=self.detail.appointment.price, balance=self.detail.balance, currency=config.current().clinic.currency)
        self.app.push_screen(dialog, self._pay)

    def _pay(self, choice: PaymentChoice | None) -> None:
        if choice is None:
            return
        self.call_service(
            payments.pay,
            self.actor,
            self.appointment_id,
            method=choice.method,
            card_number=choice.card_number,
            card_expiry=choice.card_expiry,
            idempotency_key=choice.idempotency_key,
            then=self._paid,
            otherwise=self._pay_refused,
        )

    def _paid(self, payment: payments.PaymentView) -> None:
        how = f"card …{payment.card_last4}" if payment.card_last4 else "the wallet"
        self.app.notify(f"Paid {money_text(payment.amount).plain} from {how}.", title="Paid")
        self.load()

    def _pay_refused(self, error: ClinicError) -> None:
        self.app.notify(error.message, title="Payment refused", severity="error")
        self.load()

    def action_refund(self) -> None:
        self.app.push_screen(
            ConfirmDialog("Refund this appointment?", detail="Everything still refundable goes back to the patient's wallet."),
            self._refund,
        )

    def _refund(self, yes: bool | None) -> None:
        if yes:
            self.call_service(payments.refund, self.actor, self.appointment_id, then=self._refunded)

    def _refunded(self, refund: payments.RefundView) -> None:
        self.app.notify(f"Refunded {money_text(refund.amount).plain} to the wallet.", title="Refunded")
        self.load()


ACTIVE = ("pending", "confirmed")
# action -> (permission, statuses in which it applies)
_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "confirm": ("appointment.confirm", ("pending",)),
    "cancel": ("appointment.cancel", ACTIVE),
    "reschedule": ("appointment.reschedule", ACTIVE),
    "complete": ("appointment.complete", ACTIVE),
    "no_show": ("appointment.complete", ACTIVE),
    "notes": ("appointment.notes", ("pending", "confirmed", "completed", "no_show")),
    "pay": ("payment.take", ("pending", "confirmed", "completed")),
    "refund": ("payment.refund", ("pending", "confirmed", "completed", "cancelled", "no_show")),
}
