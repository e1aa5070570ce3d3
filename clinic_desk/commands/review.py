"""clinic-desk review ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Reviews of completed visits: add, moderate, respond.", no_args_is_help=True)
