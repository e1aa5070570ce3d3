"""One-time codes by email: verifying an email address and resetting a password.

A code is 6 digits, stored only as an argon2id hash, mailed through the Outbox in the same
transaction that stores it, good for 10 minutes, at most 5 attempts (the 6th is refused even
with the right code), and single use. Only the newest code of a purpose counts. Whoever holds
the code proves they read that mailbox, so using a code needs no login.

Call ``verify_email`` and ``reset_password`` outside any transaction: each attempt is committed
(counted) before a wrong code is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import BadInput, Refused
from ..store.models import OneTimeCode, User
from . import accounts, audit, clock, notify
from .actors import Actor
from .password_rules import check_password
from .tx import reads, writes

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5
PURPOSES = {
    "verify_email": "verifying your email address",
    "reset_password": "resetting your password",
}

WRONG_CODE = "wrong code"


@dataclass(frozen=True)
class NewCode:
    """A fresh code and its hash, made before the transaction that stores it (argon2 is slow)."""

    code: str
    code_hash: str


def new_code() -> NewCode:
    code = f"{secrets.randbelow(10**6):06d}"
    return NewCode(code=code, code_hash=accounts.hash_password(code))


def _actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role)


def _over_the_hourly_limit(user: User, purpose: str, now: datetime) -> bool:
    recent = (
        OneTimeCode.select()
        .where(
            (OneTimeCode.user == user.id)
            & (OneTimeCode.purpose == purpose)
            & (OneTimeCode.created_at > now - timedelta(hours=1))
        )
        .count()
    )
    return recent >= MAX_CODES_PER_HOUR


def issue(user: User, purpose: str, code: NewCode, *, actor: Actor | None = None) -> None:
    """Store the code and queue its mail (inside the caller's transaction). ``actor``: who asked
    for it, when someone logged in did; otherwise it is recorded as an anonymous request."""
    now = clock.now()
    if _over_the_hourly_limit(user, purpose, now):
        raise Refused("too many codes asked for in the last hour: try again later")
    OneTimeCode.create(
        user=user.id,
        purpose=purpose,
        code_hash=code.code_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    notify.queue(
        notify.ONE_TIME_CODE,
        user.email,
        {"full_name": user.full_name, "purpose_text": PURPOSES[purpose], "code": code.code, "minutes": CODE_MINUTES},
    )
    audit.record(actor or accounts.LOGIN_ATTEMPT, "code_sent", "user", user.id, purpose=purpose)


def request_code(login: str, purpose: str) -> None:
    """Mail a new code to the account ``login`` names; nothing happens (and nothing says so) when
    there is no such active account, so that this cannot tell who has an account."""
    if purpose not in PURPOSES:
        raise BadInput(f"unknown code purpose: {purpose!r}")
    _request_code(login, purpose, new_code())


@writes
def _request_code(login: str, purpose: str, code: NewCode) -> None:
    user = accounts._find_login(login).first()
    # Over the hourly limit the request is dropped as quietly as one for no account: the answer
    # must not tell who has an account.
    if user is not None and user.is_active and not _over_the_hourly_limit(user, purpose, clock.now()):
        issue(user, purpose, code)


def verify_email(login: str, code: str) -> None:
    """Mark the email address verified when ``code`` is right."""

    def apply(user: User) -> None:
        User.update(email_verified_at=clock.now()).where(User.id == user.id).execute()
        audit.record(_actor_of(user), "email_verified", "user", user.id, email=user.email)

    _use_code(login, "verify_email", code, apply)


def reset_password(login: str, code: str, new_password: str) -> None:
    """Set a new password when ``code`` is right; ends the user's sessions and clears a lockout."""
    user = _user(login)
    check_password(new_password, username=user.username if user else None)
    new_hash = accounts.hash_password(new_password)

    def apply(user: User) -> None:
        User.update(password_hash=new_hash, failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        ended = accounts.revoke_sessions(user.id)
        audit.record(_actor_of(user), "password_reset", "user", user.id, sessions_ended=ended)

    _use_code(login, "reset_password", code, apply)


@reads
def _user(login: str) -> User | None:
    user = accounts._find_login(login).first()
    return user if user is not None and user.is_active else None


@reads
def _newest_code(user_id: int, purpose: str) -> OneTimeCode | None:
    return (
        OneTimeCode.select()
        .where((OneTimeCode.user == user_id) & (OneTimeCode.purpose == purpose))
        .order_by(OneTimeCode.id.desc())
        .first()
    )


def _use_code(login: str, purpose: str, code: str, apply: Callable[[User], None]) -> None:
    cleaned = "".join(str(code).split())
    if len(cleaned) != 6 or not (cleaned.isascii() and cleaned.isdigit()):
        raise BadInput("a code is 6 digits")
    user = _user(login)
    row = _newest_code(user.id, purpose) if user is not None else None
    if user is None or row is None:
        raise Refused(WRONG_CODE)
    matches = accounts.verify_password(row.code_hash, cleaned)  # argon2 before the write lock
    refusal = _settle(row.id, matches, user, apply)
    if refusal:
        raise Refused(refusal)


@writes
def _settle(code_id: int, matches: bool, user: User, apply: Callable[[User], None]) -> str | None:
    """Count the attempt; when the code is live and right, use it and apply its effect.

    Returns why the code was refused (the attempt stays counted), or None when it worked.
    """
    now = clock.now()
    claimed = (
        OneTimeCode.update(attempts=OneTimeCode.attempts + 1)
        .where(
            (OneTimeCode.id == code_id)
            & (OneTimeCode.attempts < MAX_ATTEMPTS)
            & OneTimeCode.used_at.is_null()
            & (OneTimeCode.expires_at > now)
        )
        .execute()
    )
    row = OneTimeCode.get_by_id(code_id)
    if not claimed:
        if not matches:  # why a right code would be refused is said only to whoever has it
            return WRONG_CODE
        if row.used_at is not None:
            return "code already used: ask for a new one"
        if row.expires_at <= now:
            return "code expired: ask for a new one"
        return "too many attempts with this code: ask for a new one"
    if not matches:
        audit.record(accounts.LOGIN_ATTEMPT, "code_refused", "user", user.id, purpose=row.purpose, attempts=row.attempts)
        return WRONG_CODE
    OneTimeCode.update(used_at=now).where(OneTimeCode.id == code_id).execute()
    apply(user)
    return None
