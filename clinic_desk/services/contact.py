"""Cleaning what people type about people: names, e-mail addresses, phones, dates of birth, usernames."""

from __future__ import annotations

import re
from datetime import date

from ..errors import BadInput
from . import clock
from .controls import CONTROL, CONTROL_BUT_LAYOUT
from .timeutil import parse_date, to_local

# No list separators, brackets or quotes: one plain address, never "ann@x.test,postmaster".
_EMAIL = re.compile(r"^[^@\s,;<>()\[\]\\\"]{1,64}@[^@\s,;<>()\[\]\\\"]+\.[^@\s,;<>()\[\]\\\"]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


def clean_text(text: str, *, what: str, max_length: int, required: bool = True) -> str:
    """Trimmed text without control characters, at most ``max_length`` long."""
    cleaned = " ".join(str(text).split())
    if required and not cleaned:
        raise BadInput(f"{what} must not be empty")
    if CONTROL.search(cleaned):
        raise BadInput(f"{what} must not contain control characters")
    if len(cleaned) > max_length:
        raise BadInput(f"{what} is longer than {max_length} characters")
    return cleaned


def clean_multiline(text: str, *, what: str, max_length: int) -> str:
    """Text that may span lines (a biography, a doctor's notes): trimmed, CRLF as LF, newlines and
    tabs kept, no other control characters, at most ``max_length`` long."""
    cleaned = str(text).replace("\r\n", "\n").strip()
    if CONTROL_BUT_LAYOUT.search(cleaned):
        raise BadInput(f"{what} must not contain control characters")
    if len(cleaned) > max_length:
        raise BadInput(f"{what} is longer than {max_length} characters")
    return cleaned


def clean_name(text: str, *, what: str = "name") -> str:
    return clean_text(text, what=what, max_length=200)


def clean_email(text: str) -> str:
    cleaned = str(text).strip()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned) or CONTROL.search(cleaned):
        raise BadInput(f"not an e-mail address: {text!r}")
    return cleaned


def clean_phone(text: str) -> str:
    cleaned = " ".join(str(text).split())
    if cleaned and not _PHONE.match(cleaned):
        raise BadInput(f"not a phone number (digits, spaces, + ( ) - . /): {text!r}")
    return cleaned


def clean_username(text: str) -> str:
    cleaned = str(text).strip()
    if not _USERNAME.match(cleaned):
        raise BadInput(f"username must be 2-64 letters, digits, dots, dashes or underscores: {text!r}")
    return cleaned


def parse_birth_date(text: str) -> date:
    born = parse_date(text, what="date of birth")
    if born > to_local(clock.now()).date():
        raise BadInput(f"date of birth is in the future: {text}")
    return born
