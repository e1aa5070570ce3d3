"""clinic-desk slots generate | import | list | block | unblock | delete: thin commands over
services/slotgen.py, services/slotimport.py and services/slots.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import BadInput
from . import common

app = typer.Typer(help="A doctor's time slots: generate, import, list, block.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")]
SlotId = Annotated[int, typer.Argument(metavar="ID", help="The slot's id.", **common.ID_RANGE)]
Doctor = Annotated[str, typer.Option("--doctor", metavar="USERNAME", help="The doctor's username.")]


def slot_json(view: Any) -> dict[str, Any]:
    from ..services.timeutil import iso_local

    return {
        "id": view.id,
        "doctor": view.doctor,
        "starts_at": iso_local(view.starts_at),
        "ends_at": iso_local(view.ends_at),
        "status": view.status,
        "free": view.free,
        "appointment_id": view.appointment_id,
        "patient_id": view.patient_id,
        "patient_name": view.patient_name,
    }


@contextmanager
def _progress(description: str) -> Iterator[Any]:
    """A Rich progress bar on a terminal (stderr), nothing otherwise; yields the callback."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total or None)


def _date(text: Optional[str], what: str):
    from ..services.timeutil import parse_date

    return parse_date(text, what=what) if text is not None else None


@app.command("generate")
def generate(
    doctors: Annotated[
        list[str], typer.Option("--doctor", metavar="USERNAME", help="The doctor's username; repeat for several.")
    ],
    first: Annotated[str, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD (included).")],
    start: Annotated[str, typer.Option("--start", metavar="HH:MM", help="Local time the first slot starts.")],
    end: Annotated[str, typer.Option("--end", metavar="HH:MM", help="Local time the last slot ends by.")],
    length: Annotated[int, typer.Option("--length", metavar="MIN", help="Minutes per slot.")],
    weekdays: Annotated[
        str, typer.Option("--weekdays", metavar="DAYS", help="mon-fri, or a list such as mon,wed,fri.")
    ] = "mon-fri",
    breaks: Annotated[
        Optional[list[str]], typer.Option("--break", metavar="HH:MM-HH:MM", help="No slots then; repeatable.")
    ] = None,
    skip: Annotated[Optional[list[str]], typer.Option("--skip", metavar="DATE", help="A day off; repeatable.")] = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Create doctors' slots from a weekly plan in local time, in one transaction; running it twice
    creates nothing twice."""
    from ..services import slotgen
    from ..services.timeutil import parse_hhmm, to_local

    plan = dict(
        start=parse_hhmm(start, what="--start"),
        end=parse_hhmm(end, what="--end"),
        length=length,
        weekdays=slotgen.parse_weekdays(weekdays),
        breaks=[slotgen.parse_break(text) for text in breaks or ()],
        skip=[_date(text, "--skip") for text in skip or ()],
    )
    actor = common.actor()
    with _progress("generating slots") as progress:
        summary = slotgen.generate(
            actor, doctors, _date(first, "--from"), _date(last, "--to"), dry_run=dry_run, progress=progress, **plan
        )
    if as_json:
        common.print_json(
            {
                "created": summary.created,
                "skipped_existing": summary.skipped_existing,
                "conflicts": summary.conflicts,
                "skipped_nonexistent": summary.skipped_nonexistent,
                "dry_run": summary.dry_run,
            }
        )
        return
    for starts_at, other in summary.conflict_examples:
        common.warn(f"conflict: {to_local(starts_at):%Y-%m-%d %H:%M} overlaps slot {other}")
    verb = "would create" if dry_run else "created"
    common.print_line(
        f"{verb} {summary.created} slots; {summary.skipped_existing} already there, {summary.conflicts} conflicts,"
        f" {summary.skipped_nonexistent} skipped (local time does not exist)"
    )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="CSV with columns doctor,date,start,end.")],
    dry_run: DryRun = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Import the good rows, list the bad ones.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Import slots from CSV (local times); nothing is imported if any row is bad, unless --skip-bad."""
    from ..services import slotimport

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    actor = common.actor()
    try:
        with _progress("importing slots") as progress:
            summary = slotimport.import_slots(actor, text, dry_run=dry_run, skip_bad=skip_bad, progress=progress)
    except slotimport.ImportRefused as refused:
        for error in refused.errors:
            sys.stderr.write(common.safe(error) + "\n")
        raise
    if as_json:
        common.print_json(
            {
                "rows": summary.rows,
                "created": summary.created,
                "skipped_existing": summary.skipped_existing,
                "conflicts": summary.conflicts,
                "skipped_nonexistent": summary.skipped_nonexistent,
                "skipped_bad": summary.skipped_bad,
                "dry_run": summary.dry_run,
                "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in summary.errors],
            }
        )
        return
    for error in summary.errors:
        common.warn(f"skipped {error}")
    verb = "would import" if dry_run else "imported"
    common.print_line(
        f"{verb} {summary.created} slots; {summary.skipped_existing} already there,"
        f" {summary.skipped_bad} bad rows skipped"
    )


@app.command("list")
def list_(
    doctor: Doctor,
    day: Annotated[Optional[str], typer.Option("--date", metavar="D", help="One day.")] = None,
    first: Annotated[Optional[str], typer.Option("--from", metavar="D", help="First day (default today).")] = None,
    last: Annotated[Optional[str], typer.Option("--to", metavar="D", help="Last day (default 30 days on).")] = None,
    free: Annotated[bool, typer.Option("--free", help="Only free slots.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """A doctor's slots in local time."""
    from ..services import slots
    from ..services.timeutil import to_local

    if day is not None and (first is not None or last is not None):
        raise BadInput("give either --date or --from/--to, not both")
    first_day = _date(day, "--date") or _date(first, "--from")
    last_day = _date(day, "--date") or _date(last, "--to")
    views = slots.list_slots(common.actor(), doctor, first_day, last_day, free_only=free)
    if as_json:
        common.print_json([slot_json(v) for v in views])
        return
    common.print_table(
        ("ID", "Day", "From", "To", "Status", "Patient"),
        (
            (
                v.id,
                f"{to_local(v.starts_at):%a %Y-%m-%d}",
                f"{to_local(v.starts_at):%H:%M}",
                f"{to_local(v.ends_at):%H:%M}",
                "free" if v.free else ("blocked" if v.status == "blocked" else "booked"),
                v.patient_name or "",
            )
            for v in views
        ),
    )


@app.command("block")
def block(slot_id: SlotId) -> None:
    """Close a slot for booking (refused while it is booked)."""
    from ..services import slots

    slots.block_slot(common.actor(), slot_id)
    common.print_line(f"slot {slot_id} blocked")


@app.command("unblock")
def unblock(slot_id: SlotId) -> None:
    """Open a blocked slot for booking again."""
    from ..services import slots

    slots.unblock_slot(common.actor(), slot_id)
    common.print_line(f"slot {slot_id} open")


@app.command("delete")
def delete(slot_id: SlotId) -> None:
    """Delete a slot that was never booked."""
    from ..services import slots

    slots.delete_slot(common.actor(), slot_id)
    common.print_line(f"slot {slot_id} deleted")
