"""clinic-desk mail ...: thin commands over services (see DESIGN §3)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The outbox: send, reminders, log, retry.", no_args_is_help=True)
