"""The error family every layer raises and the CLI and TUI turn into one line.

Exit codes (DESIGN §3): 1 the domain refused (conflict, permission, funds, lock),
2 the input was bad (unknown id, bad date, rating 9).
"""

from __future__ import annotations


class ClinicError(Exception):
    """A failure with a message fit for the person at the desk."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- refusals (exit 1) --------------------------------------------------------


class Refused(ClinicError):
    """The domain said no: a conflict, a rule, a state that does not allow it."""

    exit_code = 1


class PermissionDenied(Refused):
    def __init__(self, what: str) -> None:
        super().__init__(f"permission denied: {what}")


class AuthenticationFailed(Refused):
    """Login failed; the message never says whether the user exists."""


class AccountLocked(Refused):
    """Too many failed logins: the account waits until the time the message names."""


class TotpRequired(Refused):
    """The password was right and the account has two-factor on: ask for the code, then log in again."""


class Conflict(Refused):
    """Someone else got there first (slot booked, overlapping visit)."""


class InsufficientFunds(Refused):
    def __init__(self, message: str = "insufficient funds") -> None:
        super().__init__(message)


class DatabaseUnavailable(Refused):
    def __init__(self, message: str = "database unavailable") -> None:
        super().__init__(message)


class DatabaseBusy(Refused):
    def __init__(self, message: str = "database busy: another desk holds the lock, try again") -> None:
        super().__init__(message)


# -- bad input (exit 2) -------------------------------------------------------


class BadInput(ClinicError):
    """What the user typed cannot be used as it is."""

    exit_code = 2


class NotFound(BadInput):
    """An id or name that does not exist (a typo, as far as the CLI is concerned)."""


class ConfigError(BadInput):
    """A configuration key with a bad value: names the key and the file."""
