"""The chrome around every desk screen: header line, function-key bar, database-outage banner."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

from .literal import literal


class DeskHeader(Horizontal):
    """Clinic and screen on the left; who is at the desk and the local time on the right."""

    DEFAULT_CSS = """
    DeskHeader {
        height: 1;
        background: $panel;
        color: $text;
    }
    DeskHeader #header-title { width: 1fr; text-style: bold; padding: 0 1; }
    DeskHeader #header-who { width: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Label(id="header-title")
        yield Label(id="header-who")

    def on_mount(self) -> None:
        self.refresh_line()

    def refresh_line(self) -> None:
        from ..services import clock, timeutil

        app = self.app
        clinic = app.clinic_name  # type: ignore[attr-defined]
        title = f"{clinic} · {self.title_text}" if self.title_text else clinic
        self.query_one("#header-title", Label).update(literal(title))
        actor = app.actor  # type: ignore[attr-defined]
        local = timeutil.to_local(clock.now())
        who = f"{actor.username} ({actor.role}) · " if actor is not None else ""
        self.query_one("#header-who", Label).update(literal(f"{who}{local:%a %d %b %Y %H:%M}"))


class NavBar(Static):
    """The function keys of the screens this user may open; the current one highlighted.

    Each entry is clickable, so the mouse works too (keyboard first, mouse optional).
    """

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        background: $boost;
        color: $text-muted;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def on_mount(self) -> None:
        self.refresh_entries()

    def refresh_entries(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, mode, label in self.app.navigation():  # type: ignore[attr-defined]
            current = mode == self.current
            text.append(key.upper(), style="bold reverse" if current else "bold")
            text.append(f" {label}", style="bold reverse" if current else "")
            text.append(" ")
        self.update(text)

    def on_click(self, event) -> None:  # noqa: ANN001 - a Textual Click event
        offset = event.get_content_offset(self)
        if offset is None:
            return
        position = 0
        for key, mode, label in self.app.navigation():  # type: ignore[attr-defined]
            width = len(key) + len(label) + 2
            if position <= offset.x < position + width:
                self.app.action_go(mode)  # type: ignore[attr-defined]
                return
            position += width


class OutageBanner(Static):
    """Shown while the database does not answer; cleared as soon as it does again."""

    DEFAULT_CSS = """
    OutageBanner {
        display: none;
        height: auto;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    OutageBanner.-down { display: block; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "db_down", self._show, init=True)

    def _show(self, down: bool) -> None:
        reason = getattr(self.app, "db_down_reason", "") or "database unavailable"
        self.update(literal(f"⚠ {reason}: nothing can be saved until it is back; retrying every few seconds…"))
        self.set_class(down, "-down")
