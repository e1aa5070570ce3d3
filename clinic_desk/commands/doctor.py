"""clinic-desk doctor ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Doctors, their fees, rooms and specialties.", no_args_is_help=True)
