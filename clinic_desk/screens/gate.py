"""The way in: login (username, password, then a TOTP code when the account has one), or on an
empty database the first-run form that creates the first admin (or points at `clinic-desk demo`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, Static

from .. import config
from ..errors import AccountLocked, AuthenticationFailed, ClinicError, TotpRequired
from ..services import accounts, contact, schema
from ..services.password_rules import check_password
from ..services.actors import Actor
from ..widgets.chrome import OutageBanner
from ..widgets.fields import Field
from ..widgets.literal import literal
from .base import ServiceCaller
from .messages import LoggedIn


@dataclass(frozen=True)
class StartupState:
    needs_schema: bool
    schema_behind: bool
    has_admin: bool


def startup_state() -> StartupState:
    """What the database holds: no schema yet, an old schema, or whether an admin exists."""
    status = schema.schema_status()
    if not status.applied:
        return StartupState(needs_schema=True, schema_behind=False, has_admin=False)
    if status.pending:
        return StartupState(needs_schema=False, schema_behind=True, has_admin=False)
    return StartupState(needs_schema=False, schema_behind=False, has_admin=accounts.admin_exists())


def saved_actor() -> Actor | None:
    """Who the session saved by `clinic-desk login` for this database belongs to, while it is
    valid (not expired, not revoked, the account active); else None."""
    from ..commands import saved_session

    token = saved_session.load(config.current().database_url)
    if token is None:
        return None
    try:
        return accounts.actor_for_session(token)
    except AuthenticationFailed:
        return None


def create_first_admin(username: str, email: str, password: str, full_name: str) -> Actor:
    """The first-run form's action: create the schema on a new database, then the first admin."""
    if not schema.schema_status().applied:
        schema.upgrade()
    return accounts.create_first_admin(username, email, password, full_name)


class FirstRunForm(Vertical):
    """The form that creates the first admin (mounted only when the database has none)."""

    def __init__(self) -> None:
        super().__init__(id="gate-first-run", classes="form")

    def compose(self) -> ComposeResult:
        yield Label("First run: this database has no admin yet", classes="form-title")
        yield Label(
            "Create the first admin here, or quit (ctrl+q) and run `clinic-desk demo` for a clinic "
            "full of sample data.",
            classes="form-hint",
        )
        yield Field("Username", parse=contact.clean_username, id="first-username")
        yield Field("Full name", parse=contact.clean_name, id="first-name")
        yield Field("Email", parse=contact.clean_email, id="first-email")
        yield Field("Password", parse=check_password, password=True, id="first-password")
        yield Field("Password again", password=True, id="first-password2")
        yield Label("", id="first-error", classes="form-error")
        yield Button("Create admin", id="first-create", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#first-username", Field).focus()


class GateScreen(ServiceCaller, Screen[None]):
    """Login, first run, or the note that the schema needs `clinic-desk db upgrade`.

    The first-run form is built only on a database without an admin: most starts never show it.
    With ``resume`` (as `clinic-desk tui` starts) a valid session saved by `clinic-desk login` for
    this database logs in without a password: looked up once the login form is up (the keyring can
    take a while), so the form stays usable meanwhile.
    """

    BINDINGS = [Binding("escape", "clear_login", "Clear", show=False)]

    def compose(self) -> ComposeResult:
        yield OutageBanner()
        with Center(id="gate"):
            yield Static(literal(self.app.clinic_name, style="bold"), id="gate-title")  # type: ignore[attr-defined]
            with ContentSwitcher(initial="gate-checking", id="gate-switcher"):
                yield Label("Opening the database…", id="gate-checking")
                with Vertical(id="gate-login", classes="form"):
                    yield Label("Log in to the desk", classes="form-title")
                    yield Input(placeholder="username or email", id="login-username")
                    yield Input(placeholder="password", password=True, id="login-password")
                    yield Input(placeholder="6-digit code from your authenticator", id="login-totp", max_length=6, restrict=r"[0-9]*")
                    yield Label("", id="login-error", classes="form-error")
                    yield Label("Enter moves on and submits · ctrl+q quits", classes="form-hint")
                yield Label(
                    "The database schema is older than this program: run `clinic-desk db upgrade`, then start again.",
                    id="gate-schema",
                    classes="form-error",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#login-totp").display = False
        if self.app.actor is None:  # type: ignore[attr-defined]
            self.check()

    def check(self) -> None:
        self.query_one(ContentSwitcher).current = "gate-checking"
        self.call_service(startup_state, then=self._show_start, otherwise=self._cannot_start)

    def _show_start(self, state: StartupState) -> None:
        switcher = self.query_one(ContentSwitcher)
        if state.schema_behind:
            switcher.current = "gate-schema"
        elif state.needs_schema or not state.has_admin:
            if self.query("#gate-first-run"):
                switcher.current = "gate-first-run"
            else:
                switcher.add_content(FirstRunForm(), set_current=True)
        else:
            self.reset_login()
            app = self.app
            if app.resume_session:  # type: ignore[attr-defined]
                app.resume_session = False  # type: ignore[attr-defined]  # only at start, not after a log-out
                self.call_service(saved_actor, then=self._resumed, otherwise=lambda error: None)

    def _resumed(self, actor: Actor | None) -> None:
        if actor is None or self.app.actor is not None:  # type: ignore[attr-defined]
            return
        self.app.notify(f"Logged in as {actor.username}: the session saved by `clinic-desk login`.", title="Welcome back")
        self._logged_in(actor)

    def _cannot_start(self, error: ClinicError) -> None:
        self.query_one("#gate-checking", Label).update(literal(f"{error.message} (retrying…)"))
        self.set_timer(3, self.check)

    # -- login ------------------------------------------------------------------

    def reset_login(self) -> None:
        self.query_one(ContentSwitcher).current = "gate-login"
        for field in self.query("#gate-login Input").results(Input):
            field.value = ""
        self.query_one("#login-totp").display = False
        self.query_one("#login-error", Label).update("")
        self.query_one("#login-username", Input).focus()

    def action_clear_login(self) -> None:
        if self.query_one(ContentSwitcher).current == "gate-login":
            self.reset_login()

    @on(Input.Submitted, "#login-username")
    def _to_password(self) -> None:
        self.query_one("#login-password", Input).focus()

    @on(Input.Submitted, "#login-password")
    @on(Input.Submitted, "#login-totp")
    def _submit_login(self) -> None:
        login = self.query_one("#login-username", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        totp = self.query_one("#login-totp", Input)
        error_label = self.query_one("#login-error", Label)
        if not login:
            error_label.update("Enter your username or email.")
            self.query_one("#login-username", Input).focus()
            return
        if not password:
            error_label.update("Enter your password.")
            self.query_one("#login-password", Input).focus()
            return
        code = totp.value.strip() if totp.display else None
        error_label.update("Checking…")
        self.call_service(
            accounts.authenticate, login, password, totp_code=code or None, then=self._logged_in, otherwise=self._refused
        )

    def _logged_in(self, actor: Actor) -> None:
        self.app.post_message(LoggedIn(actor))

    def _refused(self, error: ClinicError) -> None:
        error_label = self.query_one("#login-error", Label)
        totp = self.query_one("#login-totp", Input)
        if isinstance(error, TotpRequired):
            totp.display = True
            totp.value = ""
            error_label.update("Two-factor is on for this account: enter the code from your authenticator.")
            totp.focus()
            return
        error_label.update(literal(error.message))
        if isinstance(error, AccountLocked):
            totp.display = False
            self.query_one("#login-password", Input).value = ""
            self.query_one("#login-username", Input).focus()
        elif totp.display:
            totp.value = ""
            totp.focus()
        else:
            password = self.query_one("#login-password", Input)
            password.value = ""
            password.focus()

    # -- first run --------------------------------------------------------------

    @on(Input.Submitted, "#gate-first-run Input")
    def _next_first_run_field(self, event: Input.Submitted) -> None:
        if event.input is self.query_one("#first-password2", Field).input:
            self._create_first_admin()
        else:
            self.focus_next()

    @on(Button.Pressed, "#first-create")
    def _create_first_admin(self) -> None:
        fields = {field.id: field for field in self.query("#gate-first-run Field").results(Field)}
        error = self.query_one("#first-error", Label)
        if not all([field.check() for field in fields.values()]):
            error.update("Please fix the fields marked above.")
            return
        if fields["first-password"].text != fields["first-password2"].text:
            error.update("The two passwords differ.")
            fields["first-password2"].focus()
            return
        error.update("Creating…")
        self.call_service(
            create_first_admin,
            fields["first-username"].value,
            fields["first-email"].value,
            fields["first-password"].text,
            fields["first-name"].value,
            then=self._logged_in,
            otherwise=lambda exc: error.update(literal(exc.message)),
        )
