"""A simulated card processor: number and expiry checks, documented test numbers, nothing kept but the last four.

Test numbers (spaces and dashes are ignored):
  4242 4242 4242 4242  succeeds
  4000 0000 0000 0002  is declined ("card declined")
Any other number that passes the Luhn check succeeds. A number that fails it, or has fewer than
12 or more than 19 digits, is bad input and never reaches the "processor".

Expiry is ``MM/YY`` (or ``MM/YYYY``); a card is good through the last day of that month, clinic
time. Without an expiry the simulated processor does not check one (test mode), so the test
numbers work as they are. An expired card is declined ("card expired").

The card number never leaves this module: no message, log line or result carries more than its
last four digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput
from . import clock
from .timeutil import to_local

TEST_CARD_SUCCEEDS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"

CARD_DECLINED = "card declined"
CARD_EXPIRED = "card expired"

_DECLINED_NUMBERS = {TEST_CARD_DECLINED: CARD_DECLINED}


@dataclass(frozen=True)
class Charge:
    """What the processor answered; ``last4`` is all that is ever stored."""

    approved: bool
    last4: str
    failure_reason: str = ""


def normalize(number: str) -> str:
    """The card number as digits, or BadInput (the message never repeats the number)."""
    digits = re.sub(r"[\s-]", "", str(number))
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise BadInput("card number must be 12 to 19 digits")
    if not luhn_valid(digits):
        raise BadInput("card number is not valid (check digit)")
    return digits


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def parse_expiry(text: str) -> tuple[int, int]:
    """'MM/YY' or 'MM/YYYY' -> (year, month), or BadInput."""
    match = re.fullmatch(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})", str(text).strip())
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise BadInput(f"card expiry must be MM/YY, like 12/29: {text!r}")
    year = int(match.group(2))
    return (2000 + year if year < 100 else year), int(match.group(1))


def charge(number: str, expiry: str | None) -> Charge:
    """Ask the simulated processor to charge the card (it answers by number and expiry alone)."""
    digits = normalize(number)
    last4 = digits[-4:]
    if expiry is not None:
        year, month = parse_expiry(expiry)
        today = to_local(clock.now()).date()
        if (year, month) < (today.year, today.month):
            return Charge(approved=False, last4=last4, failure_reason=CARD_EXPIRED)
    reason = _DECLINED_NUMBERS.get(digits)
    if reason:
        return Charge(approved=False, last4=last4, failure_reason=reason)
    return Charge(approved=True, last4=last4)
