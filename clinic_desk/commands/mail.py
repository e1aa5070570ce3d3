"""clinic-desk mail send | reminders [--hours N] | log [--status S] [--json] | retry ID

Thin commands over services/mailer.py, reminders.py and outbox.py.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Optional

import typer

from . import common

app = typer.Typer(help="The outbox: send, reminders, log, retry.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def send(
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Send at most this many.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Deliver every message that is due (safe to run from cron, and twice at once)."""
    from ..services import mailer

    actor = common.actor()
    report = mailer.deliver_due(limit, actor=actor)
    if as_json:
        common.print_json(report)
        return
    common.print_line(f"sent {report.sent}, will retry {report.retrying}, failed {report.failed}")
    if report.last_error:
        common.warn(f"last error: {report.last_error}")


@app.command()
def reminders(
    hours: Annotated[
        Optional[int], typer.Option("--hours", help="Look this many hours ahead (default: booking.reminder_hours).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue one reminder per confirmed appointment starting within the window (never twice)."""
    from ..services.reminders import queue_reminders

    report = queue_reminders(common.actor(), hours)
    if as_json:
        common.print_json(report)
        return
    line = f"queued {report.queued} reminders for the next {report.hours} hours"
    if report.opted_out:
        line += f" ({report.opted_out} patients opted out)"
    common.print_line(line)


@app.command("log")
def log_(
    status: Annotated[
        Optional[str], typer.Option("--status", metavar="pending|sending|sent|failed", help="Only this status.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Show at most this many, newest first.", max=common.MAX_ID)
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The email log, newest first: status, attempts, last error."""
    from ..services.outbox import mail_log

    rows = mail_log(common.actor(), status=status, limit=limit)
    common.warn_if_cut(len(rows), limit, "narrow with --status")
    if as_json:
        common.print_json([asdict(row) for row in rows])
        return
    common.print_table(
        ("id", "status", "tries", "kind", "to", "subject", "next try / sent", "last error"),
        (
            (
                row.id,
                row.status,
                row.attempts,
                row.kind,
                row.to,
                row.subject,
                _short(row.sent_at or row.next_attempt_at),
                row.last_error,
            )
            for row in rows
        ),
    )


@app.command()
def retry(
    outbox_id: Annotated[
        int, typer.Argument(metavar="ID", help="The message's id (see `mail log`).", **common.ID_RANGE)
    ],
) -> None:
    """Put a failed message back in the queue; it goes out with the next delivery."""
    from ..services.outbox import retry as do_retry

    row = do_retry(common.actor(), outbox_id)
    common.print_line(row.id)


def _short(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""
