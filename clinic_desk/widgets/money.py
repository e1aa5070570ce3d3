"""Money on screen: integer minor units shown as the clinic's decimal amounts, right-aligned."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..services.money import format_money


def money_text(minor: int | None, *, signed: bool = False, currency: str = "") -> Text:
    """8050 -> '80.50' (debits red when ``signed``); None -> an em dash."""
    if minor is None:
        return Text("—", justify="right", style="dim")
    shown = format_money(minor)
    if signed and minor > 0:
        shown = "+" + shown
    style = ""
    if signed:
        style = "#e0555f" if minor < 0 else "#43b95a"
    suffix = f" {currency}" if currency else ""
    return Text(shown + suffix, justify="right", style=style)


class Money(Static):
    """An amount, e.g. a wallet balance: ``Money(12500, currency="EUR")``."""

    DEFAULT_CSS = """
    Money { width: auto; text-style: bold; }
    Money.-large { padding: 0 1; border: round $accent; }
    """

    def __init__(self, minor: int | None = None, *, currency: str = "", **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.currency = currency
        self.amount = minor

    @property
    def amount(self) -> int | None:
        return self._amount

    @amount.setter
    def amount(self, minor: int | None) -> None:
        self._amount = minor
        self.update(money_text(minor, currency=self.currency))
