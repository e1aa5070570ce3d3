"""F5: patients: search as you type, register, edit, and each one's appointments and wallet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static

from .. import config
from ..services import clock, patients, policy, queries, timeutil, wallet
from ..services.actors import Actor
from ..services.patients import PatientView
from ..services.queries import AppointmentView
from ..widgets.literal import literal
from ..widgets.money import money_text
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .dialogs import PatientDetails, PatientDialog
from .opening import open_appointment
from .pickers import PatientPicker

HISTORY_DAYS = 365
APPOINTMENTS_LIMIT = 200


@dataclass(frozen=True)
class Overview:
    patient: PatientView
    balance: int | None
    appointments: list[AppointmentView]


def patient_overview(actor: Actor, patient_id: int) -> Overview:
    """The patient, their wallet balance and their appointments from a year back on."""
    patient = patients.show_patient(actor, patient_id)
    balance = wallet.show(actor, patient_id).balance if policy.allowed(actor, "wallet.read", patient_id=patient_id) else None
    first = timeutil.to_local(clock.now()).date() - timedelta(days=HISTORY_DAYS)
    appointments = queries.list_appointments(actor, patient_id=patient_id, first=first, last=first + timedelta(days=2 * HISTORY_DAYS), limit=APPOINTMENTS_LIMIT)
    return Overview(patient, balance, appointments)


class PatientsScreen(DeskScreen):
    TITLE_TEXT = "Patients"
    MODE = "patients"
    BINDINGS = [
        Binding("ctrl+n", "register", "Register"),
        Binding("ctrl+t", "edit", "Edit"),
        Binding("ctrl+f", "search", "Search"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="patients-main"):
            yield PatientPicker(enter="Appointments", id="patients-picker")
            with Vertical(id="patient-detail"):
                yield Static("", id="patient-info")
                yield Label("Appointments (Enter opens; F6 shows the wallet)", classes="section-title")
                yield DeskTable(enter="Open appointment", id="patient-appointments")

    def on_mount(self) -> None:
        self.query_one("#patient-appointments", DeskTable).add_columns("When", "Doctor", "Status", "Paid")
        self.query_one(PatientPicker).focus_search()

    @property
    def patient_id(self) -> int | None:
        return self.app.selected_patient_id  # type: ignore[attr-defined]

    def load(self) -> None:
        self.query_one(PatientPicker).search(select=self.patient_id)

    @on(PatientPicker.Highlighted)
    def _highlighted(self, event: PatientPicker.Highlighted) -> None:
        if event.patient is None:
            self.query_one("#patient-info", Static).update(Text("No patient matches.", style="dim"))
            self.query_one("#patient-appointments", DeskTable).clear()
            return
        self.app.selected_patient_id = event.patient.id  # type: ignore[attr-defined]
        self.call_service(patient_overview, self.actor, event.patient.id, then=self.show, group="overview", exclusive=True)

    @on(PatientPicker.Picked)
    def _to_appointments(self) -> None:
        table = self.query_one("#patient-appointments", DeskTable)
        if table.row_count:
            table.focus()

    def show(self, overview: Overview) -> None:
        if overview.patient.id != self.patient_id:
            return
        p = overview.patient
        info = literal(p.full_name, style="bold")
        info.append(f"  #{p.id}\n", style="dim")
        for label, value in (
            ("Email", p.email),
            ("Phone", p.phone or "—"),
            ("Born", p.date_of_birth.isoformat() if p.date_of_birth else "—"),
            ("Reminders", "yes" if p.reminders else "no (opted out)"),
        ):
            info.append(f"{label:<11}", style="dim")
            info.append_text(literal(f"{value}\n"))
        if overview.balance is not None:
            info.append(f"{'Wallet':<11}", style="dim")
            info.append_text(money_text(overview.balance, currency=config.current().clinic.currency))
        self.query_one("#patient-info", Static).update(info)
        table = self.query_one("#patient-appointments", DeskTable)
        table.clear()
        for view in overview.appointments:
            table.add_row(
                f"{timeutil.to_local(view.starts_at):%Y-%m-%d %H:%M}",
                literal(view.doctor_name),
                status_text(view.status),
                Text("paid", style="#43b95a") if view.paid else Text("—", style="dim"),
                key=str(view.id),
            )

    @on(DataTable.RowSelected, "#patient-appointments")
    def _open(self, event: DataTable.RowSelected) -> None:
        open_appointment(self, int(event.row_key.value or 0))  # type: ignore[arg-type]

    def action_search(self) -> None:
        self.query_one(PatientPicker).focus_search()

    # -- register and edit ----------------------------------------------------------

    def action_register(self) -> None:
        self.app.push_screen(PatientDialog("Register a new patient"), self._register)

    def _register(self, details: PatientDetails | None) -> None:
        if details is None:
            return
        self.call_service(
            patients.add_patient,
            self.actor,
            **asdict(details),
            then=self._saved("Registered"),
        )

    def action_edit(self) -> None:
        if self.patient_id is None:
            return
        self.call_service(patients.show_patient, self.actor, self.patient_id, then=self._edit_dialog)

    def _edit_dialog(self, p: PatientView) -> None:
        initial = PatientDetails(p.full_name, p.email, p.phone, p.date_of_birth)
        self.app.push_screen(PatientDialog(f"Edit patient #{p.id}", initial=initial), lambda d: self._edit(p.id, d))

    def _edit(self, patient_id: int, details: PatientDetails | None) -> None:
        if details is None:
            return
        self.call_service(
            patients.edit_patient,
            self.actor,
            patient_id,
            **asdict(details),
            then=self._saved("Saved"),
        )

    def _saved(self, verb: str):  # noqa: ANN202 - a callback
        def then(patient: PatientView) -> None:
            self.app.notify(f"{verb} {patient.full_name} (#{patient.id}).")
            self.app.selected_patient_id = patient.id  # type: ignore[attr-defined]
            self.query_one(PatientPicker).search(select=patient.id)

        return then
