"""clinic-desk tui | demo: the full-screen desk (Textual is imported only here, only when it runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import common


def launch() -> None:
    """Open the TUI on the configured database."""
    common.open_db()
    from ..screens.app import run_app

    run_app()


def register(app: typer.Typer) -> None:
    @app.command()
    def tui() -> None:
        """Open the TUI (same as bare `clinic-desk`)."""
        launch()

    @app.command()
    def demo(
        reset: Annotated[bool, typer.Option("--reset", help="Wipe the database first (asks on a terminal).")] = False,
        no_tui: Annotated[bool, typer.Option("--no-tui", help="Seed only; do not open the TUI.")] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --reset wipes data.")] = False,
    ) -> None:
        """Seed realistic sample data (fixed seed), then open the TUI."""
        import sys

        common.open_db()
        from ..services import demo as demo_service
        from ..services.schema import upgrade

        upgrade()
        if reset and not yes and sys.stdin.isatty():
            typer.confirm("--reset deletes every row in this database. Go on?", abort=True)
        summary = demo_service.seed(reset=reset)
        for line in summary.lines():
            common.print_line(line)
        if not no_tui:
            launch()
