"""Which screen sits on which function key, and who may open it.

Function keys work from anywhere (they never clash with typing in a field). A user sees the keys
of the screens the policy lets them use; the services still decide every single action.

Each screen's module is imported the first time its mode opens (``MODES`` holds loaders, which
Textual accepts), so starting the desk loads only the login screen: the calendar, for one,
pulls in half the services.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from textual.binding import Binding
from textual.screen import Screen

from ..services import policy
from ..services.actors import Actor

Allowed = Callable[[Actor], bool]


def _may_use_wallet(a: Actor) -> bool:
    return policy.allowed(a, "wallet.deposit") or (a.patient_id is not None and policy.allowed(a, "wallet.read", patient_id=a.patient_id))


# (key, mode, label, "module:ScreenClass" under clinic_desk.screens, who may open it)
SCREENS: list[tuple[str, str, str, str, Allowed]] = [
    ("f2", "dashboard", "Dashboard", "dashboard:DashboardScreen", lambda a: True),
    ("f3", "doctors", "Doctors", "doctors:DoctorsScreen", lambda a: policy.allowed(a, "doctor.read")),
    ("f4", "calendar", "Calendar", "calendar:CalendarScreen", lambda a: policy.allowed(a, "slot.read")),
    ("f5", "patients", "Patients", "patients:PatientsScreen", lambda a: policy.allowed(a, "patient.list")),
    ("f6", "wallet", "Wallet", "wallet:WalletScreen", _may_use_wallet),
    ("f7", "my_day", "My day", "my_day:MyDayScreen", lambda a: a.doctor_id is not None),
    ("f8", "reviews", "Reviews", "reviews:ReviewsScreen", lambda a: policy.allowed(a, "review.moderate") or a.doctor_id is not None),
    ("f9", "outbox", "Outbox", "outbox:OutboxScreen", lambda a: policy.allowed(a, "mail.manage")),
]


def screen_class(where: str) -> type[Screen]:
    """``"calendar:CalendarScreen"`` -> the class (its module imported now, if not yet)."""
    module, name = where.split(":")
    return getattr(import_module(f"{__package__}.{module}"), name)


def _loader(where: str) -> Callable[[], Screen]:
    def load() -> Screen:
        return screen_class(where)()

    load.__qualname__ = load.__name__ = where.split(":")[1]
    return load


MODES: dict[str, Callable[[], Screen]] = {mode: _loader(where) for _, mode, _, where, _ in SCREENS}

BINDINGS = [Binding(key, f"go('{mode}')", label, show=False, priority=True) for key, mode, label, _, _ in SCREENS]


def allowed(actor: Actor, mode: str) -> bool:
    return any(m == mode and may(actor) for _, m, _, _, may in SCREENS)


def entries(actor: Actor | None) -> list[tuple[str, str, str]]:
    if actor is None:
        return []
    return [(key, mode, label) for key, mode, label, _, may in SCREENS if may(actor)]


def help_sections(app_class: type) -> list[tuple[str, type]]:
    """Everything F1 lists: the global keys, each screen's own, then the dialogs'."""
    from ..widgets.month_grid import MonthGrid
    from .appointment import AppointmentScreen, CancelDialog
    from .booking import BookDialog
    from .dialogs import DIALOGS
    from .pickers import PatientPickDialog

    sections: list[tuple[str, type]] = [("Everywhere", app_class)]
    sections += [(f"{label} ({key.upper()})", screen_class(where)) for key, _, label, where, _ in SCREENS]
    sections += [("Month grid (calendar)", MonthGrid), ("Appointment detail", AppointmentScreen)]
    sections += [(dialog.HELP_TITLE, dialog) for dialog in (BookDialog, CancelDialog, PatientPickDialog, *DIALOGS)]
    return sections
