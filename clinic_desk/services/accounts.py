"""Users, passwords, login and sessions.

Passwords are argon2id (argon2-cffi's PasswordHasher). Login by username or email; unknown user,
wrong password and inactive user all fail alike and take about the same time.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import AuthenticationFailed
from ..store.models import Doctor, Patient, User
from .actors import Actor
from .tx import writes

hasher = PasswordHasher()
_DUMMY_HASH: str | None = None

INVALID_LOGIN = "invalid username or password"


def hash_password(password: str) -> str:
    return hasher.hash(password)


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hasher.hash("not-a-real-password-for-timing")
    return _DUMMY_HASH


def actor_for_user(user: User) -> Actor:
    doctor = Doctor.get_or_none(Doctor.user == user.id)
    patient = Patient.get_or_none(Patient.user == user.id)
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        doctor_id=doctor.id if doctor else None,
        patient_id=patient.id if patient else None,
    )


@writes
def authenticate(login: str, password: str) -> Actor:
    """The actor for these credentials, or AuthenticationFailed with one message for every failure."""
    user = User.get_or_none((User.username == login) | (User.email == login))
    if user is None or not user.is_active:
        try:
            hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise AuthenticationFailed(INVALID_LOGIN)
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthenticationFailed(INVALID_LOGIN) from None
    return actor_for_user(user)
