"""Search-as-you-type patient picker, shared by the booking dialog, the patients screen and the
wallet's choose-patient dialog."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static

from ..services import patients
from ..services.patients import PatientView
from ..widgets.literal import literal
from ..widgets.table import DeskTable
from .base import DeskDialog, ServiceCaller

SEARCH_LIMIT = 50


class PatientPicker(ServiceCaller, Vertical):
    """Type to search (name, email or phone); Down moves into the results, Enter picks."""

    DEFAULT_CSS = """
    PatientPicker { height: 1fr; }
    PatientPicker > Input { margin-bottom: 0; }
    """

    BINDINGS = [Binding("down", "results", "Results", show=False)]

    @dataclass
    class Highlighted(Message):
        """The cursor rests on a patient (None: no results)."""

        patient: PatientView | None

    @dataclass
    class Picked(Message):
        """Enter (or a click) on a patient."""

        patient: PatientView

    def __init__(self, *, enter: str = "Choose patient", **kwargs) -> None:  # noqa: ANN003 - Widget's options
        super().__init__(**kwargs)
        self.enter = enter
        self.found: dict[str, PatientView] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search patients: name, email or phone", id="patient-search", compact=True)
        yield DeskTable(enter=self.enter, id="patient-results")

    def on_mount(self) -> None:
        self.query_one(DeskTable).add_columns("#", "Name", "Email", "Phone")
        self.search()

    @property
    def text(self) -> str:
        return self.query_one("#patient-search", Input).value

    def search(self, *, select: int | None = None) -> None:
        """Look the text up again (``select``: put the cursor on this patient if listed)."""
        self.call_service(
            patients.list_patients,
            self.actor,
            search=self.text.strip() or None,
            limit=SEARCH_LIMIT,
            then=lambda found: self._show(found, select),
            group="patient-search",
            exclusive=True,
        )

    def _show(self, found: list[PatientView], select: int | None) -> None:
        table = self.query_one(DeskTable)
        previous = select if select is not None else (int(table.current_key) if table.current_key else None)
        table.clear()
        self.found = {str(p.id): p for p in found}
        for p in found:
            table.add_row(str(p.id), literal(p.full_name), literal(p.email), literal(p.phone), key=str(p.id))
        if previous is not None and str(previous) in self.found:
            table.move_cursor(row=table.get_row_index(str(previous)))
        self.post_message(self.Highlighted(self.found.get(table.current_key or "")))

    def focus_search(self) -> None:
        self.query_one("#patient-search", Input).focus()

    def action_results(self) -> None:
        self.query_one(DeskTable).focus()

    @on(Input.Changed, "#patient-search")
    def _typed(self) -> None:
        self.search()

    @on(Input.Submitted, "#patient-search")
    def _submitted(self) -> None:
        table = self.query_one(DeskTable)
        if table.row_count == 1:
            self.post_message(self.Picked(self.found[table.current_key]))  # type: ignore[index]
        elif table.row_count:
            table.focus()

    @on(DataTable.RowHighlighted, "#patient-results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.found.get(event.row_key.value or "")))

    @on(DataTable.RowSelected, "#patient-results")
    def _picked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        patient = self.found.get(event.row_key.value or "")
        if patient is not None:
            self.post_message(self.Picked(patient))


class PatientPickDialog(DeskDialog):
    """Choose a patient in a dialog (search, Enter); returns the patient or None."""

    HELP_TITLE = "Choose-patient dialog"
    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick-patient"):
            yield Static(Text("Choose a patient", style="bold"), classes="dialog-title")
            yield PatientPicker(enter="Choose")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PatientPicker).focus_search()

    @on(PatientPicker.Picked)
    def _picked(self, event: PatientPicker.Picked) -> None:
        self.dismiss(event.patient)
