"""The rules a new password must pass; each refusal names the rule (BadInput, exit 2)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import BadInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, *, username: str | None = None) -> None:
    """Raise BadInput naming the first rule ``password`` breaks."""
    if len(password) < MIN_LENGTH:
        raise BadInput(f"password too short: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise BadInput(f"password too long: at most {MAX_LENGTH} characters")
    if password.casefold() in common_passwords():
        raise BadInput("password too common: it is on the list of common passwords")
    if username and password.casefold() == username.casefold():
        raise BadInput("password must not be the username")
