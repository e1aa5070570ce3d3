"""The desk's Textual App: function-key navigation between screens, login, the outage banner,
and live updates from other desks. ``run_app()`` is what `clinic-desk tui` calls.

Each screen lives in its own mode (its own screen stack), so F3 then F4 then F3 returns to the
doctors list as it was left, dialog and all; logging out throws every mode away.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.worker import get_current_worker

from .. import config
from ..services.actors import Actor
from ..widgets.literal import ControlCharacterFilter, literal_str
from . import navigation
from .gate import GateScreen
from .messages import DatabaseDown, DatabaseUp, DataChanged, LoggedIn, MailQueued

STYLESHEET = Path(__file__).resolve().parent.parent / "clinic_desk.tcss"
PROBE_SECONDS = 2.0
WATCH_SECONDS = 0.5  # how long one wait blocks: also how soon the watcher notices the app closing
SETTLE_SECONDS = 0.15  # changes that arrive this close together cause one reload
_NO_CONTROLS = ControlCharacterFilter()


def jump_provider() -> type:
    """The palette's provider, imported when the palette first opens (it needs the services)."""
    from .palette import JumpProvider

    return JumpProvider


class ClinicDeskApp(App[None]):
    """clinic-desk at the keyboard."""

    CSS_PATH = STYLESHEET
    TITLE = "clinic-desk"
    MODES = {"login": GateScreen, **navigation.MODES}
    DEFAULT_MODE = "login"
    COMMANDS = App.COMMANDS | {jump_provider}
    COMMAND_PALETTE_DISPLAY = "ctrl+p"
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        *navigation.BINDINGS,
        Binding("f10", "logout", "Log out", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    db_down: reactive[bool] = reactive(False)

    def __init__(
        self, *, actor: Actor | None = None, start: str = "dashboard", live: bool = True, blink: bool = True, resume: bool = False
    ) -> None:
        """``actor`` skips the login (tests); ``live=False`` starts no change watcher;
        ``blink=False`` keeps cursors still (snapshots); ``resume``: log in with the session
        `clinic-desk login` saved for this database, when it is still valid."""
        super().__init__()
        self.actor: Actor | None = actor  # set before the login screen mounts, so it checks nothing
        self.resume_session = resume and actor is None
        self.db_down_reason = ""
        self.selected_doctor_id: int | None = None  # the doctor the calendar shows
        self.selected_patient_id: int | None = None  # the patient the patients and wallet screens show
        self.clinic_name = config.current().clinic.name
        self._preset = (actor, start)
        self._live = live
        self._blink = blink
        self._watching = False

    # -- nothing users typed reaches the terminal raw ---------------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then one that drops control characters from every painted line."""
        return [*super().get_line_filters(), _NO_CONTROLS]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification; its text is shown literally (it often quotes names or reasons people
        typed), never as markup."""
        if not markup:
            message, title = literal_str(message), literal_str(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- start, login, logout ------------------------------------------------------

    def on_mount(self) -> None:
        actor, start = self._preset
        if actor is not None:
            self._log_in(actor, start)

    def on_logged_in(self, message: LoggedIn) -> None:
        self._log_in(message.actor, "dashboard")

    def _log_in(self, actor: Actor, start: str) -> None:
        self.actor = actor
        self.refresh_bindings()
        self.switch_mode(start if navigation.allowed(actor, start) else "dashboard")
        if self._live and not self._watching:
            self._watching = True
            self.watch_changes()

    async def action_logout(self) -> None:
        if self.actor is None:
            return
        self.actor = None
        self.selected_doctor_id = self.selected_patient_id = None
        self.refresh_bindings()
        await self.switch_mode("login")
        for mode in navigation.MODES:
            await self.remove_mode(mode)
            self.add_mode(mode, navigation.MODES[mode])
        gate = self.screen
        if isinstance(gate, GateScreen):
            gate.reset_login()

    # -- navigation ----------------------------------------------------------------

    def navigation(self) -> list[tuple[str, str, str]]:
        """(key, mode, label) of the screens the logged-in user may open."""
        return navigation.entries(self.actor)

    def action_go(self, mode: str) -> None:
        if self.actor is None or not navigation.allowed(self.actor, mode):
            self.bell()
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        from .help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(navigation.help_sections(type(self))))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go":
            return self.actor is not None and navigation.allowed(self.actor, str(parameters[0]))
        if action in {"logout", "command_palette"}:
            return self.actor is not None
        return True

    def on_descendant_focus(self, event) -> None:  # noqa: ANN001 - textual.events.DescendantFocus
        if not self._blink and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False

    # -- the database going away and coming back -----------------------------------

    def on_database_down(self, message: DatabaseDown) -> None:
        self.db_down_reason = message.reason
        if not self.db_down:
            self.db_down = True
            self.probe_database()

    def on_database_up(self, message: DatabaseUp) -> None:
        if self.db_down:
            self.db_down = False
            self.notify("The database is back.", title="Reconnected")
            self._reload_visible()

    @work(thread=True, group="probe", exclusive=True, exit_on_error=False)
    def probe_database(self) -> None:
        """Ask the database every few seconds until it answers, then say so."""
        from ..services.dashboard import ping
        from .base import close_thread_connection

        worker = get_current_worker()
        while not worker.cancelled_event.wait(PROBE_SECONDS):
            try:
                ping()
            except Exception:  # noqa: BLE001 - still down; ask again, on a new connection
                close_thread_connection()
                continue
            self.post_message(DatabaseUp())
            return

    # -- mail queued by this desk ---------------------------------------------------

    def on_mail_queued(self, message: MailQueued) -> None:
        self.deliver_mail()

    @work(thread=True, group="mail", exclusive=True, exit_on_error=False)
    def deliver_mail(self) -> None:
        """Send what this desk just queued (a few seconds at most; without SMTP it waits)."""
        from ..services import mailer
        from .base import close_thread_connection

        try:
            mailer.deliver_after_commit()
        except Exception:
            close_thread_connection()
            raise

    # -- live updates from other desks -----------------------------------------------

    def on_data_changed(self, message: DataChanged) -> None:
        self._reload_visible()

    def _reload_visible(self) -> None:
        """Every screen of the current mode reloads; the others reload when shown again."""
        if self.actor is None:
            return
        for screen in self.screen_stack:
            screen.post_message(DataChanged())

    @work(thread=True, group="live", exit_on_error=False)
    def watch_changes(self) -> None:
        """Wait for commits by any desk (LISTEN on PostgreSQL, data_version on SQLite) and
        reload what is on screen; a burst of changes becomes one reload."""
        from ..errors import ClinicError
        from ..services.changes import ChangeWatcher

        stop = get_current_worker().cancelled_event
        watcher: ChangeWatcher | None = None
        failed = False  # the last attempt failed: one more failure means the database is down
        try:
            while not stop.is_set():
                try:
                    if watcher is None:
                        watcher = ChangeWatcher()
                    changed = watcher.wait(timeout=WATCH_SECONDS)  # after a dropped connection: reconnects
                    if changed:
                        stop.wait(SETTLE_SECONDS)
                        watcher.wait(timeout=0)
                except ClinicError as exc:
                    if failed:
                        self.post_message(DatabaseDown(exc.message))
                        stop.wait(PROBE_SECONDS)
                    failed = True
                    continue
                failed = False
                if changed:
                    self.post_message(DataChanged())
        finally:
            if watcher is not None:
                watcher.close()


def run_app() -> None:
    """Open the TUI on the database the CLI has already bound (logged in already when
    `clinic-desk login` saved a session for it that is still valid)."""
    ClinicDeskApp(resume=True).run()

