"""One colour per status, used everywhere a status is shown (tables, badges, the month grid):
appointments first, then slots, reviews and mail, which reuse the same meanings."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

# status -> (label, colour). Slots that are free or blocked share the palette.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "pending": ("pending", "#e5b700"),
    "confirmed": ("confirmed", "#4aa3ff"),
    "completed": ("completed", "#43b95a"),
    "no_show": ("no-show", "#e0555f"),
    "cancelled": ("cancelled", "#8a8a8a"),
    "free": ("free", "#7fd18b"),
    "blocked": ("blocked", "#8a8a8a"),
    # reviews and mail share the meaning of the colours: waiting, good, bad
    "approved": ("approved", "#43b95a"),
    "rejected": ("rejected", "#e0555f"),
    "sending": ("sending", "#4aa3ff"),
    "sent": ("sent", "#43b95a"),
    "failed": ("failed", "#e0555f"),
}


def status_label(status: str) -> str:
    return STATUS_COLOURS.get(status, (status, ""))[0]


def status_text(status: str) -> Text:
    """The status as coloured text for a table cell."""
    label, colour = STATUS_COLOURS.get(status, (status, ""))
    style = f"bold {colour}" if colour else "bold"
    if status == "cancelled":
        style += " strike"
    return Text(label, style=style)


def _badge_css() -> str:
    rules = [f"StatusBadge.-{name} {{ background: {colour}; color: #000000; }}" for name, (_, colour) in STATUS_COLOURS.items()]
    return "StatusBadge { width: auto; padding: 0 1; text-style: bold; }\n" + "\n".join(rules)


class StatusBadge(Static):
    """A status as a coloured block: ``StatusBadge("confirmed")``."""

    DEFAULT_CSS = _badge_css()

    def __init__(self, status: str = "", **kwargs) -> None:  # noqa: ANN003 - Static's options
        super().__init__(**kwargs)
        self._status = ""
        self.status = status

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        if self._status:
            self.remove_class(f"-{self._status}")
        self._status = value
        if value:
            self.add_class(f"-{value}")
        self.update(status_label(value))
