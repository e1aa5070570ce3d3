"""clinic-desk audit list [--entity E] [--actor U] [--limit N] [--json]: the audit log (admins)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from . import common

app = typer.Typer(help="The audit log (admins).", no_args_is_help=True)


@app.command("list")
def list_(
    entity: Annotated[
        Optional[str],
        typer.Option("--entity", metavar="E", help="Only events about this kind of thing (user, appointment, ...)."),
    ] = None,
    actor_name: Annotated[
        Optional[str], typer.Option("--actor", metavar="U", help="Only what this username did.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="At most N events, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who did what, newest first (admins)."""
    from ..services import audit_log
    from ..services.timeutil import iso_local, to_local

    events = audit_log.list_events(common.actor(), entity=entity, actor_name=actor_name, limit=limit)
    common.warn_if_cut(len(events), limit, "narrow with --entity, --actor")
    if as_json:
        common.print_json(
            [
                {
                    "id": e.id,
                    "at": iso_local(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "entity": e.entity,
                    "entity_id": e.entity_id,
                    "details": e.details,
                }
                for e in events
            ]
        )
        return
    common.print_table(
        ("ID", "At", "Actor", "Action", "Entity", "Entity id", "Details"),
        (
            (
                e.id,
                f"{to_local(e.at):%Y-%m-%d %H:%M:%S}",
                e.actor,
                e.action,
                e.entity,
                "" if e.entity_id is None else e.entity_id,
                ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in e.details.items()),
            )
            for e in events
        ),
    )
