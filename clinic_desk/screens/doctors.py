"""F3: the doctors, searched as you type and filtered by specialty, fee and rating, with each
one's next free slot. Enter opens the doctor's calendar."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select

from ..errors import BadInput
from ..services import doctors, money, timeutil
from ..services.doctors import DoctorView
from ..widgets.fields import Parsed
from ..widgets.literal import literal
from ..widgets.money import money_text
from ..widgets.stars import stars_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .opening import open_calendar

RATINGS = [("any rating", 0.0), ("3★ and up", 3.0), ("4★ and up", 4.0), ("4.5★ and up", 4.5)]


def _max_fee(text: str) -> int | None:
    return money.parse_fee(text) if text.strip() else None


class DoctorsScreen(DeskScreen):
    TITLE_TEXT = "Doctors"
    MODE = "doctors"
    BINDINGS = [
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+o", "specialty", "Specialty"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="doctor-filters", classes="filters"):
            yield Input(placeholder="search by name", id="doctor-search", compact=True)
            yield Select([], prompt="any specialty", id="doctor-specialty", compact=True)
            yield Input(placeholder="max fee", id="doctor-max-fee", validators=[Parsed(_max_fee)], valid_empty=True, compact=True)
            yield Select(RATINGS, value=0.0, allow_blank=False, id="doctor-rating", compact=True)
        yield DeskTable(enter="Calendar", id="doctor-table")

    def on_mount(self) -> None:
        self.query_one("#doctor-table", DeskTable).add_columns("Doctor", "Specialties", "Fee", "Rating", "Next free", "Room")
        self.query_one("#doctor-search", Input).focus()
        self.call_service(doctors.list_specialties, self.actor, then=self._show_specialties)

    def _show_specialties(self, names: list[str]) -> None:
        self.query_one("#doctor-specialty", Select).set_options([(literal(name), name) for name in names])

    def load(self) -> None:
        specialty = self.query_one("#doctor-specialty", Select).value
        rating = self.query_one("#doctor-rating", Select).value
        try:
            max_fee = _max_fee(self.query_one("#doctor-max-fee", Input).value)
        except BadInput:
            return  # the field says what is wrong
        self.call_service(
            doctors.list_doctors,
            self.actor,
            search=self.query_one("#doctor-search", Input).value or None,
            specialty=specialty if isinstance(specialty, str) else None,
            max_fee=max_fee,
            min_rating=float(rating) if rating else None,  # type: ignore[arg-type]
            then=self.show,
            group="load",
            exclusive=True,
        )

    def show(self, found: list[DoctorView]) -> None:
        table = self.query_one("#doctor-table", DeskTable)
        previous = table.current_key
        table.clear()
        for doctor in found:
            next_free = (
                Text(f"{timeutil.to_local(doctor.next_free):%a %d %b %H:%M}")
                if doctor.next_free
                else Text("none", style="dim")
            )
            table.add_row(
                literal(doctor.full_name),
                literal(", ".join(doctor.specialties)),
                money_text(doctor.fee),
                stars_text(doctor.rating, doctor.reviews),
                next_free,
                literal(doctor.room),
                key=str(doctor.id),
            )
        if previous is not None and any(str(d.id) == previous for d in found):
            table.move_cursor(row=table.get_row_index(previous))

    @on(Input.Changed, "#doctor-search")
    @on(Input.Changed, "#doctor-max-fee")
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        self.load()

    @on(Input.Submitted)
    def _to_table(self) -> None:
        self.query_one("#doctor-table", DeskTable).focus()

    def action_search(self) -> None:
        self.query_one("#doctor-search", Input).focus()

    def action_specialty(self) -> None:
        select = self.query_one("#doctor-specialty", Select)
        select.focus()
        select.action_show_overlay()

    @on(DataTable.RowSelected, "#doctor-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        open_calendar(self.app, int(event.row_key.value or 0))  # type: ignore[arg-type]
