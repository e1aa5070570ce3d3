"""Opening things from anywhere: an appointment's detail, a doctor's calendar, a patient, a wallet.

The App keeps which doctor and which patient the desk is working with; the calendar, patients
and wallet screens show that selection when they load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode

if TYPE_CHECKING:
    from .app import ClinicDeskApp


def open_appointment(node: DOMNode, appointment_id: int) -> None:
    """Push the appointment's detail over the current screen (Escape returns)."""
    from .appointment import AppointmentScreen

    node.app.push_screen(AppointmentScreen(appointment_id))


def go_with(app: ClinicDeskApp, mode: str) -> None:
    """Switch to ``mode``; when it is already showing, make it load the new selection."""
    if app.current_mode == mode:
        base = app.screen_stack[0]
        load = getattr(base, "load", None)
        if load is not None:
            load()
        while len(app.screen_stack) > 1:
            app.pop_screen()
    else:
        app.action_go(mode)


def open_calendar(app: ClinicDeskApp, doctor_id: int) -> None:
    app.selected_doctor_id = doctor_id
    go_with(app, "calendar")


def open_patient(app: ClinicDeskApp, patient_id: int) -> None:
    app.selected_patient_id = patient_id
    go_with(app, "patients")


def open_wallet(app: ClinicDeskApp, patient_id: int) -> None:
    app.selected_patient_id = patient_id
    go_with(app, "wallet")


def open_target(app: ClinicDeskApp, kind: str, target_id: int) -> None:
    """What a command-palette hit does."""
    if kind == "doctor":
        open_calendar(app, target_id)
    elif kind == "patient":
        open_patient(app, target_id)
    else:
        open_appointment(app, target_id)
