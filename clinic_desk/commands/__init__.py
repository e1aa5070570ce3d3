"""The Typer app: one sub-app per noun (DESIGN §3), joined here. Never imports Textual.

The root group imports a command's module only when that command is looked up, so one CLI start
pays only for the command it runs; ``--help`` and ``.commands`` load them all.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from . import common

# Every root command -> (its module in this package, the sub-app attribute; None: the module's
# ``register(app)`` adds the command to the root). ``--help`` lists them in this order.
COMMANDS: dict[str, tuple[str, str | None]] = {
    "login": ("session", None),
    "logout": ("session", None),
    "whoami": ("session", None),
    "book": ("booking", None),
    "pay": ("wallet", None),
    "refund": ("wallet", None),
    "tui": ("tui", None),
    "demo": ("tui", None),
    "db": ("db", "app"),
    "user": ("user", "app"),
    "doctor": ("doctor", "app"),
    "patient": ("patient", "app"),
    "slots": ("slots", "app"),
    "appointments": ("booking", "appointments_app"),
    "wallet": ("wallet", "app"),
    "review": ("review", "app"),
    "mail": ("mail", "app"),
    "export": ("export", "app"),
    "report": ("report", "app"),
    "audit": ("audit", "app"),
}


def load_commands(name: str) -> dict[str, click.Command]:
    """The click commands that the module behind root command ``name`` defines, built now."""
    module_name, attribute = COMMANDS[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    holder = typer.Typer(rich_markup_mode=None)
    if attribute is None:
        module.register(holder)
    else:
        holder.add_typer(getattr(module, attribute), name=name)
    return typer.main.get_group(holder).commands


class LazyRootGroup(TyperGroup):
    """The root group: commands are built from their modules on first lookup."""

    @property
    def commands(self) -> dict[str, click.Command]:
        for name in COMMANDS:
            self.get_command(None, name)
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded = dict(value)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._loaded and cmd_name in COMMANDS:
            self._loaded.update(load_commands(cmd_name))
        return self._loaded.get(cmd_name)


def build_app() -> typer.Typer:
    app = typer.Typer(
        cls=LazyRootGroup,
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

    return app
