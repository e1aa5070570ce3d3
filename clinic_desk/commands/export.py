"""clinic-desk export ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Export appointments (.ics).", no_args_is_help=True)
