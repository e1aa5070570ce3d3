"""clinic-desk report ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Reports (revenue).", no_args_is_help=True)
