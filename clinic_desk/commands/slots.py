"""clinic-desk slots ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="A doctor's time slots: generate, import, list, block.", no_args_is_help=True)
