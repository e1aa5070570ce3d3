"""clinic-desk report revenue: paid minus refunded, per doctor, over clinic-local days."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..services.money import format_money
from ..services.timeutil import parse_date
from . import common

app = typer.Typer(help="Reports (revenue).", no_args_is_help=True)


@app.command()
def revenue(
    doctor: Annotated[Optional[str], typer.Option("--doctor", metavar="U", help="Only this doctor (username).")] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", metavar="D", help="First day (local).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", metavar="D", help="Last local day, included.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Revenue per doctor: payments taken minus refunds made in the period (each counted on its own day)."""
    from ..services import reports

    first = parse_date(date_from, what="--from") if date_from else None
    last = parse_date(date_to, what="--to") if date_to else None
    rows = reports.revenue(common.actor(), doctor_username=doctor, first=first, last=last)
    if as_json:
        common.print_json(
            [
                {
                    "id": row.doctor_id,
                    "doctor": row.username,
                    "full_name": row.full_name,
                    "payments": row.payments,
                    "paid": format_money(row.paid),
                    "refunded": format_money(row.refunded),
                    "revenue": format_money(row.revenue),
                }
                for row in rows
            ]
        )
        return
    currency = common.settings().clinic.currency
    table = [
        (
            row.username,
            row.full_name,
            row.payments,
            format_money(row.paid),
            format_money(row.refunded),
            format_money(row.revenue),
        )
        for row in rows
    ]
    if len(rows) > 1:
        table.append(
            (
                "total",
                "",
                sum(row.payments for row in rows),
                format_money(sum(row.paid for row in rows)),
                format_money(sum(row.refunded for row in rows)),
                format_money(sum(row.revenue for row in rows)),
            )
        )
    if first and last:
        period = f"{first} to {last}"
    else:
        period = f"from {first}" if first else (f"up to {last}" if last else "all time")
    common.print_table(
        ("doctor", "name", "payments", "paid", "refunded", "revenue"),
        table,
        title=f"Revenue ({currency}), {period}",
    )
