"""clinic-desk patient ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Patients: register, search, edit.", no_args_is_help=True)
