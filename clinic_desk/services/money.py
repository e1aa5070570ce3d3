"""Money: integer minor units inside, decimal strings ("80.00") at the edges."""

from __future__ import annotations

import re
from decimal import Decimal

from ..errors import BadInput

_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def parse_amount(text: str, *, maximum: int | None = None, what: str = "amount") -> int:
    """'80', '80.5', '80.50' -> 8000, 8050, 8050; anything else (or zero, or over the max) -> BadInput."""
    cleaned = str(text).strip()
    if not _AMOUNT.match(cleaned):
        raise BadInput(f"{what} must be a positive number with at most two decimals, like 80 or 80.50: {text!r}")
    minor = int(Decimal(cleaned) * 100)
    if minor <= 0:
        raise BadInput(f"{what} must be more than zero")
    if maximum is not None and minor > maximum:
        raise BadInput(f"{what} {format_money(minor)} is over the maximum of {format_money(maximum)}")
    return minor


def parse_fee(text: str) -> int:
    """A doctor's fee: like an amount, but zero is allowed (free consultations)."""
    cleaned = str(text).strip()
    if _AMOUNT.match(cleaned) and Decimal(cleaned) == 0:  # "0", "00", "0.00"
        return 0
    return parse_amount(cleaned, what="fee", maximum=max_amount())  # a larger fee could never be paid


def format_money(minor: int) -> str:
    """8050 -> '80.50'; -500 -> '-5.00'."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole}.{cents:02d}"


def max_amount() -> int:
    """``booking.max_amount`` in minor units: the largest single deposit, withdrawal or payment."""
    from .. import config
    from ..errors import ConfigError

    try:
        return parse_amount(config.current().booking.max_amount, what="booking.max_amount")
    except BadInput as exc:
        raise ConfigError(f"{config.current().source}: {exc}") from None
