"""Small dialogs shared by the screens: confirm, a line or a note of text, an amount, a payment,
a patient's details. Each validates inline and returns its value through ``dismiss``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static, TextArea

from ..services import cards, contact, money
from ..widgets.fields import Field
from ..widgets.literal import literal
from ..widgets.money import money_text
from .base import DeskDialog


def _title(text: str) -> Static:
    return Static(literal(text, style="bold"), classes="dialog-title")


class ConfirmDialog(DeskDialog):
    """A yes/no question; ``y`` says yes, ``n`` or Escape no."""

    HELP_TITLE = "Confirm dialog"
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, *, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _title(self.question)
            if self.detail:
                yield Label(literal(self.detail), classes="form-hint")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TextDialog(DeskDialog):
    """One line (Enter saves) or a note (``multiline``: ctrl+s saves); returns the text."""

    HELP_TITLE = "Text dialog (reason, response, notes)"
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, title: str, *, prompt: str = "", value: str = "", required: bool = True, multiline: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.initial = value
        self.required = required
        self.multiline = multiline

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _title(self.title_text)
            if self.prompt:
                yield Label(Text(self.prompt), classes="form-hint")
            if self.multiline:
                yield TextArea(self.initial, id="text", soft_wrap=True)
            else:
                yield Input(self.initial, id="text", compact=True)
            yield Label("", id="text-error", classes="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#text").focus()

    @on(Input.Submitted, "#text")
    def action_save(self) -> None:
        widget = self.query_one("#text")
        text = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
        if self.required and not text.strip():
            self.query_one("#text-error", Label).update("This cannot be empty.")
            return
        self.dismiss(text.strip())


class AmountDialog(DeskDialog):
    """An amount of money, validated as typed (positive, two decimals, under the maximum)."""

    HELP_TITLE = "Amount dialog (deposit, withdraw)"
    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, title: str, *, prompt: str = "", currency: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt
        self.currency = currency

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _title(self.title_text)
            if self.prompt:
                yield Label(Text(self.prompt), classes="form-hint")
            yield Field(
                f"Amount{f' ({self.currency})' if self.currency else ''}",
                parse=lambda text: money.parse_amount(text, maximum=money.max_amount()),
                placeholder="e.g. 50 or 49.90",
                id="amount",
            )
            yield Label("Enter saves · Escape cancels", classes="form-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#amount", Field).focus()

    @on(Input.Submitted)
    def _submit(self) -> None:
        field = self.query_one("#amount", Field)
        if field.check():
            self.dismiss(field.value)


@dataclass(frozen=True)
class PaymentChoice:
    """How to pay: by wallet, or by card (number and optional expiry); one key per attempt."""

    method: str
    card_number: str | None
    card_expiry: str | None
    idempotency_key: str


class PayDialog(DeskDialog):
    """Wallet or card; the card number is checked as typed (digits, check digit)."""

    HELP_TITLE = "Pay dialog"
    BINDINGS = [Binding("ctrl+s", "pay", "Pay"), Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, *, amount: int, balance: int | None = None, currency: str = "") -> None:
        super().__init__()
        self.amount = amount
        self.balance = balance
        self.currency = currency
        self.key = f"tui-{uuid.uuid4()}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield _title("Take payment")
            line = Text("Amount due: ") + money_text(self.amount, currency=self.currency)
            if self.balance is not None:
                line += Text("   wallet balance: ") + money_text(self.balance, currency=self.currency)
            yield Label(line)
            with RadioSet(id="method", compact=True):
                yield RadioButton("Wallet", value=True, id="method-wallet")
                yield RadioButton("Card", id="method-card")
            with Vertical(id="card-fields"):
                yield Field("Card number", parse=cards.normalize, placeholder="4242 4242 4242 4242", id="card-number")
                yield Field("Expiry (MM/YY)", parse=cards.parse_expiry, optional=True, placeholder="MM/YY", id="card-expiry")
            yield Label("↑/↓ then space: wallet or card · ctrl+s pays · Escape cancels", classes="form-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#card-fields").display = False
        self.query_one(RadioSet).focus()

    @property
    def method(self) -> str:
        return "card" if self.query_one("#method-card", RadioButton).value else "wallet"

    @on(RadioSet.Changed)
    def _method_changed(self) -> None:
        card = self.method == "card"
        self.query_one("#card-fields").display = card
        if card:
            self.query_one("#card-number", Field).focus()

    @on(Input.Submitted)
    def action_pay(self) -> None:
        if self.method == "wallet":
            self.dismiss(PaymentChoice("wallet", None, None, self.key))
            return
        number, expiry = self.query_one("#card-number", Field), self.query_one("#card-expiry", Field)
        if number.check() and expiry.check():
            self.dismiss(PaymentChoice("card", number.text, expiry.text.strip() or None, self.key))


@dataclass(frozen=True)
class PatientDetails:
    """What the patient dialog gives back: the keyword arguments of ``patients.add_patient`` and
    ``patients.edit_patient``."""

    full_name: str
    email: str
    phone: str
    date_of_birth: date | None


class PatientDialog(DeskDialog):
    """Register a patient or edit one: name, email, phone, date of birth, validated as typed."""

    HELP_TITLE = "Patient dialog (register, edit)"
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, title: str, *, initial: PatientDetails | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.initial = initial or PatientDetails("", "", "", None)

    def compose(self) -> ComposeResult:
        initial = self.initial
        with Vertical(classes="dialog"):
            yield _title(self.title_text)
            yield Field("Full name", parse=contact.clean_name, value=initial.full_name, id="patient-name")
            yield Field("Email", parse=contact.clean_email, value=initial.email, id="patient-email")
            yield Field("Phone", parse=contact.clean_phone, value=initial.phone, optional=True, id="patient-phone")
            yield Field(
                "Born (YYYY-MM-DD)",
                parse=contact.parse_birth_date,
                value=initial.date_of_birth.isoformat() if initial.date_of_birth else "",
                optional=True,
                id="patient-birth",
            )
            yield Label("Enter moves on · ctrl+s saves · Escape cancels", classes="form-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#patient-name", Field).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input is self.query_one("#patient-birth", Field).input:
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        fields = list(self.query(Field).results(Field))
        if not all([field.check() for field in fields]):
            return
        name, email, phone, birth = fields
        self.dismiss(PatientDetails(name.value, email.value, phone.text.strip(), birth.value))


DIALOGS: list[type[DeskDialog]] = [ConfirmDialog, TextDialog, AmountDialog, PayDialog, PatientDialog]
