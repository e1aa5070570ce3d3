"""F6: a patient's wallet: balance, the ledger with its running balance, deposit and withdraw."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Label, Static

from .. import config
from ..services import policy, timeutil, wallet
from ..services.actors import Actor
from ..services.patients import PatientView
from ..services.wallet import LedgerView, WalletView
from ..widgets.literal import literal
from ..widgets.money import Money, money_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .dialogs import AmountDialog
from .pickers import PatientPickDialog


@dataclass(frozen=True)
class WalletPage:
    wallet: WalletView
    ledger: list[LedgerView]  # newest first


def wallet_page(actor: Actor, patient_id: int) -> WalletPage:
    return WalletPage(wallet.show(actor, patient_id), list(reversed(wallet.history(actor, patient_id))))


class WalletScreen(DeskScreen):
    TITLE_TEXT = "Wallet"
    MODE = "wallet"
    BINDINGS = [
        Binding("c", "choose", "Choose patient"),
        Binding("d", "deposit", "Deposit"),
        Binding("w", "withdraw", "Withdraw"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="wallet-head"):
            yield Static("", id="wallet-owner")
            yield Money(None, currency=config.current().clinic.currency, id="wallet-balance", classes="-large")
        yield Label("Ledger, newest first", classes="section-title")
        yield DeskTable(enter="", id="wallet-ledger")

    def on_mount(self) -> None:
        self.query_one("#wallet-ledger", DeskTable).add_columns("#", "When", "Kind", "Amount", "Balance", "Appointment", "Note")
        self.query_one("#wallet-ledger", DeskTable).focus()

    @property
    def patient_id(self) -> int | None:
        if self.actor.role == "patient":
            return self.actor.patient_id
        return self.app.selected_patient_id  # type: ignore[attr-defined]

    def load(self) -> None:
        if self.patient_id is None:
            self.query_one("#wallet-owner", Static).update(Text("No patient chosen: press c (or pick one on F5).", style="dim"))
            return
        self.call_service(wallet_page, self.actor, self.patient_id, then=self.show, group="load", exclusive=True)

    def show(self, page: WalletPage) -> None:
        owner = literal(page.wallet.patient_name, style="bold")
        owner.append(f"  patient #{page.wallet.patient_id}", style="dim")
        self.query_one("#wallet-owner", Static).update(owner)
        self.query_one("#wallet-balance", Money).amount = page.wallet.balance
        table = self.query_one("#wallet-ledger", DeskTable)
        table.clear()
        for entry in page.ledger:
            table.add_row(
                str(entry.id),
                f"{timeutil.to_local(entry.at):%Y-%m-%d %H:%M}",
                entry.kind,
                money_text(entry.amount, signed=True),
                money_text(entry.balance_after),
                f"#{entry.appointment_id}" if entry.appointment_id else "",
                literal(entry.note),
                key=str(entry.id),
            )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return self.actor.role != "patient"
        if action in {"deposit", "withdraw"}:
            return self.patient_id is not None and policy.allowed(self.actor, f"wallet.{action}", patient_id=self.patient_id)
        return True

    def action_choose(self) -> None:
        self.app.push_screen(PatientPickDialog(), self._chosen)

    def _chosen(self, patient: PatientView | None) -> None:
        if patient is not None:
            self.app.selected_patient_id = patient.id  # type: ignore[attr-defined]
            self.load()
            self.refresh_bindings()

    def action_deposit(self) -> None:
        self._amount("deposit", "Deposit into the wallet", wallet.deposit)

    def action_withdraw(self) -> None:
        self._amount("withdraw", "Pay out of the wallet", wallet.withdraw)

    def _amount(self, verb: str, title: str, service) -> None:  # noqa: ANN001 - a service function
        patient_id = self.patient_id
        if patient_id is None:
            return

        def chosen(amount: int | None) -> None:
            if amount is not None:
                self.call_service(service, self.actor, patient_id, amount, then=self._moved(verb))

        self.app.push_screen(AmountDialog(title, currency=config.current().clinic.currency), chosen)

    def _moved(self, verb: str):  # noqa: ANN202 - a callback
        def then(entry: LedgerView) -> None:
            done = "Deposited" if verb == "deposit" else "Paid out"
            self.app.notify(f"{done} {money_text(abs(entry.amount)).plain}; balance {money_text(entry.balance_after).plain}.")
            self.load()

        return then
