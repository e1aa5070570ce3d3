"""A month of days for one doctor: free and booked slot counts per day, a cursor day.

Keys: arrows move a day (up/down a week), PgUp/PgDn a month, ``t`` today, Enter picks the day.
The grid shows what it is given (``show_month``); the screen watches ``cursor`` (``watch()``
calls it at once, in the key press itself) and loads the counts in a worker when the cursor
crosses into another month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from .status import STATUS_COLOURS

FREE = STATUS_COLOURS["free"][1]
BOOKED = STATUS_COLOURS["confirmed"][1]
BLOCKED = STATUS_COLOURS["blocked"][1]
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HEADER_LINES = 2
WEEK_ROWS = 6  # the most a month spans: every month is drawn this tall, so paging never resizes
HOLD_SECONDS = 0.15  # how long a new month waits for its counts before it is drawn without them


class DayCounts(Protocol):
    day: date
    free: int
    booked: int
    blocked: int


def weeks_of(day: date) -> list[list[date]]:
    """The weeks (Monday first) of ``day``'s month, with the neighbouring months' days."""
    return calendar.Calendar().monthdatescalendar(day.year, day.month)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


class MonthGrid(Widget, can_focus=True):
    """``MonthGrid(today=...)``; ``show_month(counts)`` fills it; ``cursor`` is the chosen day."""

    DEFAULT_CSS = """
    MonthGrid {
        width: auto;
        height: auto;
        padding: 0 1;
        border: round $primary-darken-2;
    }
    MonthGrid:focus { border: round $accent; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Day -1", show=False),
        Binding("right", "move(1)", "Day +1", show=False),
        Binding("up", "move(-7)", "Week -1", show=False),
        Binding("down", "move(7)", "Week +1", show=False),
        Binding("pageup", "month(-1)", "Month -1", key_display="PgUp"),
        Binding("pagedown", "month(1)", "Month +1", key_display="PgDn"),
        Binding("t", "today", "Today"),
        Binding("enter", "pick", "Day's slots"),
    ]

    cursor: reactive[date] = reactive(date(2000, 1, 1), repaint=False)  # watch_cursor repaints

    @dataclass
    class DayPicked(Message):
        """Enter on a day: the screen moves to that day's slots."""

        grid: MonthGrid
        day: date

        @property
        def control(self) -> MonthGrid:
            return self.grid

    def __init__(self, *, today: date, cell_width: int = 7, **kwargs) -> None:  # noqa: ANN003 - Widget's options
        super().__init__(**kwargs)
        self.today = today
        self.cell_width = cell_width
        self.counts: dict[date, DayCounts] = {}
        self.set_reactive(MonthGrid.cursor, today)
        self._hold: Timer | None = None

    # -- data -----------------------------------------------------------------

    def show_month(self, counts: list[DayCounts]) -> None:
        """The counts of the month on screen (days missing from the list have no slots)."""
        self.counts = {item.day: item for item in counts}
        self._redraw()

    def go_to(self, day: date) -> None:
        self.cursor = day

    def watch_cursor(self, old: date, new: date) -> None:
        if (old.year, old.month) != (new.year, new.month):
            # A new month is drawn once, with its counts (``show_month``, usually within a frame)
            # rather than first empty; without counts after HOLD_SECONDS.
            if self._hold is not None:
                self._hold.stop()
            self._hold = self.set_timer(HOLD_SECONDS, self._redraw)
            return
        self._redraw()

    def _redraw(self) -> None:
        """Repaint the grid (only the grid: its size never changes, so no layout of the screen)."""
        if self._hold is not None:
            self._hold.stop()
            self._hold = None
        self.refresh()

    # -- keys -----------------------------------------------------------------

    def action_move(self, days: int) -> None:
        self.cursor = self.cursor + timedelta(days=days)

    def action_month(self, months: int) -> None:
        self.cursor = add_months(self.cursor, months)

    def action_today(self) -> None:
        self.cursor = self.today

    def action_pick(self) -> None:
        self.post_message(self.DayPicked(self, self.cursor))

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES:
            return
        week, column = (offset.y - HEADER_LINES) // 2, offset.x // self.cell_width
        weeks = weeks_of(self.cursor)
        if week < len(weeks) and column < 7:
            day = weeks[week][column]
            if day.month == self.cursor.month:
                self.cursor = day
                self.action_pick()

    # -- drawing --------------------------------------------------------------

    def get_content_width(self, container, viewport) -> int:  # noqa: ANN001 - Textual's sizes
        return self.cell_width * 7

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001 - Textual's sizes
        return HEADER_LINES + 2 * WEEK_ROWS

    def render(self) -> Text:
        width = self.cell_width
        cursor = self.cursor
        text = Text(no_wrap=True)
        text.append(f"{calendar.month_name[cursor.month]} {cursor.year}".center(width * 7), style="bold")
        text.append("\n")
        for name in WEEKDAYS:
            text.append(name.center(width), style="dim bold")
        for week in weeks_of(cursor):  # the rows a shorter month leaves stay blank
            top, bottom = Text(), Text()
            for day in week:
                self._cell(day, top, bottom)
            text.append("\n")
            text.append_text(top)
            text.append("\n")
            text.append_text(bottom)
        return text

    def _cell(self, day: date, top: Text, bottom: Text) -> None:
        width = self.cell_width
        if day.month != self.cursor.month:
            top.append(" " * width)
            bottom.append(" " * width)
            return
        base = "reverse " if day == self.cursor else ""
        if day < self.today:
            base += "dim "  # the past: shown, but not what the desk books
        number_style = base + ("bold underline" if day == self.today else "bold")
        top.append(f" {day.day:>2}".ljust(width), style=number_style.strip())
        counts = self.counts.get(day)
        if counts is None or (counts.free + counts.booked + counts.blocked) == 0:
            bottom.append(" ·".ljust(width), style=(base + "dim").strip())
            return
        cell = Text(" ")
        cell.append(str(counts.free), style=f"{base}bold {FREE}")
        cell.append("/", style=f"{base}dim")
        cell.append(str(counts.booked), style=f"{base}bold {BOOKED}")
        if counts.blocked:
            cell.append(f"/{counts.blocked}", style=f"{base}{BLOCKED}")
        cell.truncate(width)
        cell.append(" " * (width - cell.cell_len), style=base.strip())
        bottom.append_text(cell)

    def legend(self) -> Text:
        """What the numbers mean, for the screen to show beside the grid."""
        text = Text("free", style=f"bold {FREE}")
        text.append(" / ", style="dim")
        text.append("booked", style=f"bold {BOOKED}")
        text.append(" / ", style="dim")
        text.append("blocked", style=BLOCKED)
        return text
