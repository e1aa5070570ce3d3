"""Passwords, login, lockout, the admin bootstrap and user management (services/accounts.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from clinic_desk.errors import AccountLocked, AuthenticationFailed, BadInput, Conflict, PermissionDenied, Refused
from clinic_desk.services import accounts, clock
from clinic_desk.store.models import AuditEvent, Outbox, User
from tests.factories import DEFAULT_PASSWORD, actor_for, make_doctor, make_patient, make_user

GOOD_PASSWORD = "lantern-orbit-copper"


@pytest.fixture
def admin(db):
    return actor_for(make_user("admin", "admin1"))


class CountingHasher(PasswordHasher):
    """The test hasher, counting how often a password is checked."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifications = 0

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        self.verifications += 1
        return super().verify(hash, password)


# -- passwords ------------------------------------------------------------------


def test_stored_password_hashes_are_argon2id(admin):
    accounts.add_user(admin, "desk1", role="reception", email="desk1@example.test", full_name="Desk One", password=GOOD_PASSWORD)
    stored = User.get(User.username == "desk1").password_hash
    assert stored.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-pw", "password too short: at least 10 characters"),
        ("x" * 1025, "password too long: at most 1024 characters"),
        ("Password123", "password too common: it is on the list of common passwords"),
        ("qwertyuiop", "password too common: it is on the list of common passwords"),
        ("newdesk-01", "password must not be the username"),
    ],
)
def test_a_weak_password_is_refused_naming_the_rule(admin, password, rule):
    with pytest.raises(BadInput) as refused:
        accounts.add_user(admin, "newdesk-01", role="reception", email="n@example.test", full_name="N", password=password)
    assert refused.value.message == rule
    assert refused.value.exit_code == 2
    assert not User.select().where(User.username == "newdesk-01").exists()


def test_login_rehashes_when_the_parameters_changed(db):
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    user = make_user("reception", "desk1")
    User.update(password_hash=old.hash(DEFAULT_PASSWORD)).where(User.id == user.id).execute()

    accounts.authenticate("desk1", DEFAULT_PASSWORD)

    rehashed = User.get_by_id(user.id).password_hash
    assert rehashed.startswith("$argon2id$") and "m=1024,t=1,p=1" in rehashed
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"


# -- login ------------------------------------------------------------------------


def test_login_by_username_or_email(db):
    doctor = make_doctor("drgrey")
    patient_user = make_user("patient", "ann", email="Ann@Example.test")
    patient = make_patient(user=patient_user)

    by_name = accounts.authenticate("drgrey", DEFAULT_PASSWORD)
    by_email = accounts.authenticate("ann@example.test", DEFAULT_PASSWORD)

    assert (by_name.username, by_name.role, by_name.doctor_id, by_name.patient_id) == ("drgrey", "doctor", doctor.id, None)
    assert (by_email.username, by_email.role, by_email.patient_id) == ("ann", "patient", patient.id)


def test_unknown_wrong_and_inactive_fail_alike_and_all_check_a_hash(db, monkeypatch):
    make_user("reception", "desk1")
    make_user("reception", "gone1", is_active=False)
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", hasher)

    messages = []
    for login, password in (("nobody", DEFAULT_PASSWORD), ("desk1", "wrong-password-1"), ("gone1", DEFAULT_PASSWORD)):
        before = hasher.verifications
        with pytest.raises(AuthenticationFailed) as failed:
            accounts.authenticate(login, password)
        messages.append(failed.value.message)
        assert hasher.verifications == before + 1, f"{login}: no argon2 verify, so it answers faster"
    assert messages == ["invalid username or password"] * 3


def test_failed_logins_are_counted_even_though_the_login_is_refused(db):
    user = make_user("reception", "desk1")
    for expected in (1, 2, 3):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("desk1", "wrong-password-1")
        assert User.get_by_id(user.id).failed_logins == expected
    accounts.authenticate("desk1", DEFAULT_PASSWORD)
    assert User.get_by_id(user.id).failed_logins == 0
    failures = AuditEvent.select().where((AuditEvent.action == "login_failed") & (AuditEvent.entity_id == user.id))
    assert failures.count() == 3


def test_lockout_after_the_limit_then_unlock(db, frozen_clock):
    admin = actor_for(make_user("admin", "admin1"))
    make_user("reception", "desk1")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as failed:
            accounts.authenticate("desk1", "wrong-password-1")
        assert failed.value.message == "invalid username or password"
    with pytest.raises(AccountLocked) as locked:
        accounts.authenticate("desk1", "wrong-password-1")
    # 07:30 UTC is 08:30 in Berlin; the lock lasts 15 minutes.
    assert locked.value.message == "account locked until 08:45"
    assert locked.value.exit_code == 1
    with pytest.raises(AccountLocked):
        accounts.authenticate("desk1", DEFAULT_PASSWORD)

    accounts.unlock(admin, "desk1")

    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"
    assert AuditEvent.select().where(AuditEvent.action == "user_unlocked").count() == 1


def test_a_lock_ends_by_itself_after_the_lockout_minutes(db, frozen_clock):
    make_user("reception", "desk1")
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            accounts.authenticate("desk1", "wrong-password-1")
    clock.set_now(frozen_clock + timedelta(minutes=14, seconds=59))
    with pytest.raises(AccountLocked):
        accounts.authenticate("desk1", DEFAULT_PASSWORD)
    clock.set_now(frozen_clock + timedelta(minutes=15))
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"
    assert User.get(User.username == "desk1").locked_until is None


def test_lockout_follows_the_configured_limits(db, frozen_clock):
    from dataclasses import replace

    from clinic_desk import config

    settings = config.current()
    config.use(replace(settings, security=replace(settings.security, lockout_attempts=2, lockout_minutes=60)))
    make_user("reception", "desk1")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("desk1", "wrong-password-1")
    with pytest.raises(AccountLocked) as locked:
        accounts.authenticate("desk1", "wrong-password-1")
    assert locked.value.message == "account locked until 09:30"


def test_unlock_is_for_admins(db):
    desk = actor_for(make_user("reception", "desk1"))
    make_user("reception", "desk2")
    with pytest.raises(PermissionDenied):
        accounts.unlock(desk, "desk2")


# -- the first admin --------------------------------------------------------------


def test_create_first_admin_only_while_no_admin_exists(db):
    assert accounts.admin_exists() is False
    actor = accounts.create_first_admin("boss", "Boss@Example.test", GOOD_PASSWORD, "The Boss")
    assert (actor.username, actor.role) == ("boss", "admin")
    assert accounts.admin_exists() is True
    stored = User.get_by_id(actor.user_id)
    assert stored.password_hash.startswith("$argon2id$")
    assert accounts.authenticate("boss@example.test", GOOD_PASSWORD).role == "admin"  # email in any case

    with pytest.raises(Refused) as refused:
        accounts.create_first_admin("boss2", "boss2@example.test", GOOD_PASSWORD, "Another Boss")
    assert refused.value.message.startswith("an admin exists already")
    assert User.select().where(User.role == "admin").count() == 1


# -- managing users -----------------------------------------------------------------


def test_add_user_mails_a_verification_code_and_audits(admin):
    view = accounts.add_user(
        admin, "desk1", role="reception", email="desk1@example.test", full_name="  Desk   One ", password=GOOD_PASSWORD
    )
    assert (view.username, view.full_name, view.role, view.active, view.email_verified) == (
        "desk1", "Desk One", "reception", True, False
    )
    mail = Outbox.get(Outbox.to_addr == "desk1@example.test")
    assert mail.kind == "one_time_code" and "verifying your email address" in mail.text_body
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity_id == view.id).order_by(AuditEvent.id)]
    assert actions == ["user_added", "code_sent"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "x"}, "username must be 2-64"),
        ({"username": "bad name"}, "username must be 2-64"),
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"role": "wizard"}, "role must be one of admin, reception, doctor, patient"),
        ({"full_name": "   "}, "full name must not be empty"),
    ],
)
def test_add_user_refuses_bad_input(admin, changes, message):
    arguments = {"username": "desk1", "role": "reception", "email": "d@example.test", "full_name": "Desk", **changes}
    username = arguments.pop("username")
    with pytest.raises(BadInput) as refused:
        accounts.add_user(admin, username, password=GOOD_PASSWORD, **arguments)
    assert refused.value.message.startswith(message)


def test_a_taken_username_or_email_is_a_conflict(admin):
    accounts.add_user(admin, "desk1", role="reception", email="desk1@example.test", full_name="Desk")
    with pytest.raises(Conflict, match="username 'desk1' is taken"):
        accounts.add_user(admin, "desk1", role="reception", email="other@example.test", full_name="Desk")
    with pytest.raises(Conflict, match="email 'DESK1@example.test' is taken"):
        accounts.add_user(admin, "desk2", role="reception", email="DESK1@example.test", full_name="Desk")


def test_a_user_added_without_password_cannot_log_in(admin):
    accounts.add_user(admin, "drnew", role="doctor", email="drnew@example.test", full_name="Dr. New")
    with pytest.raises(AuthenticationFailed, match="invalid username or password"):
        accounts.authenticate("drnew", "")


def test_deactivate_ends_sessions_and_login(admin):
    desk = make_user("reception", "desk1")
    token = accounts.start_session(actor_for(desk), remember=False)

    view = accounts.deactivate(admin, "desk1")

    assert view.active is False
    with pytest.raises(AuthenticationFailed, match="invalid username or password"):
        accounts.authenticate("desk1", DEFAULT_PASSWORD)
    with pytest.raises(AuthenticationFailed, match="session expired or ended"):
        accounts.actor_for_session(token)


def test_the_last_active_admin_cannot_be_deactivated(admin):
    with pytest.raises(Refused, match="admin1 is the last active admin"):
        accounts.deactivate(admin, "admin1")
    make_user("admin", "admin2")
    accounts.deactivate(admin, "admin2")
    with pytest.raises(Refused, match="last active admin"):
        accounts.deactivate(admin, "admin1")
    assert User.get(User.username == "admin1").is_active


def test_list_users_shows_state(admin, frozen_clock):
    make_user("reception", "desk1", locked_until=frozen_clock + timedelta(minutes=5))
    make_user("doctor", "drold", locked_until=frozen_clock - timedelta(minutes=5), is_active=False)
    views = {v.username: v for v in accounts.list_users(admin)}
    assert set(views) == {"admin1", "desk1", "drold"}
    assert views["desk1"].locked_until == frozen_clock + timedelta(minutes=5)
    assert views["drold"].locked_until is None and views["drold"].active is False
    assert [v.username for v in accounts.list_users(admin, role="doctor")] == ["drold"]
    with pytest.raises(PermissionDenied):
        accounts.list_users(actor_for(User.get(User.username == "desk1")))


def test_concurrent_failures_are_all_counted(db):
    """Four desks typing a wrong password at once: no failure is lost."""
    import threading

    from clinic_desk.store.db import db as proxy

    user = make_user("reception", "desk1")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            accounts.authenticate("desk1", "wrong-password-1")
        except AuthenticationFailed as refused:
            outcomes.append(refused.message)
        finally:
            proxy.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["invalid username or password"] * 4
    assert User.get_by_id(user.id).failed_logins == 4


def test_guesses_made_at_once_check_no_more_passwords_than_the_lockout_allows(db, monkeypatch):
    """20 terminals guessing at the same moment: at most `lockout_attempts` (5) passwords are ever
    checked, and once the account is locked not even the right one gets in."""
    import threading

    from clinic_desk.store.db import db as proxy

    user = make_user("reception", "desk1")
    User.update(password_hash=PasswordHasher().hash(DEFAULT_PASSWORD)).where(User.id == user.id).execute()  # real cost
    checked: list[str] = []
    real_verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda hashed, password: checked.append(password) or real_verify(hashed, password))
    guesses = [f"wrong-guess-{n:02d}" for n in range(19)] + [DEFAULT_PASSWORD]
    outcomes: list[str] = []
    start = threading.Barrier(len(guesses))

    def guess(password: str) -> None:
        start.wait()
        try:
            accounts.authenticate("desk1", password)
            outcomes.append("in")
        except (AuthenticationFailed, AccountLocked) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            proxy.close()

    threads = [threading.Thread(target=guess, args=(password,)) for password in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 20 and len(checked) <= 5
    assert outcomes.count("in") <= 1 and outcomes.count("AccountLocked") >= 15
    assert User.get_by_id(user.id).locked_until is not None


def test_usernames_differing_only_in_case_and_the_audit_logs_own_names_are_refused(db):
    admin = actor_for(make_user("admin", "boss"))
    make_user("reception", "desk1")
    with pytest.raises(Conflict, match="username 'desk1' is taken"):
        accounts.add_user(admin, "DESK1", role="admin", email="other@example.test", full_name="Look Alike")
    for name in ("system", "Anonymous"):
        with pytest.raises(BadInput, match="is reserved"):
            accounts.add_user(admin, name, role="reception", email=f"{name}@example.test", full_name="X")
    assert User.select().count() == 2
