"""clinic-desk db upgrade | status | backup FILE | restore FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BadInput
from . import common

app = typer.Typer(help="Create or migrate the schema; back up and restore.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Create the schema from nothing or migrate it forward (safe to run twice)."""
    common.open_db()
    from ..services.schema import upgrade as do_upgrade

    applied = do_upgrade()
    if applied:
        for name in applied:
            common.print_line(f"applied {name}")
    common.print_line(f"schema version {_version()}: up to date")


@app.command()
def status() -> None:
    """Show the schema version and what is pending."""
    common.open_db()
    from ..services.schema import schema_status

    current = schema_status()
    if current.up_to_date:
        common.print_line(f"schema version {current.version}: up to date")
    else:
        common.print_line(f"schema version {current.version}: {len(current.pending)} pending")
        for name in current.pending:
            common.print_line(f"pending {name}")


@app.command()
def backup(file: Annotated[Path, typer.Argument(help="Where to write the backup (.gz).")]) -> None:
    """Write a consistent copy of everything to FILE."""
    common.open_db()
    from ..services.schema import backup as do_backup

    if file.exists():
        raise BadInput(f"{file} exists; choose a new file name")
    counts = do_backup(file)
    common.print_line(f"backed up {sum(counts.values())} rows to {file}")


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="A file written by `db backup`.")]) -> None:
    """Load FILE into an empty database (run `db upgrade` on it first)."""
    common.open_db()
    from ..services.schema import restore as do_restore

    if not file.is_file():
        raise BadInput(f"no such file: {file}")
    counts = do_restore(file)
    common.print_line(f"restored {sum(counts.values())} rows from {file}")


def _version() -> int:
    from ..services.schema import schema_status

    return schema_status().version

