"""F2: today at a glance, per role (reception: arrivals, open slots, outbox; doctor: their day;
admin: counts, pending reviews, failed mail; patient: their next visits)."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from ..services import dashboard, timeutil
from ..widgets.literal import literal
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .opening import open_appointment


TILE_WIDTH = 15


def tiles(items: list[tuple[str, object, bool]], width: int) -> Group:
    """The counts as rows of boxes, as many per row as fit: the number in bold, what it counts
    under it (red when it needs a look)."""
    per_row = max(1, min(len(items), width // TILE_WIDTH))
    rows = []
    for start in range(0, len(items), per_row):
        chunk = items[start : start + per_row]
        table = Table(box=box.ROUNDED, expand=True, show_header=False, padding=(0, 0))
        for _ in range(per_row):
            table.add_column(justify="center", ratio=1)
        blanks = [""] * (per_row - len(chunk))
        table.add_row(*[Text(str(value), style="bold #e0555f" if warn else "bold") for _, value, warn in chunk], *blanks)
        table.add_row(*[Text(label, style="dim") for label, _, _ in chunk], *blanks)
        rows.append(table)
    return Group(*rows)


class DashboardScreen(DeskScreen):
    TITLE_TEXT = "Dashboard"
    MODE = "dashboard"
    BINDINGS = [Binding("r", "reload", "Reload")]

    def compose_body(self) -> ComposeResult:
        yield Static(id="tiles")
        yield Label("Today", id="arrivals-title", classes="section-title")
        yield DeskTable(id="arrivals", enter="Open appointment")
        yield Label("Failed mail", id="failed-title", classes="section-title")
        yield DeskTable(id="failed-mail", enter="")

    def on_mount(self) -> None:
        self.query_one("#arrivals", DataTable).add_columns("Time", "Patient", "Doctor", "Reason", "Status", "Paid")
        self.query_one("#failed-mail", DataTable).add_columns("#", "To", "Subject", "Last error")
        self.query_one("#failed-title").display = False
        self.query_one("#failed-mail").display = False

    def load(self) -> None:
        self.call_service(dashboard.today, self.actor, then=self.show, group="load", exclusive=True)

    def action_reload(self) -> None:
        self.load()

    def show(self, board: dashboard.Dashboard) -> None:
        counts = board.status_counts
        active = sum(n for status, n in counts.items() if status != "cancelled")
        title = "Next visits" if board.role == "patient" else f"Today, {board.day:%A %d %B}"
        self.query_one("#arrivals-title", Label).update(title)
        items = [("visits" if board.role != "patient" else "upcoming", active, False)]
        if board.role != "patient":
            items += [
                ("to come", counts.get("pending", 0) + counts.get("confirmed", 0), False),
                ("completed", counts.get("completed", 0), False),
                ("no-shows", counts.get("no_show", 0), bool(counts.get("no_show"))),
            ]
        if board.open_slots_left is not None:
            items.append(("free slots", board.open_slots_left, False))
        if board.outbox is not None:
            pending = board.outbox.get("pending", 0) + board.outbox.get("sending", 0)
            failed = board.outbox.get("failed", 0)
            items.append(("mail queued", pending, False))
            items.append(("mail failed", failed, bool(failed)))
        if board.pending_reviews is not None:
            items.append(("to moderate", board.pending_reviews, bool(board.pending_reviews)))
        if board.doctors is not None:
            items.append(("doctors", board.doctors, False))
            items.append(("patients", board.patients, False))
        self.query_one("#tiles", Static).update(tiles(items, self.size.width - 2))

        table = self.query_one("#arrivals", DataTable)
        table.clear()
        for row in board.arrivals:
            local = timeutil.to_local(row.starts_at)
            when = f"{local:%H:%M}" if board.role != "patient" else f"{local:%a %d %b %H:%M}"
            table.add_row(
                when,
                literal(row.patient_name),
                literal(row.doctor_name),
                literal(row.reason),
                status_text(row.status),
                Text("paid", style="#43b95a") if row.paid else Text("—", style="dim"),
                key=str(row.id),
            )
        failed = self.query_one("#failed-mail", DataTable)
        failed.clear()
        for mail in board.failed_mail:
            failed.add_row(str(mail.id), literal(mail.to), literal(mail.subject), literal(mail.last_error), key=str(mail.id))
        self.query_one("#failed-title").display = bool(board.failed_mail)
        failed.display = bool(board.failed_mail)

    @on(DataTable.RowSelected, "#arrivals")
    def _open_row(self, event: DataTable.RowSelected) -> None:
        open_appointment(self, int(event.row_key.value))
