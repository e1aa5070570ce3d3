"""clinic-desk wallet ..., pay, refund: thin commands over services/wallet.py and payments.py."""

from __future__ import annotations

import typer

app = typer.Typer(help="A patient's wallet: balance, deposits, withdrawals, history.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `pay` and `refund` to the root app."""
