"""TOTP two-factor codes (RFC 6238, pyotp) for staff accounts.

Enrolment is two steps: ``begin`` stores a new secret (not yet in force) and returns the
provisioning URI; ``confirm`` checks the first code from the app and only then turns it on.
A code is accepted one 30-second step early or late (valid_window=1), and never twice: the
last step used is stored and a code for that step or an earlier one is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp

from .. import config
from ..errors import BadInput, NotFound, Refused
from ..store.models import User
from . import audit, clock, policy
from .actors import Actor
from .tx import writes

VALID_WINDOW = 1
CODE_ALREADY_USED = "two-factor code already used: wait for the next one"


def normalise_code(code: str) -> str | None:
    """Six digits (spaces allowed in between), or None."""
    cleaned = "".join(str(code).split())
    return cleaned if len(cleaned) == 6 and cleaned.isascii() and cleaned.isdigit() else None


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (within ±VALID_WINDOW of ``at``) whose code is ``code``, or None."""
    cleaned = normalise_code(code)
    if cleaned is None:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=config.current().clinic.name)


@dataclass(frozen=True)
class Enrolment:
    username: str
    secret: str
    uri: str


@writes
def begin(actor: Actor) -> Enrolment:
    """Store a new secret for the acting user (not in force until ``confirm``)."""
    policy.require(actor, "account.two_factor")
    user = _own_user(actor)
    if user.totp_confirmed:
        raise Refused(f"two-factor is already on for {user.username}: run `clinic-desk user totp disable` first")
    secret = pyotp.random_base32()
    User.update(totp_secret=secret, totp_confirmed=False, totp_last_step=None).where(User.id == user.id).execute()
    audit.record(actor, "totp_enrolment_started", "user", user.id)
    return Enrolment(username=user.username, secret=secret, uri=provisioning_uri(secret, user.username))


@writes
def confirm(actor: Actor, code: str) -> None:
    """Turn two-factor on once the first code from the app is right."""
    policy.require(actor, "account.two_factor")
    if normalise_code(code) is None:
        raise BadInput("a two-factor code is 6 digits")
    user = _own_user(actor)
    if user.totp_confirmed or not user.totp_secret:
        raise Refused("no two-factor enrolment is waiting: run `clinic-desk user totp enable`")
    step = matching_step(user.totp_secret, code, clock.now())
    if step is None:
        raise Refused("wrong two-factor code: two-factor is still off")
    User.update(totp_confirmed=True, totp_last_step=step).where(User.id == user.id).execute()
    audit.record(actor, "totp_enabled", "user", user.id)


@writes
def disable(actor: Actor, username: str | None = None) -> bool:
    """Turn two-factor off for the acting user, or (admins) for ``username``; False if it was off."""
    if username is None or username == actor.username:
        policy.require(actor, "account.two_factor")
        user = _own_user(actor)
    else:
        policy.require(actor, "user.manage")
        user = User.get_or_none(User.username == username)
        if user is None:
            raise NotFound(f"no such user: {username}")
    was_on = bool(user.totp_secret)
    if was_on:
        User.update(totp_secret=None, totp_confirmed=False, totp_last_step=None).where(User.id == user.id).execute()
        audit.record(actor, "totp_disabled", "user", user.id, username=user.username)
    return was_on


def _own_user(actor: Actor) -> User:
    user = User.get_or_none(User.id == actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise Refused("two-factor belongs to a user account; log in as one")
    return user
