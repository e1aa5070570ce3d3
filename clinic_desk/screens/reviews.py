"""F8: reviews. Admins moderate (approve, reject with a reason); doctors respond to the approved
reviews of their visits. ``s`` cycles the status shown."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from ..services import policy, reviews, timeutil
from ..services.reviews import ReviewView
from ..widgets.literal import literal
from ..widgets.stars import stars
from ..widgets.status import status_text
from ..widgets.table import DeskTable
from .base import DeskScreen
from .dialogs import TextDialog

FILTERS = ("pending", "approved", "rejected", None)


class ReviewsScreen(DeskScreen):
    TITLE_TEXT = "Reviews"
    MODE = "reviews"
    BINDINGS = [
        Binding("a", "approve", "Approve"),
        Binding("r", "reject", "Reject"),
        Binding("o", "respond", "Respond"),
        Binding("s", "cycle_status", "Status shown"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: str | None = "pending" if self.app.actor is not None and self.app.actor.role == "admin" else "approved"  # type: ignore[attr-defined]
        self.found: dict[str, ReviewView] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("", id="reviews-title", classes="section-title")
        yield DeskTable(enter="", id="reviews-table")
        yield Static("", id="review-detail")

    def on_mount(self) -> None:
        self.query_one("#reviews-table", DeskTable).add_columns("#", "Visit", "Doctor", "Patient", "Rating", "Status", "Comment")
        self.query_one("#reviews-table", DeskTable).focus()

    def load(self) -> None:
        self.call_service(reviews.list_reviews, self.actor, status=self.status, then=self.show, group="load", exclusive=True)

    def show(self, found: list[ReviewView]) -> None:
        shown = self.status or "all"
        self.query_one("#reviews-title", Label).update(f"{len(found)} {shown} review(s)")
        table = self.query_one("#reviews-table", DeskTable)
        previous = table.current_key
        table.clear()
        self.found = {str(r.id): r for r in found}
        for r in found:
            table.add_row(
                str(r.id),
                f"{timeutil.to_local(r.visit_at):%Y-%m-%d}",
                literal(r.doctor_name),
                literal(r.patient_name),
                stars(r.rating),
                status_text(r.status),
                literal(r.comment, overflow="ellipsis", no_wrap=True),
                key=str(r.id),
            )
        if previous in self.found:
            table.move_cursor(row=table.get_row_index(previous))
        self._show_detail()

    @property
    def current(self) -> ReviewView | None:
        return self.found.get(self.query_one("#reviews-table", DeskTable).current_key or "")

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        review = self.current
        detail = self.query_one("#review-detail", Static)
        if review is None:
            detail.update("")
            self.refresh_bindings()
            return
        text = literal(f"#{review.id} · {review.patient_name} on {review.doctor_name} · ", style="bold")
        text.append_text(stars(review.rating))
        text.append_text(literal(f"\n{review.comment or '(no comment)'}"))
        if review.response:
            text.append("\nResponse: ", style="dim")
            text.append_text(literal(review.response))
        if review.reject_reason:
            text.append("\nRejected: ", style="dim")
            text.append_text(literal(review.reject_reason))
        detail.update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        review = self.current
        if action in {"approve", "reject"}:
            return policy.allowed(self.actor, "review.moderate") and (review is None or review.status == "pending")
        if action == "respond":
            return self.actor.role == "doctor" and (review is None or review.status == "approved")
        return True

    # -- keys -------------------------------------------------------------------

    def action_cycle_status(self) -> None:
        self.status = FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]
        self.load()

    def action_approve(self) -> None:
        review = self.current
        if review is not None:
            self.call_service(reviews.approve, self.actor, review.id, then=self._done("approved"))

    def action_reject(self) -> None:
        review = self.current
        if review is None:
            return

        def reason(text: str | None) -> None:
            if text:
                self.call_service(reviews.reject, self.actor, review.id, text, then=self._done("rejected"))

        self.app.push_screen(TextDialog(f"Reject review #{review.id}", prompt="Why (kept with the review):"), reason)

    def action_respond(self) -> None:
        review = self.current
        if review is None:
            return

        def written(text: str | None) -> None:
            if text:
                self.call_service(reviews.respond, self.actor, review.id, text, then=self._done("answered"))

        self.app.push_screen(
            TextDialog(f"Respond to review #{review.id}", prompt="The patient is emailed your response.", value=review.response, multiline=True),
            written,
        )

    def _done(self, what: str):  # noqa: ANN202 - a callback
        def then(review: ReviewView) -> None:
            self.app.notify(f"Review #{review.id} {what}.")
            self.load()

        return then
