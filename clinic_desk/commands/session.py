"""clinic-desk login [--remember] | logout | whoami"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from . import common


def register(app: typer.Typer) -> None:
    """Add the session commands to the root app."""

    @app.command()
    def login(
        remember: Annotated[
            bool, typer.Option("--remember", help="Stay logged in for security.remember_days, not session_hours.")
        ] = False,
        username: Annotated[
            Optional[str], typer.Option("--username", "-u", metavar="USER", help="Username or email (else asked).")
        ] = None,
    ) -> None:
        """Log in and keep the session in the system keyring (one per database).

        Asks for the username, the password and (when two-factor is on) the code; in a script
        they are read line by line from stdin, or taken from CLINIC_DESK_USER, CLINIC_DESK_PASSWORD
        and CLINIC_DESK_TOTP.
        """
        from ..errors import TotpRequired
        from ..services import accounts
        from . import auth, saved_session

        common.open_db()
        login_name = username or os.environ.get("CLINIC_DESK_USER") or auth.ask("Username")
        password = os.environ.get("CLINIC_DESK_PASSWORD")
        if password is None:
            password = auth.ask("Password", secret=True)
        try:
            actor = accounts.authenticate(login_name, password, os.environ.get("CLINIC_DESK_TOTP") or None)
        except TotpRequired:
            actor = accounts.authenticate(login_name, password, auth.ask("Two-factor code"))
        database_url = common.settings().database_url
        previous = saved_session.load(database_url)
        if previous:
            accounts.end_session(previous)
        fallback = saved_session.save(database_url, accounts.start_session(actor, remember))
        if fallback is not None:
            common.warn(f"no keyring backend: session saved in {fallback} (readable only by you)")
        common.print_line(f"logged in as {actor.username} ({actor.role})")

    @app.command()
    def logout() -> None:
        """End the saved session for this database and forget it."""
        from ..services import accounts
        from . import saved_session

        common.open_db()
        database_url = common.settings().database_url
        token = saved_session.load(database_url)
        if token is None:
            common.print_line("not logged in")
            return
        accounts.end_session(token)
        saved_session.forget(database_url)
        common.print_line("logged out")

    @app.command()
    def whoami(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Who the next command runs as: user name and role."""
        actor = common.actor()
        if as_json:
            common.print_json(
                {
                    "id": actor.user_id,
                    "username": actor.username,
                    "role": actor.role,
                    "doctor_id": actor.doctor_id,
                    "patient_id": actor.patient_id,
                }
            )
        else:
            common.print_line(f"{actor.username} ({actor.role})")
