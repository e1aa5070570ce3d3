"""clinic-desk audit ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The audit log (admins).", no_args_is_help=True)
