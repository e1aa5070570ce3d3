"""clinic-desk user create-admin | add | list | show | deactivate | unlock | reset-password |
verify-email | totp enable|disable: thin commands over services/accounts.py, onetime.py, totp.py."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from . import common

app = typer.Typer(help="Users, roles, passwords and two-factor codes (admins).", no_args_is_help=True)
totp_app = typer.Typer(help="Two-factor codes (TOTP) for your own staff account.", no_args_is_help=True)
app.add_typer(totp_app, name="totp")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Username = Annotated[str, typer.Argument(metavar="USERNAME", help="The user's username.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (for scripts).")
]
CodeOption = Annotated[Optional[str], typer.Option("--code", metavar="CODE", help="The 6-digit code from the mail.")]


def _json(view: Any) -> dict[str, Any]:
    from ..services.timeutil import iso_local

    return {
        "id": view.id,
        "username": view.username,
        "email": view.email,
        "full_name": view.full_name,
        "role": view.role,
        "active": view.active,
        "email_verified": view.email_verified,
        "two_factor": view.two_factor,
        "locked_until": iso_local(view.locked_until),
    }


def _deliver_mail_now() -> None:
    """Send the code before asking for it (the CLI otherwise delivers mail only on exit)."""
    from ..services import mailer

    mailer.deliver_after_commit()


@app.command("create-admin")
def create_admin(
    username: Username,
    email: Annotated[str, typer.Option("--email", metavar="E", help="The admin's email address.")],
    password_stdin: PasswordStdin = False,
    name: Annotated[
        Optional[str], typer.Option("--name", metavar="N", help="Full name (default: the username).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create the first admin; refused once an admin exists. Prints the new id."""
    from ..services import accounts
    from .auth import new_password

    common.open_db()
    password = new_password(password_stdin)
    actor = accounts.create_first_admin(username, email, password or "", name or username)
    if as_json:
        common.print_json(_json(accounts.show_user(actor, actor.username)))
    else:
        common.print_line(actor.user_id)


@app.command("add")
def add(
    username: Username,
    role: Annotated[str, typer.Option("--role", metavar="R", help="admin, reception, doctor or patient.")],
    email: Annotated[str, typer.Option("--email", metavar="E", help="Email address (gets a verification code).")],
    name: Annotated[str, typer.Option("--name", metavar="N", help="Full name.")],
    password_stdin: PasswordStdin = False,
    phone: Annotated[str, typer.Option("--phone", metavar="P", help="Phone number.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a user (admins). Asks for the password twice on a terminal. Prints the new id.

    Without a password (no terminal, no --password-stdin) the user sets one with
    `clinic-desk user reset-password`.
    """
    from ..services import accounts
    from .auth import new_password

    actor = common.actor()
    password = new_password(password_stdin, required=False)
    view = accounts.add_user(actor, username, role=role, email=email, full_name=name, password=password, phone=phone)
    if password is None:
        common.warn(
            f"{view.username} has no password yet: they set one with `clinic-desk user reset-password {view.username}`"
        )
    if as_json:
        common.print_json(_json(view))
    else:
        common.print_line(view.id)


@app.command("list")
def list_(
    role: Annotated[Optional[str], typer.Option("--role", metavar="R", help="Only users with this role.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every user, with role, state and two-factor (admins)."""
    from ..services import accounts

    views = accounts.list_users(common.actor(), role=role)
    if as_json:
        common.print_json([_json(view) for view in views])
        return
    common.print_table(
        ("ID", "Username", "Name", "Email", "Role", "State", "Email verified", "Two-factor"),
        (
            (
                v.id,
                v.username,
                v.full_name,
                v.email,
                v.role,
                _state(v),
                "yes" if v.email_verified else "no",
                "on" if v.two_factor else "off",
            )
            for v in views
        ),
    )


def _state(view: Any) -> str:
    from ..services.timeutil import to_local

    if not view.active:
        return "inactive"
    return f"locked until {to_local(view.locked_until):%H:%M}" if view.locked_until else "active"


@app.command("show")
def show(username: Username, as_json: JsonFlag = False) -> None:
    """One user (admins)."""
    from ..services import accounts
    from ..services.timeutil import iso_local

    view = accounts.show_user(common.actor(), username)
    if as_json:
        common.print_json(_json(view))
        return
    common.print_fields(
        [
            ("id", view.id),
            ("username", view.username),
            ("name", view.full_name),
            ("email", view.email),
            ("role", view.role),
            ("active", "yes" if view.active else "no"),
            ("email verified", "yes" if view.email_verified else "no"),
            ("two-factor", "on" if view.two_factor else "off"),
            ("locked until", iso_local(view.locked_until) or "-"),
        ]
    )


@app.command("deactivate")
def deactivate(username: Username) -> None:
    """Deactivate a user: they can no longer log in and their sessions end (admins)."""
    from ..services import accounts

    view = accounts.deactivate(common.actor(), username)
    common.print_line(f"{view.username} deactivated")


@app.command("unlock")
def unlock(username: Username) -> None:
    """Clear a login lockout (admins)."""
    from ..services import accounts

    view = accounts.unlock(common.actor(), username)
    common.print_line(f"{view.username} unlocked")


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="Username or email of the account.")],
    code: CodeOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Mail a code to the account's address, then ask for it and the new password (no login needed).

    Scripts: run it once to mail the code, then again with --code C --password-stdin.
    """
    from ..services import onetime
    from .auth import ask, new_password, on_terminal

    common.open_db()
    if code is None:
        onetime.request_code(username, "reset_password")
        common.print_line(
            f"if {username} is an active account, a code is on its way to its email address "
            f"(valid {onetime.CODE_MINUTES} minutes)"
        )
        if not on_terminal():
            common.print_line(f"then run: clinic-desk user reset-password {username} --code CODE --password-stdin")
            return
        _deliver_mail_now()
        code = ask("Code from the mail")
    password = new_password(password_stdin)
    onetime.reset_password(username, code, password or "")
    common.print_line("password changed: log in with the new one")


@app.command("verify-email")
def verify_email(
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="Username or email of the account.")],
    code: CodeOption = None,
) -> None:
    """Verify the account's email address with the code mailed to it (without --code: mail a new one)."""
    from ..services import onetime
    from .auth import ask, on_terminal

    common.open_db()
    if code is None:
        onetime.request_code(username, "verify_email")
        common.print_line(
            f"if {username} is an active account, a code is on its way to its email address "
            f"(valid {onetime.CODE_MINUTES} minutes)"
        )
        if not on_terminal():
            common.print_line(f"then run: clinic-desk user verify-email {username} --code CODE")
            return
        _deliver_mail_now()
        code = ask("Code from the mail")
    onetime.verify_email(username, code)
    common.print_line(f"{username}: email address verified")


@totp_app.command("enable")
def totp_enable(
    code: Annotated[
        Optional[str], typer.Option("--code", metavar="CODE", help="The first code from the app (else asked).")
    ] = None,
) -> None:
    """Turn on two-factor for yourself: scan the QR code, then type the app's first code."""
    import segno

    from ..errors import Refused
    from ..services import totp
    from .auth import ask, on_terminal

    actor = common.actor()
    enrolment = totp.begin(actor)
    common.print_line("Scan this with an authenticator app, or type the secret from the link:")
    common.print_line(enrolment.uri)
    segno.make(enrolment.uri).terminal(out=sys.stdout, compact=True)
    tries = 3 if code is None and on_terminal() else 1
    for attempt in range(1, tries + 1):
        try:
            totp.confirm(actor, code if code is not None else ask("Code from the app"))
            break
        except Refused as exc:
            if attempt == tries:
                raise
            common.warn(str(exc))
    common.print_line(f"two-factor is on for {enrolment.username}: logging in now asks for a code")


@totp_app.command("disable")
def totp_disable(
    user: Annotated[
        Optional[str], typer.Option("--user", metavar="USERNAME", help="Someone else's account (admins).")
    ] = None,
) -> None:
    """Turn off two-factor for yourself, or (admins) for a user who lost their device."""
    from ..services import totp

    actor = common.actor()
    target = user or actor.username
    if totp.disable(actor, user):
        common.print_line(f"two-factor is off for {target}")
    else:
        common.print_line(f"two-factor was not on for {target}")
