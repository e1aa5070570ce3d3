"""clinic-desk user ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Users, roles, passwords and two-factor codes (admins).", no_args_is_help=True)
