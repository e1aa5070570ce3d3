"""Users, passwords, login and sessions.

Passwords are argon2id (argon2-cffi's PasswordHasher). Login by username or email; unknown user,
wrong password and inactive user all fail alike and take about the same time (an unknown user is
verified against a dummy hash). Failed logins are counted in their own committed transaction, so
the count survives the refusal; after ``security.lockout_attempts`` the account locks for
``security.lockout_minutes``. argon2 never runs while a write transaction holds the database.

Call ``authenticate`` outside any transaction: it commits its own bookkeeping.
Sessions: a random token that the client keeps; the database holds only its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from peewee import JOIN, IntegrityError, fn

from .. import config
from ..errors import AccountLocked, AuthenticationFailed, BadInput, Conflict, DatabaseBusy, NotFound, Refused, TotpRequired
from ..store.db import db, is_postgres
from ..store.models import ROLES, Doctor, Patient, Session, User
from . import audit, clock, policy  # onetime (mail) and totp (pyotp): imported where used
from .actors import SYSTEM, Actor
from .contact import clean_email, clean_name, clean_phone, clean_username
from .password_rules import check_password
from .timeutil import iso_local, to_local
from .tx import reads, writes

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from . import onetime

hasher: PasswordHasher | None = None  # made by _hasher() on first use: a saved session needs no argon2
_DUMMY_HASH: str | None = None

INVALID_LOGIN = "invalid username or password"
INVALID_TOTP = "invalid two-factor code"
SESSION_GONE = "session expired or ended: run `clinic-desk login`"
ADMIN_EXISTS = "an admin exists already: ask them to add users with `clinic-desk user add`"

# Who the audit log names for a login attempt: nobody has proved who they are yet.
LOGIN_ATTEMPT = Actor(user_id=None, username="anonymous", role="anonymous")
RESERVED_NAMES = {LOGIN_ATTEMPT.username, SYSTEM.username}  # the audit log's names for no user

# One advisory lock (PostgreSQL) serialises changes to the set of admins; SQLite's BEGIN IMMEDIATE does already.
_ADMIN_SET_LOCK = 0x636C_6164  # "clad"


def _hasher() -> PasswordHasher:
    global hasher
    if hasher is None:
        from argon2 import PasswordHasher

        hasher = PasswordHasher()
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher().hash("not-a-real-password-for-timing")
    return _DUMMY_HASH


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; an empty or broken hash costs a dummy verify and fails."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# -- who acts -----------------------------------------------------------------


def _actor_query():
    return (
        User.select(User.id, User.username, User.role, Doctor.id.alias("doctor_id"), Patient.id.alias("patient_id"))
        .join(Doctor, JOIN.LEFT_OUTER, on=(Doctor.user == User.id))
        .switch(User)
        .join(Patient, JOIN.LEFT_OUTER, on=(Patient.user == User.id))
    )


def _actor(row: dict) -> Actor:
    return Actor(
        user_id=row["id"],
        username=row["username"],
        role=row["role"],
        doctor_id=row["doctor_id"],
        patient_id=row["patient_id"],
    )


def actor_for_user(user: User) -> Actor:
    """The Actor the services see for ``user`` (their doctor or patient record joined in one query)."""
    return _actor(_actor_query().where(User.id == user.id).dicts().get())


# -- login --------------------------------------------------------------------


def _find_login(login: str):
    cleaned = login.strip()
    # LOWER on both sides: the database's own notion of case (SQLite's covers ASCII only).
    return User.select().where((User.username == cleaned) | (fn.LOWER(User.email) == fn.LOWER(cleaned)))


@reads
def _user_for_login(login: str) -> User | None:
    return _find_login(login).first()


def authenticate(login: str, password: str, totp_code: str | None = None) -> Actor:
    """The actor for these credentials.

    Raises AuthenticationFailed (one message for unknown, wrong and inactive), AccountLocked,
    or TotpRequired when the account has two-factor on and no code was given.
    """
    user = _user_for_login(login)
    if user is None or not user.is_active or not user.password_hash:
        verify_password(user.password_hash if user is not None else "", password)
        raise AuthenticationFailed(INVALID_LOGIN)
    now = clock.now()
    try:
        locked_until = _claim_attempt(user.id)
        claimed = True
    except DatabaseBusy:  # another desk holds SQLite's write lock: reading must go on, so judge as read
        locked_until = user.locked_until if user.locked_until is not None and user.locked_until > now else None
        claimed = False
    if locked_until is not None:
        raise AccountLocked(locked_message(locked_until))
    if not verify_password(user.password_hash, password):
        _refuse_after_failure(user.id, "wrong password", INVALID_LOGIN, claimed=claimed)
    step = None
    if user.totp_confirmed:
        from . import totp

        if not totp_code:
            if claimed:
                _release_attempt(user.id)  # the right password, the code still to come: not a failure
            raise TotpRequired("two-factor code required")
        step = totp.matching_step(user.totp_secret or "", totp_code, now)
        if step is None:
            _refuse_after_failure(user.id, "wrong two-factor code", INVALID_TOTP, claimed=claimed)
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise AuthenticationFailed(totp.CODE_ALREADY_USED)
    new_hash = hash_password(password) if _hasher().check_needs_rehash(user.password_hash) else None
    if claimed or new_hash or step is not None or user.failed_logins or user.locked_until is not None:
        _record_success(user.id, new_hash, step)
    return actor_for_user(user)


def locked_message(until: datetime) -> str:
    return f"account locked until {to_local(until):%H:%M}"


def _refuse_after_failure(user_id: int, what: str, message: str, *, claimed: bool) -> NoReturn:
    """Count the failure (committed), then refuse: locked if this failure locked the account."""
    locked_until = _record_failure(user_id, what, counted=claimed)
    if locked_until is not None:
        raise AccountLocked(locked_message(locked_until))
    raise AuthenticationFailed(message)


def _not_locked(now: datetime):  # noqa: ANN202 - a peewee expression
    return User.locked_until.is_null() | (User.locked_until <= now)


@writes
def _claim_attempt(user_id: int) -> datetime | None:
    """Count this attempt as failed before its password is checked (success clears it), so that
    attempts made at once cannot outnumber ``security.lockout_attempts``. Returns the end of the
    lock when the account is locked, or becomes locked because the limit is taken."""
    now = clock.now()
    limit = config.current().security.lockout_attempts
    claimed = (
        User.update(failed_logins=User.failed_logins + 1)
        .where((User.id == user_id) & _not_locked(now) & (User.failed_logins < limit))
        .execute()
    )
    if claimed:
        return None
    locked_until = User.select(User.locked_until).where(User.id == user_id).scalar()
    if locked_until is not None and locked_until > now:
        return locked_until
    return _lock(user_id, "too many attempts at once", limit)


@writes
def _release_attempt(user_id: int) -> None:
    User.update(failed_logins=User.failed_logins - 1).where((User.id == user_id) & (User.failed_logins > 0)).execute()


@writes
def _record_failure(user_id: int, what: str, *, counted: bool) -> datetime | None:
    """The attempt failed (``counted``: its claim counted it already); at the limit the account
    locks. Returns the lock's end, if it locked."""
    security = config.current().security
    if not counted:
        User.update(failed_logins=User.failed_logins + 1).where(User.id == user_id).execute()
    failed = User.select(User.failed_logins).where(User.id == user_id).scalar()
    if failed < security.lockout_attempts:
        audit.record(LOGIN_ATTEMPT, "login_failed", "user", user_id, reason=what, failed_logins=failed)
        return None
    return _lock(user_id, what, failed)


def _lock(user_id: int, what: str, failed: int) -> datetime:
    until = clock.now() + timedelta(minutes=config.current().security.lockout_minutes)
    User.update(failed_logins=0, locked_until=until).where(User.id == user_id).execute()
    audit.record(
        LOGIN_ATTEMPT, "account_locked", "user", user_id, reason=what, failed_logins=failed, until=iso_local(until)
    )
    return until


@writes
def _record_success(user_id: int, new_hash: str | None, step: int | None) -> None:
    changes: dict = {User.failed_logins: 0, User.locked_until: None}
    if new_hash:
        changes[User.password_hash] = new_hash
    now = clock.now()
    where = (User.id == user_id) & _not_locked(now)  # attempts made at once may have locked it meanwhile
    if step is not None:
        changes[User.totp_last_step] = step
        where &= User.totp_last_step.is_null() | (User.totp_last_step < step)
    if not User.update(changes).where(where).execute():
        locked_until = User.select(User.locked_until).where(User.id == user_id).scalar()
        if locked_until is not None and locked_until > now:
            raise AccountLocked(locked_message(locked_until))
        from .totp import CODE_ALREADY_USED

        raise AuthenticationFailed(CODE_ALREADY_USED)  # another login used this step first
    if new_hash:
        audit.record(LOGIN_ATTEMPT, "password_rehashed", "user", user_id)


# -- sessions -----------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@writes
def start_session(actor: Actor, remember: bool) -> str:
    """A new session for ``actor``; returns the raw token (the database keeps only its SHA-256)."""
    if actor.user_id is None:
        raise Refused("only a user account can log in")
    security = config.current().security
    now = clock.now()
    lifetime = timedelta(days=security.remember_days) if remember else timedelta(hours=security.session_hours)
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    Session.create(user=actor.user_id, token_hash=token_digest(token), created_at=now, expires_at=expires_at)
    audit.record(actor, "session_started", "user", actor.user_id, remember=remember, expires_at=iso_local(expires_at))
    return token


@reads
def actor_for_session(token: str) -> Actor:
    """The actor of a live session (one indexed query, no argon2), else AuthenticationFailed."""
    row = (
        _actor_query()
        .join(Session, on=(Session.user == User.id))
        .where(
            (Session.token_hash == token_digest(token))
            & Session.revoked_at.is_null()
            & (Session.expires_at > clock.now())
            & (User.is_active == True)  # noqa: E712 - peewee expression
        )
        .dicts()
        .first()
    )
    if row is None:
        raise AuthenticationFailed(SESSION_GONE)
    return _actor(row)


@writes
def end_session(token: str) -> bool:
    """Revoke the session; False when it was already gone."""
    session = Session.get_or_none((Session.token_hash == token_digest(token)) & Session.revoked_at.is_null())
    if session is None:
        return False
    Session.update(revoked_at=clock.now()).where(Session.id == session.id).execute()
    user = User.get_by_id(session.user_id)
    audit.record(Actor(user_id=user.id, username=user.username, role=user.role), "session_ended", "user", user.id)
    return True


def revoke_sessions(user_id: int) -> int:
    """End every live session of a user (inside the caller's transaction)."""
    return (
        Session.update(revoked_at=clock.now())
        .where((Session.user == user_id) & Session.revoked_at.is_null())
        .execute()
    )


# -- users --------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    email: str
    full_name: str
    role: str
    active: bool
    email_verified: bool
    two_factor: bool
    locked_until: datetime | None


def view(user: User) -> UserView:
    now = clock.now()
    return UserView(
        id=user.id,
        username=user.username,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        active=bool(user.is_active),
        email_verified=user.email_verified_at is not None,
        two_factor=bool(user.totp_confirmed),
        locked_until=user.locked_until if user.locked_until is not None and user.locked_until > now else None,
    )


@dataclass(frozen=True)
class NewUser:
    """What a new account looks like once its input passed every check (and its secrets are hashed)."""

    username: str
    email: str
    full_name: str
    role: str
    phone: str
    password_hash: str


def prepare_user(
    username: str, *, email: str, full_name: str, role: str, password: str | None, phone: str = ""
) -> NewUser:
    """Check the input and hash the password (before any transaction: argon2 is slow on purpose)."""
    if role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}: {role!r}")
    username = clean_username(username)
    if username.lower() in RESERVED_NAMES:
        raise BadInput(f"username {username!r} is reserved: the audit log names logins and scheduled jobs so")
    new = NewUser(username, clean_email(email), clean_name(full_name, what="full name"), role, clean_phone(phone), "")
    if password is None:
        return new
    check_password(password, username=username)
    return replace(new, password_hash=hash_password(password))


def _insert(new: NewUser) -> User:
    """Insert the user (inside a transaction); a taken username or email is a Conflict."""
    taken = (
        User.select(User.username, User.email)
        .where((fn.LOWER(User.username) == new.username.lower()) | (fn.LOWER(User.email) == fn.LOWER(new.email)))
        .first()
    )
    if taken is not None:  # usernames that differ only in case would be two look-alike accounts
        same_name = taken.username.lower() == new.username.lower()
        what = f"username {taken.username!r}" if same_name else f"email {new.email!r}"
        raise Conflict(f"{what} is taken")
    try:
        with db.atomic():
            return User.create(
                username=new.username,
                email=new.email,
                full_name=new.full_name,
                role=new.role,
                phone=new.phone,
                password_hash=new.password_hash,
                created_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict(f"username {new.username!r} or email {new.email!r} is taken") from None


def add_user(
    actor: Actor,
    username: str,
    *,
    role: str,
    email: str,
    full_name: str,
    password: str | None = None,
    phone: str = "",
) -> UserView:
    """Add a user (admins) and mail them a code to verify their email address.

    With no password the account cannot log in until its owner sets one (`user reset-password`).
    May run inside a caller's transaction (e.g. adding a doctor).
    """
    policy.require(actor, "user.manage")
    from . import onetime

    new = prepare_user(username, email=email, full_name=full_name, role=role, password=password, phone=phone)
    code = onetime.new_code()
    return _add_user(actor, new, code)


@writes
def _add_user(actor: Actor, new: NewUser, code: onetime.NewCode) -> UserView:
    user = _insert(new)
    audit.record(actor, "user_added", "user", user.id, username=user.username, role=user.role, email=user.email)
    from . import onetime

    onetime.issue(user, "verify_email", code, actor=actor)
    return view(user)


@reads
def admin_exists() -> bool:
    return User.select().where(User.role == "admin").exists()


def create_first_admin(username: str, email: str, password: str, full_name: str) -> Actor:
    """The bootstrap: create the first admin; refused once any admin exists."""
    if admin_exists():
        raise Refused(ADMIN_EXISTS)
    new = prepare_user(username, email=email, full_name=full_name or username, role="admin", password=password)
    return _create_first_admin(new)


@writes
def _create_first_admin(new: NewUser) -> Actor:
    _lock_admin_set()
    if User.select().where(User.role == "admin").exists():
        raise Refused(ADMIN_EXISTS)
    user = _insert(new)
    actor = Actor(user_id=user.id, username=user.username, role=user.role)
    audit.record(actor, "first_admin_created", "user", user.id, username=user.username, email=user.email)
    return actor


@reads
def list_users(actor: Actor, *, role: str | None = None) -> list[UserView]:
    policy.require(actor, "user.list")
    if role is not None and role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}: {role!r}")
    query = User.select().order_by(User.username)
    if role is not None:
        query = query.where(User.role == role)
    return [view(user) for user in query]


@reads
def show_user(actor: Actor, username: str) -> UserView:
    policy.require(actor, "user.list")
    return view(_existing(username))


@writes
def deactivate(actor: Actor, username: str) -> UserView:
    """Deactivate a user and end their sessions; the last active admin stays."""
    policy.require(actor, "user.manage")
    user = _existing(username)
    if user.is_active:
        if user.role == "admin":
            _lock_admin_set()
            active_admins = User.select().where((User.role == "admin") & (User.is_active == True)).count()  # noqa: E712
            if active_admins <= 1:
                raise Refused(f"{user.username} is the last active admin: add another admin first")
        User.update(is_active=False).where(User.id == user.id).execute()
        ended = revoke_sessions(user.id)
        audit.record(actor, "user_deactivated", "user", user.id, username=user.username, sessions_ended=ended)
    return view(User.get_by_id(user.id))


@writes
def unlock(actor: Actor, username: str) -> UserView:
    """Clear a login lockout and the failed-login count."""
    policy.require(actor, "user.manage")
    user = _existing(username)
    User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
    audit.record(actor, "user_unlocked", "user", user.id, username=user.username)
    return view(User.get_by_id(user.id))


def _existing(username: str) -> User:
    user = User.get_or_none(User.username == username.strip())
    if user is None:
        raise NotFound(f"no such user: {username}")
    return user


def _lock_admin_set() -> None:
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_ADMIN_SET_LOCK,))
