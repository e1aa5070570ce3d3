"""F1: every key of the desk, read from the bindings themselves so the list never drifts."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "delete": "Del", "space": "Space"}


def _pretty(key: str) -> str:
    key = key.strip()
    if key in _NAMES:
        return _NAMES[key]
    if len(key) > 1 and key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return key


def _key_name(binding: Binding) -> str:
    return binding.key_display or " / ".join(_pretty(key) for key in binding.key.split(","))


def _bindings(owner: type) -> list[Binding]:
    found = []
    for item in getattr(owner, "BINDINGS", []):
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.description:
            found.append(binding)
    return found


KEY_WIDTH = 12


def key_table(sections: list[tuple[str, type]]) -> Group:
    """Every screen's keys: a title per section, then each key and what it does."""
    parts: list[Text | Table] = []
    for title, owner in sections:
        rows = _bindings(owner)
        if not rows:
            continue
        parts.append(Text(title, style="bold underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=KEY_WIDTH)
        table.add_column()
        for binding in rows:
            table.add_row(_key_name(binding), Text(binding.description))
        parts.append(table)
        parts.append(Text(""))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """The key reference; escape or F1 closes it."""

    BINDINGS = [Binding("escape,f1", "app.pop_screen", "Close help")]

    def __init__(self, sections: list[tuple[str, type]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            yield Static(
                Text(
                    "Function keys switch screens from anywhere; ctrl+p jumps to a doctor, patient or appointment. "
                    "Tab moves between fields, Enter opens or submits, Escape closes a dialog."
                ),
                classes="form-hint",
            )
            yield Static(key_table(self.sections))
        yield Footer()
