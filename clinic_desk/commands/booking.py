"""clinic-desk book ... and clinic-desk appointments ...: thin commands over services/booking.py."""

from __future__ import annotations

import typer

appointments_app = typer.Typer(help="Appointments: list, confirm, cancel, reschedule, complete.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `book` to the root app."""
