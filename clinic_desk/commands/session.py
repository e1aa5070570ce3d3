"""clinic-desk login | logout | whoami"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the session commands to the root app."""
