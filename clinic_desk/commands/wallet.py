"""clinic-desk wallet ..., pay, refund: thin commands over services/wallet.py and payments.py.

Commands that move money print the new record's id on stdout (the object with ``--json``) and a
one-line summary for the person at the desk on stderr.
"""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Any, Optional

import typer

from ..errors import BadInput
from ..services.money import format_money, max_amount, parse_amount
from ..services.timeutil import iso_local
from . import common

app = typer.Typer(help="A patient's wallet: balance, deposits, withdrawals, history.", no_args_is_help=True)

PatientArg = Annotated[
    int, typer.Argument(metavar="PATIENT", help="The patient's id.", show_default=False, **common.ID_RANGE)
]
AmountArg = Annotated[
    str, typer.Argument(metavar="AMOUNT", help="A decimal amount, like 80, 80.5 or 80.50.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why, for the ledger (cash, bank transfer, ...).")]

LEDGER_FIELDS = ("id", "kind", "amount", "balance_after", "appointment_id", "at", "note")

# An amount that starts with "-" is an argument to be refused with a clear message, not an option.
_AMOUNT_COMMAND = {"ignore_unknown_options": True}


@app.command()
def show(patient: PatientArg, as_json: JsonOpt = False) -> None:
    """The patient's balance."""
    from ..services import wallet

    view = wallet.show(common.actor(), patient)
    if as_json:
        common.print_json(
            {
                "patient_id": view.patient_id,
                "full_name": view.patient_name,
                "balance": format_money(view.balance),
                "currency": _currency(),
            }
        )
    else:
        common.print_fields([("patient", f"{view.patient_id} {view.patient_name}"), ("balance", _money(view.balance))])


@app.command(context_settings=_AMOUNT_COMMAND)
def deposit(patient: PatientArg, amount: AmountArg, note: NoteOpt = "", as_json: JsonOpt = False) -> None:
    """Put money into the patient's wallet (reception)."""
    from ..services import wallet

    minor = _parse_amount(amount)
    entry = wallet.deposit(common.actor(), patient, minor, note=note)
    _print_entry(entry, as_json, f"deposited {_money(minor)}; balance {_money(entry.balance_after)}")


@app.command(context_settings=_AMOUNT_COMMAND)
def withdraw(patient: PatientArg, amount: AmountArg, note: NoteOpt = "", as_json: JsonOpt = False) -> None:
    """Pay money out of the patient's wallet (reception); refused with "insufficient funds" past the balance."""
    from ..services import wallet

    minor = _parse_amount(amount)
    entry = wallet.withdraw(common.actor(), patient, minor, note=note)
    _print_entry(entry, as_json, f"paid out {_money(minor)}; balance {_money(entry.balance_after)}")


@app.command()
def history(
    patient: PatientArg,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (same fields as --json).")] = False,
) -> None:
    """Every movement of the wallet, oldest first; amounts are signed (debits negative) and sum to the balance."""
    from ..services import wallet

    if as_json and as_csv:
        raise BadInput("choose one of --json and --csv")
    entries = [_ledger_json(entry) for entry in wallet.history(common.actor(), patient)]
    if as_json:
        common.print_json(entries)
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=LEDGER_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "note": _csv_text(row["note"])} for row in entries)
    else:
        common.print_table(
            ("id", "when", "kind", "amount", "balance", "appointment", "note"),
            (
                (
                    row["id"],
                    row["at"][:16].replace("T", " "),
                    row["kind"],
                    row["amount"],
                    row["balance_after"],
                    row["appointment_id"] or "",
                    row["note"],
                )
                for row in entries
            ),
        )


def register(app: typer.Typer) -> None:
    """Add `pay` and `refund` to the root app."""

    @app.command()
    def pay(
        appointment: Annotated[
            int, typer.Argument(metavar="APPOINTMENT", help="The appointment's id.", **common.ID_RANGE)
        ],
        method: Annotated[str, typer.Option("--method", metavar="wallet|card", help="Pay from the wallet or by card.")],
        card_number: Annotated[
            Optional[str], typer.Option("--card-number", help="The card number (only its last 4 digits are kept).")
        ] = None,
        card_expiry: Annotated[
            Optional[str],
            typer.Option("--card-expiry", metavar="MM/YY", help="The card's expiry (default: not checked)."),
        ] = None,
        idempotency_key: Annotated[
            Optional[str],
            typer.Option("--idempotency-key", metavar="K", help="A retry with the same key charges once."),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Pay an appointment by wallet or card; a pending appointment is confirmed."""
        from ..services import payments

        view = payments.pay(
            common.actor(),
            appointment,
            method=method,
            card_number=card_number,
            card_expiry=card_expiry,
            idempotency_key=idempotency_key,
        )
        if as_json:
            common.print_json(_payment_json(view))
            return
        common.print_line(view.id)
        how = f"card ending in {view.card_last4}" if view.card_last4 else "the wallet"
        summary = f"paid {_money(view.amount)} by {how}; appointment {view.appointment_id} is {view.appointment_status}"
        if view.wallet_balance_after is not None:
            summary += f"; wallet balance {_money(view.wallet_balance_after)}"
        _note(summary + (" (an earlier payment with this idempotency key)" if view.replayed else ""))

    @app.command()
    def refund(
        appointment: Annotated[
            int, typer.Argument(metavar="APPOINTMENT", help="The appointment's id.", **common.ID_RANGE)
        ],
        as_json: JsonOpt = False,
    ) -> None:
        """Refund what is still refundable on the appointment's payment to the patient's wallet (reception)."""
        from ..services import payments

        view = payments.refund(common.actor(), appointment)
        if as_json:
            common.print_json(
                {
                    "id": view.ledger_entry_id,
                    "payment_id": view.payment_id,
                    "appointment_id": view.appointment_id,
                    "patient_id": view.patient_id,
                    "amount": format_money(view.amount),
                    "balance_after": format_money(view.balance_after),
                    "at": iso_local(view.at),
                }
            )
            return
        common.print_line(view.ledger_entry_id)
        _note(
            f"refunded {_money(view.amount)} to patient {view.patient_id}'s wallet; "
            f"balance {_money(view.balance_after)}"
        )


# -- rendering ------------------------------------------------------------------


def _parse_amount(text: str) -> int:
    return parse_amount(text, maximum=max_amount())


def _print_entry(entry: Any, as_json: bool, summary: str) -> None:
    if as_json:
        common.print_json(_ledger_json(entry))
    else:
        common.print_line(entry.id)
        _note(summary)


def _ledger_json(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": format_money(entry.amount),
        "balance_after": format_money(entry.balance_after),
        "appointment_id": entry.appointment_id,
        "at": iso_local(entry.at),
        "note": entry.note,
    }


def _payment_json(view: Any) -> dict[str, Any]:
    balance = view.wallet_balance_after
    return {
        "id": view.id,
        "appointment_id": view.appointment_id,
        "patient_id": view.patient_id,
        "method": view.method,
        "amount": format_money(view.amount),
        "refunded_amount": format_money(view.refunded_amount),
        "status": view.status,
        "card_last4": view.card_last4,
        "created_at": iso_local(view.created_at),
        "appointment_status": view.appointment_status,
        "wallet_balance_after": None if balance is None else format_money(balance),
        "replayed": view.replayed,
    }


def _csv_text(text: str) -> str:
    """Keep a spreadsheet from reading a note as a formula, and a terminal from obeying one."""
    text = common.safe(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _money(minor: int) -> str:
    return f"{format_money(minor)} {_currency()}"


def _currency() -> str:
    return common.settings().clinic.currency


def _note(text: str) -> None:
    sys.stderr.write(common.safe(text) + "\n")
