"""The Typer app: one sub-app per noun (DESIGN §3), joined here. Never imports Textual."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import common


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="clinic-desk",
        help="A terminal clinic desk. Without a command it opens the TUI.",
        add_completion=False,
        invoke_without_command=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback(invoke_without_command=True)
    def root(
        ctx: typer.Context,
        config_path: Annotated[
            Optional[str], typer.Option("--config", envvar="CLINIC_DESK_CONFIG", help="Config file (TOML).")
        ] = None,
        database: Annotated[
            Optional[str],
            typer.Option("--database", envvar="CLINIC_DESK_DATABASE_URL", help="sqlite:///path or postgresql://..."),
        ] = None,
    ) -> None:
        common.configure(config_path, database)
        if ctx.invoked_subcommand is None:
            from .tui import launch

            launch()

    from . import audit, booking, db, doctor, export, mail, patient, report, review, session, slots, tui, user, wallet

    for name, sub_app in (
        ("db", db.app),
        ("user", user.app),
        ("doctor", doctor.app),
        ("patient", patient.app),
        ("slots", slots.app),
        ("appointments", booking.appointments_app),
        ("wallet", wallet.app),
        ("review", review.app),
        ("mail", mail.app),
        ("export", export.app),
        ("report", report.app),
        ("audit", audit.app),
    ):
        app.add_typer(sub_app, name=name)
    for module in (session, booking, wallet, tui):
        module.register(app)
    return app
