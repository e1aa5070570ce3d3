"""The worker/message pattern every screen uses, and the chrome every desk screen shares.

``call_service(fn, *args, then=...)`` runs one service function in a thread worker (Peewee
connections are per thread) and posts the outcome back as a message; ``then`` renders the result
on the event loop. A refusal becomes a notification that says why, a database outage the banner;
nothing a service raises reaches Textual's error handler, so nothing crashes the app.

Thread workers run on the event loop's executor, whose threads live as long as the app: each
keeps its connection from one call to the next (no new PostgreSQL connection per call) and drops
it when a call fails, so that the next call on that thread connects afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker, get_current_worker

from ..errors import ClinicError, DatabaseUnavailable, Refused
from ..services import notify
from ..services.actors import Actor
from ..widgets.chrome import DeskHeader, NavBar, OutageBanner
from .messages import DatabaseDown, DatabaseUp, DataChanged, MailQueued, ServiceDone, ServiceRefused

if TYPE_CHECKING:
    from .app import ClinicDeskApp


def close_thread_connection() -> None:
    """Drop this worker thread's connection (Peewee keeps one per thread): after a failure, so
    that the next call on this thread connects afresh."""
    from ..store.db import db

    try:
        if db.obj is not None and not db.is_closed() and not db.in_transaction():
            db.close()
    except Exception:  # noqa: BLE001 - a broken connection is as good as closed
        pass


def as_clinic_error(exc: Exception) -> ClinicError:
    """The one-line, user-facing form of anything a service call raised."""
    if isinstance(exc, ClinicError):
        return exc
    from ..services.tx import translate

    translated = translate(exc)
    if isinstance(translated, ClinicError):
        return translated
    from ..logfile import log_exception

    path = log_exception(exc)
    return Refused(f"unexpected error ({type(exc).__name__}); details in {path}")


def run_service_job(
    target: MessagePump,
    app: ClinicDeskApp,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    then: Callable[[Any], None] | None,
    otherwise: Callable[[ClinicError], None] | None,
) -> None:
    """The body of every service worker (runs in a thread; talks back only by messages)."""
    worker = get_current_worker()
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message
        close_thread_connection()
        error = as_clinic_error(exc)
        if isinstance(error, DatabaseUnavailable):
            app.post_message(DatabaseDown(error.message))
            if otherwise is None:
                return
        outcome: ServiceDone | ServiceRefused = ServiceRefused(error, otherwise)
    else:
        if app.db_down:
            app.post_message(DatabaseUp())
        outcome = ServiceDone(then, result)
    if not worker.is_cancelled:
        target.post_message(outcome)
    if notify.queued_in_process:
        app.post_message(MailQueued())


class ServiceCaller:
    """Mixin for screens and widgets that call services (via a worker) and render the results."""

    app: ClinicDeskApp

    @property
    def actor(self) -> Actor:
        actor = self.app.actor
        assert actor is not None, "a desk screen is shown only after login"
        return actor

    def call_service(
        self,
        fn: Callable[..., Any],
        *args: Any,
        then: Callable[[Any], None] | None = None,
        otherwise: Callable[[ClinicError], None] | None = None,
        group: str = "service",
        exclusive: bool = False,
        **kwargs: Any,
    ) -> Worker[None]:
        """Run ``fn(*args, **kwargs)`` in a thread; ``then(result)`` runs on the event loop.

        ``exclusive=True`` drops the result of an earlier call in the same ``group`` that has not
        finished (search as you type shows only the latest answer).
        """
        return self.run_worker(  # type: ignore[attr-defined]
            lambda: run_service_job(self, self.app, fn, args, kwargs, then, otherwise),  # type: ignore[arg-type]
            thread=True,
            group=group,
            exclusive=exclusive,
            exit_on_error=False,
            name=getattr(fn, "__name__", "service"),
        )

    def on_service_done(self, message: ServiceDone) -> None:
        message.stop()
        if message.then is not None and self.is_attached:  # type: ignore[attr-defined]
            message.then(message.result)

    def on_service_refused(self, message: ServiceRefused) -> None:
        message.stop()
        if message.otherwise is not None and self.is_attached:  # type: ignore[attr-defined]
            message.otherwise(message.error)
        else:
            self.app.notify(message.error.message, title="Refused", severity="error")


class DeskScreen(ServiceCaller, Screen[None]):
    """A full screen of the desk: header, function-key bar, outage banner, body, footer.

    ``load()`` fetches what the screen shows; it runs when the screen is shown, when another
    desk changes something, and when the database comes back.
    """

    TITLE_TEXT = ""
    MODE = ""

    def compose(self) -> ComposeResult:
        yield DeskHeader(self.TITLE_TEXT)
        yield NavBar(self.MODE)
        yield OutageBanner()
        with Vertical(classes="body"):
            yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.query_one(DeskHeader).refresh_line()
        self.load()

    def on_data_changed(self, message: DataChanged) -> None:
        self.load()

    def load(self) -> None:
        """Fetch this screen's data (through ``call_service``)."""


class DeskDialog(ServiceCaller, ModalScreen[Any]):
    """A dialog over a desk screen; escape closes it without a result."""

    BINDINGS = [("escape", "dismiss_dialog", "Close")]

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
