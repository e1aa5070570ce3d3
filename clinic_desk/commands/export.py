"""clinic-desk export ics (--doctor U | --patient ID) [--from D --to D] [-o FILE]"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import BadInput
from . import common

app = typer.Typer(help="Export appointments (.ics).", no_args_is_help=True)


@app.command()
def ics(
    doctor: Annotated[Optional[str], typer.Option("--doctor", metavar="USERNAME", help="This doctor's appointments.")] = None,
    patient: Annotated[
        Optional[int],
        typer.Option("--patient", metavar="ID", help="This patient's appointments.", **common.ID_RANGE),
    ] = None,
    first: Annotated[Optional[str], typer.Option("--from", metavar="DATE", help="From this day (YYYY-MM-DD).")] = None,
    last: Annotated[Optional[str], typer.Option("--to", metavar="DATE", help="Up to this day, included.")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE", help="Write here, not stdout.")] = None,
) -> None:
    """The appointments (not cancelled) as an iCalendar file that khal, calcurse and others import."""
    from ..services.ics import export_calendar
    from ..services.timeutil import parse_date

    actor = common.actor()
    result = export_calendar(
        actor,
        doctor=doctor,
        patient_id=patient,
        first=parse_date(first, what="--from") if first else None,
        last=parse_date(last, what="--to") if last else None,
    )
    if output is None:
        sys.stdout.write(result.text)
        return
    _write_atomically(output, result.text)
    sys.stderr.write(f"wrote {result.events} appointments to {common.safe(output)}\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing (a temporary file renamed into place)."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BadInput(f"no such directory: {common.safe(directory)}")
    if path.is_dir():
        raise BadInput(f"{common.safe(path)} is a directory: name a file to write")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except PermissionError:
        raise BadInput(f"cannot write in {common.safe(directory)}: permission denied") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

