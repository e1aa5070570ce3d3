"""Which screen sits on which function key, and who may open it.

Function keys work from anywhere (they never clash with typing in a field). A user sees the keys
of the screens the policy lets them use; the services still decide every single action.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.screen import Screen

from ..services import policy
from ..services.actors import Actor
from .calendar import CalendarScreen
from .dashboard import DashboardScreen
from .doctors import DoctorsScreen
from .my_day import MyDayScreen
from .outbox import OutboxScreen
from .patients import PatientsScreen
from .reviews import ReviewsScreen
from .wallet import WalletScreen

Allowed = Callable[[Actor], bool]

# (key, mode, label, screen, who may open it)
SCREENS: list[tuple[str, str, str, Callable[[], Screen], Allowed]] = [
    ("f2", "dashboard", "Dashboard", DashboardScreen, lambda a: True),
    ("f3", "doctors", "Doctors", DoctorsScreen, lambda a: policy.allowed(a, "doctor.read")),
    ("f4", "calendar", "Calendar", CalendarScreen, lambda a: policy.allowed(a, "slot.read")),
    ("f5", "patients", "Patients", PatientsScreen, lambda a: policy.allowed(a, "patient.list")),
    (
        "f6",
        "wallet",
        "Wallet",
        WalletScreen,
        lambda a: policy.allowed(a, "wallet.deposit") or (a.patient_id is not None and policy.allowed(a, "wallet.read", patient_id=a.patient_id)),
    ),
    ("f7", "my_day", "My day", MyDayScreen, lambda a: a.doctor_id is not None),
    ("f8", "reviews", "Reviews", ReviewsScreen, lambda a: policy.allowed(a, "review.moderate") or a.doctor_id is not None),
    ("f9", "outbox", "Outbox", OutboxScreen, lambda a: policy.allowed(a, "mail.manage")),
]

MODES: dict[str, Callable[[], Screen]] = {mode: screen for _, mode, _, screen, _ in SCREENS}

BINDINGS = [Binding(key, f"go('{mode}')", label, show=False, priority=True) for key, mode, label, _, _ in SCREENS]


def allowed(actor: Actor, mode: str) -> bool:
    return any(m == mode and may(actor) for _, m, _, _, may in SCREENS)


def entries(actor: Actor | None) -> list[tuple[str, str, str]]:
    if actor is None:
        return []
    return [(key, mode, label) for key, mode, label, _, may in SCREENS if may(actor)]


def help_sections(app_class: type) -> list[tuple[str, type]]:
    """Everything F1 lists: the global keys, each screen's own, then the dialogs'."""
    from .appointment import AppointmentScreen, CancelDialog
    from .booking import BookDialog
    from .dialogs import DIALOGS
    from .pickers import PatientPickDialog
    from ..widgets.month_grid import MonthGrid

    sections: list[tuple[str, type]] = [("Everywhere", app_class)]
    sections += [(f"{label} ({key.upper()})", screen) for key, _, label, screen, _ in SCREENS]  # type: ignore[misc]
    sections += [("Month grid (calendar)", MonthGrid), ("Appointment detail", AppointmentScreen)]
    sections += [(dialog.HELP_TITLE, dialog) for dialog in (BookDialog, CancelDialog, PatientPickDialog, *DIALOGS)]
    return sections
