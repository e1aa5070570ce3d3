"""F4: one doctor's month (free/booked per day) with the chosen day's slots beside it.

Enter on a free slot books it; on a booked slot opens the appointment. The same screen, pushed
with ``picking=``, is the slot picker of a reschedule: Enter on a free slot returns it.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Select

from .. import config
from ..errors import ClinicError, DatabaseUnavailable
from ..services import clock, doctors, queries, timeutil
from ..services.doctors import DoctorView
from ..services.queries import AppointmentView
from ..services.slots import SlotView
from ..widgets.literal import literal
from ..widgets.month_grid import MonthGrid
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .booking import BookDialog, Booked
from .opening import open_appointment


def _today() -> date:
    return timeutil.to_local(clock.now()).date()


class CalendarScreen(DeskScreen):
    TITLE_TEXT = "Calendar"
    MODE = "calendar"
    BINDINGS = [Binding("ctrl+d", "choose_doctor", "Doctor")]

    def __init__(self, *, picking: AppointmentView | None = None) -> None:
        super().__init__()
        self.picking = picking
        self.doctors: dict[int, DoctorView] = {}
        self.doctor_id: int | None = picking.doctor_id if picking else None
        self.slots: dict[str, SlotView] = {}
        if picking is not None:
            self.TITLE_TEXT = f"Reschedule appointment #{picking.id}: pick a free slot"
            self.MODE = ""
            self._bindings.bind("escape", "keep_slot", "Keep the old slot")

    def compose_body(self) -> ComposeResult:
        yield Select([], prompt="Choose a doctor (ctrl+d)", id="calendar-doctor", allow_blank=True, compact=True)
        with Horizontal(id="calendar-main"):
            with Vertical(id="calendar-left"):
                grid = MonthGrid(today=_today(), id="calendar-grid")
                yield grid
                yield Label(Text("slots per day: ") + grid.legend(), id="calendar-legend")
            with Vertical(id="calendar-right"):
                yield Label("", id="calendar-day", classes="section-title")
                yield DeskTable(enter="Book / open", id="calendar-slots")

    def on_resize(self) -> None:
        """A wider grid on a wide terminal, a narrower one at 80 columns."""
        width = self.size.width
        grid = self.query_one(MonthGrid)
        cell = 6 if width < 100 else 9 if width >= 160 else 7
        if grid.cell_width != cell:
            grid.cell_width = cell
            grid.refresh(layout=True)

    def on_mount(self) -> None:
        columns = ["Time", "Status"] + (["Patient"] if self.actor.is_staff else [])
        self.query_one("#calendar-slots", DeskTable).add_columns(*columns)
        grid = self.query_one(MonthGrid)
        if self.picking is not None:
            grid.go_to(timeutil.to_local(self.picking.starts_at).date())  # start at the day it is moved from
        self.watch(grid, "cursor", self._cursor_moved, init=False)
        grid.focus()

    # -- loading ------------------------------------------------------------------

    def load(self) -> None:
        self.call_service(doctors.list_doctors, self.actor, then=self._show_doctors, group="doctors", exclusive=True)

    def _show_doctors(self, found: list[DoctorView]) -> None:
        self.doctors = {d.id: d for d in found}
        wanted = self.app.selected_doctor_id if self.picking is None else self.doctor_id  # type: ignore[attr-defined]
        if wanted is None:
            wanted = self.doctor_id or self.actor.doctor_id or (found[0].id if found else None)
        select = self.query_one("#calendar-doctor", Select)
        options = [(literal(f"{d.full_name} · {', '.join(d.specialties) or 'doctor'}"), d.id) for d in found]
        with select.prevent(Select.Changed):
            select.set_options(options)
            if wanted in self.doctors:
                select.value = wanted
        self._set_doctor(wanted if wanted in self.doctors else None)

    def _set_doctor(self, doctor_id: int | None) -> None:
        self.doctor_id = doctor_id
        if self.picking is None:
            self.app.selected_doctor_id = doctor_id  # type: ignore[attr-defined]
        self._load_month()
        self._load_day()

    def _load_month(self, *, then_day: bool = False) -> None:
        """Fetch the month's counts; ``then_day``: the day's slots once the grid has painted them
        (paging through months, the grid answers first and the slots table follows)."""
        grid = self.query_one(MonthGrid)
        if self.doctor_id is None:
            grid.show_month([])
            if then_day:
                self._load_day()
            return
        key = (self.doctor_id, grid.cursor.year, grid.cursor.month)

        def shown(counts: list[queries.DayOccupancy]) -> None:
            self._show_month(key, counts)
            if then_day:
                self._title_day(f"{grid.cursor:%A %d %B %Y}")  # painted with the grid
                grid.call_after_refresh(self._load_day)

        def refused(error: ClinicError) -> None:
            if not isinstance(error, DatabaseUnavailable):  # that one is the banner already
                self.app.notify(error.message, title="Refused", severity="error")
            if then_day:
                self._load_day()

        self.call_service(queries.month_occupancy, self.actor, *key, then=shown, otherwise=refused, group="month", exclusive=True)

    def _show_month(self, key: tuple[int, int, int], counts: list[queries.DayOccupancy]) -> None:
        grid = self.query_one(MonthGrid)
        if key == (self.doctor_id, grid.cursor.year, grid.cursor.month):
            grid.show_month(counts)

    def _title_day(self, text: str) -> None:
        """The day above the slots; a line that fits needs no layout of the screen (the label
        has a fixed width), so moving the cursor repaints only what changed."""
        label = self.query_one("#calendar-day", Label)
        fits = label.size.height == 1 and len(text) <= label.content_size.width
        label.update(text, layout=not fits)

    def _load_day(self) -> None:
        day = self.query_one(MonthGrid).cursor
        self._title_day(f"{day:%A %d %B %Y}")
        if self.doctor_id is None:
            self._show_day(day, [])
            return
        doctor_id = self.doctor_id
        self.call_service(
            queries.day_slots, self.actor, doctor_id, day, then=lambda slots: self._show_day(day, slots), group="day", exclusive=True
        )

    def _show_day(self, day: date, slots: list[SlotView]) -> None:
        if day != self.query_one(MonthGrid).cursor:
            return
        table = self.query_one("#calendar-slots", DeskTable)
        previous = table.current_key
        table.clear()
        self.slots = {str(slot.id): slot for slot in slots}
        for slot in slots:
            start = timeutil.to_local(slot.starts_at)
            if slot.free:
                status = status_text("free")
            elif slot.status == "blocked" and slot.appointment_id is None:
                status = status_text("blocked")
            else:
                status = status_text(slot.appointment_status) if slot.appointment_status else Text("booked")
            row = [f"{start:%H:%M}", status]
            if self.actor.is_staff:
                row.append(literal(slot.patient_name or ""))
            table.add_row(*row, key=str(slot.id))
        if previous in self.slots:
            table.move_cursor(row=table.get_row_index(previous))
        if not slots:
            self._title_day(f"{day:%A %d %B %Y}: no slots")

    # -- keys and events ------------------------------------------------------------

    @on(Select.Changed, "#calendar-doctor")
    def _doctor_changed(self, event: Select.Changed) -> None:
        self._set_doctor(event.value if isinstance(event.value, int) else None)

    def action_choose_doctor(self) -> None:
        select = self.query_one("#calendar-doctor", Select)
        select.focus()
        select.action_show_overlay()

    def _cursor_moved(self, old: date, new: date) -> None:
        """Another day: its slots; another month: first its counts (the query starts within
        the key press; the grid waits for them to repaint), then the day's slots."""
        if (old.year, old.month) != (new.year, new.month):
            self._load_month(then_day=True)
        else:
            self._load_day()

    @on(MonthGrid.DayPicked)
    def _day_picked(self) -> None:
        table = self.query_one("#calendar-slots", DeskTable)
        if table.row_count:
            table.focus()

    @on(DataTable.RowSelected, "#calendar-slots")
    def _slot_chosen(self, event: DataTable.RowSelected) -> None:
        slot = self.slots.get(event.row_key.value or "")
        if slot is None:
            return
        if self.picking is not None:
            if slot.free:
                self.dismiss(slot)
            else:
                self.app.notify("Pick a free slot.", severity="warning")
            return
        if slot.free:
            doctor = self.doctors.get(slot.doctor_id)
            dialog = BookDialog(
                slot,
                doctor_name=doctor.full_name if doctor else slot.doctor,
                fee=doctor.fee if doctor else 0,
                currency=config.current().clinic.currency,
            )
            self.app.push_screen(dialog, self._booked)
        elif slot.appointment_id is not None:
            open_appointment(self, slot.appointment_id)
        else:
            self.app.notify("This slot is blocked.", severity="warning")

    def _booked(self, result: Booked | None) -> None:
        if result is None:
            return
        view = result.appointment
        when = timeutil.to_local(view.starts_at)
        message = f"Booked #{view.id}: {view.patient_name}, {when:%a %d %b %H:%M} ({view.status}{', paid' if view.paid else ''})."
        if result.payment_error:
            self.app.notify(f"{message} Payment refused: {result.payment_error}. Pay later from the appointment.", severity="warning", timeout=8)
        else:
            self.app.notify(message, title="Booked")
        self._load_month()
        self._load_day()

    def action_keep_slot(self) -> None:
        self.dismiss(None)
