"""F7 (doctors): the day's appointments with time, patient, reason and status; mark completed
or no-show, write notes. ``[`` and ``]`` move a day, ``t`` comes back to today."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label

from ..services import booking, clock, queries, timeutil
from ..services.queries import AppointmentView
from ..widgets.literal import literal
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .dialogs import ConfirmDialog, TextDialog
from .opening import open_appointment


class MyDayScreen(DeskScreen):
    TITLE_TEXT = "My day"
    MODE = "my_day"
    BINDINGS = [
        Binding("d", "complete", "Completed"),
        Binding("n", "no_show", "No-show"),
        Binding("e", "notes", "Notes"),
        Binding("left_square_bracket", "day(-1)", "Day -1", key_display="["),
        Binding("right_square_bracket", "day(1)", "Day +1", key_display="]"),
        Binding("t", "today", "Today"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day = timeutil.to_local(clock.now()).date()
        self.visits: dict[str, AppointmentView] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("", id="my-day-title", classes="section-title")
        yield DeskTable(enter="Open", id="my-day-table")

    def on_mount(self) -> None:
        self.query_one("#my-day-table", DeskTable).add_columns("Time", "Patient", "Reason", "Status", "Paid", "Notes")
        self.query_one("#my-day-table", DeskTable).focus()

    def load(self) -> None:
        doctor_id = self.actor.doctor_id
        if doctor_id is None:
            self.query_one("#my-day-title", Label).update("My day is for doctors.")
            return
        day = self.day
        self.call_service(queries.agenda, self.actor, doctor_id, day, then=lambda found: self.show(day, found), group="load", exclusive=True)

    def show(self, day: date, found: list[AppointmentView]) -> None:
        if day != self.day:
            return
        done = sum(1 for v in found if v.status in {"completed", "no_show"})
        self.query_one("#my-day-title", Label).update(f"{day:%A %d %B %Y}: {len(found)} visits, {done} done")
        table = self.query_one("#my-day-table", DeskTable)
        previous = table.current_key
        table.clear()
        self.visits = {str(v.id): v for v in found}
        for v in found:
            start, end = timeutil.to_local(v.starts_at), timeutil.to_local(v.ends_at)
            table.add_row(
                f"{start:%H:%M}–{end:%H:%M}",
                literal(v.patient_name),
                literal(v.reason),
                status_text(v.status),
                Text("paid", style="#43b95a") if v.paid else Text("—", style="dim"),
                literal(v.notes.splitlines()[0] if v.notes else "", overflow="ellipsis", no_wrap=True),
                key=str(v.id),
            )
        if previous in self.visits:
            table.move_cursor(row=table.get_row_index(previous))

    @property
    def current(self) -> AppointmentView | None:
        return self.visits.get(self.query_one("#my-day-table", DeskTable).current_key or "")

    # -- keys -------------------------------------------------------------------

    def action_day(self, days: int) -> None:
        self.day += timedelta(days=days)
        self.load()

    def action_today(self) -> None:
        self.day = timeutil.to_local(clock.now()).date()
        self.load()

    @on(DataTable.RowSelected, "#my-day-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        open_appointment(self, int(event.row_key.value or 0))  # type: ignore[arg-type]

    def _done(self, message: str):  # noqa: ANN202 - a callback
        def then(view: AppointmentView) -> None:
            self.app.notify(f"{view.patient_name}: {message}")
            self.load()

        return then

    def action_complete(self) -> None:
        visit = self.current
        if visit is not None:
            self.call_service(booking.complete, self.actor, visit.id, then=self._done("completed."))

    def action_no_show(self) -> None:
        visit = self.current
        if visit is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_service(booking.no_show, self.actor, visit.id, then=self._done("no-show."))

        self.app.push_screen(ConfirmDialog(f"{visit.patient_name} did not come: mark a no-show?"), answered)

    def action_notes(self) -> None:
        visit = self.current
        if visit is None:
            return

        def written(text: str | None) -> None:
            if text is not None:
                self.call_service(booking.set_notes, self.actor, visit.id, text, then=self._done("notes saved."))

        dialog = TextDialog(f"Notes: {visit.patient_name}", prompt="ctrl+s saves", value=visit.notes, required=False, multiline=True)
        self.app.push_screen(dialog, written)
