"""F9: the email log (newest first) with status, attempts and the last error; retry a message
that failed or waits. ``s`` cycles the status shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from ..services import outbox
from ..services.outbox import OutboxView
from ..widgets.literal import literal
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen

FILTERS = (None, "failed", "pending", "sent")


class OutboxScreen(DeskScreen):
    TITLE_TEXT = "Outbox"
    MODE = "outbox"
    BINDINGS = [
        Binding("r", "retry", "Retry"),
        Binding("s", "cycle_status", "Status shown"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: str | None = None
        self.found: dict[str, OutboxView] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("", id="outbox-title", classes="section-title")
        yield DeskTable(enter="", id="outbox-table")
        yield Static("", id="outbox-detail")

    def on_mount(self) -> None:
        table = self.query_one("#outbox-table", DeskTable)
        table.add_columns("#", "Queued", "Status", "Tries", "To", "Subject")  # status first: long subjects may run off
        table.focus()

    def load(self) -> None:
        self.call_service(outbox.mail_log, self.actor, status=self.status, then=self.show, group="load", exclusive=True)

    def show(self, found: list[OutboxView]) -> None:
        self.query_one("#outbox-title", Label).update(f"{len(found)} message(s){'' if self.status is None else ' ' + self.status}, newest first")
        table = self.query_one("#outbox-table", DeskTable)
        previous = table.current_key
        table.clear()
        self.found = {str(m.id): m for m in found}
        for m in found:
            table.add_row(
                str(m.id),
                f"{m.created_at:%d %b %H:%M}",
                status_text(m.status),
                str(m.attempts),
                literal(m.to),
                literal(m.subject, overflow="ellipsis", no_wrap=True),
                key=str(m.id),
            )
        if previous in self.found:
            table.move_cursor(row=table.get_row_index(previous))
        self._show_detail()

    @property
    def current(self) -> OutboxView | None:
        return self.found.get(self.query_one("#outbox-table", DeskTable).current_key or "")

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        message = self.current
        detail = self.query_one("#outbox-detail", Static)
        if message is None:
            detail.update("")
        else:
            text = literal(f"#{message.id} {message.kind} to {message.to}", style="bold")
            if message.sent_at:
                text.append(f"\nsent {message.sent_at:%Y-%m-%d %H:%M}")
            elif message.next_attempt_at:
                text.append(f"\nnext attempt {message.next_attempt_at:%Y-%m-%d %H:%M}")
            if message.last_error:
                text.append("\nlast error: ", style="dim")
                text.append_text(literal(message.last_error, style="#e0555f"))
            detail.update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            message = self.current
            return message is None or message.status in {"failed", "pending"}
        return True

    def action_cycle_status(self) -> None:
        self.status = FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]
        self.load()

    def action_retry(self) -> None:
        message = self.current
        if message is None:
            return

        def retried(view: OutboxView) -> None:
            self.app.notify(f"Message #{view.id} is queued again; it goes out with the next delivery.")
            self.app.deliver_mail()  # type: ignore[attr-defined]
            self.load()

        self.call_service(outbox.retry, self.actor, message.id, then=retried)
