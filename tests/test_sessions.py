"""Sessions: tokens hashed in the database, kept in the keyring (or a 0600 file), login/whoami/logout."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import timedelta

import keyring
import pyotp
import pytest
from argon2 import PasswordHasher
from keyring.backends import fail

from clinic_desk.commands import saved_session
from clinic_desk.errors import AuthenticationFailed
from clinic_desk.services import accounts, clock, totp
from clinic_desk.store.models import ALL_MODELS, AuditEvent, Session, User
from tests.factories import DEFAULT_PASSWORD, actor_for, make_doctor, make_user

LOGIN_INPUT = f"desk1\n{DEFAULT_PASSWORD}\n"


def database_holds(text: str) -> bool:
    """Whether ``text`` appears in any column of any row of any table."""
    for model in ALL_MODELS:
        for row in model.select().dicts():
            if any(text in str(value) for value in row.values()):
                return True
    return False


# -- the service ----------------------------------------------------------------------


def test_only_the_hash_of_the_token_is_stored(db):
    desk = make_user("reception", "desk1")
    token = accounts.start_session(actor_for(desk), remember=False)
    assert len(token) >= 40
    assert not database_holds(token)
    assert Session.get(Session.user == desk.id).token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_a_session_gives_the_actor_without_a_password_check(db, monkeypatch):
    doctor = make_doctor("drgrey")
    token = accounts.start_session(actor_for(doctor.user), remember=False)

    class NoArgon2(PasswordHasher):
        def verify(self, *args, **kwargs):
            raise AssertionError("a saved session must not run argon2")

        hash = verify

    monkeypatch.setattr(accounts, "hasher", NoArgon2())
    actor = accounts.actor_for_session(token)
    assert (actor.username, actor.role, actor.doctor_id) == ("drgrey", "doctor", doctor.id)


def test_sessions_expire_after_the_configured_hours_or_days(db, frozen_clock):
    desk = actor_for(make_user("reception", "desk1"))
    short = accounts.start_session(desk, remember=False)
    long = accounts.start_session(desk, remember=True)

    clock.set_now(frozen_clock + timedelta(hours=11, minutes=59))
    assert accounts.actor_for_session(short).username == "desk1"
    clock.set_now(frozen_clock + timedelta(hours=12))
    with pytest.raises(AuthenticationFailed, match="session expired or ended: run `clinic-desk login`"):
        accounts.actor_for_session(short)
    assert accounts.actor_for_session(long).username == "desk1"
    clock.set_now(frozen_clock + timedelta(days=30))
    with pytest.raises(AuthenticationFailed):
        accounts.actor_for_session(long)


def test_end_session_revokes_it(db):
    desk = actor_for(make_user("reception", "desk1"))
    token = accounts.start_session(desk, remember=False)
    other = accounts.start_session(desk, remember=False)
    assert accounts.end_session(token) is True
    assert accounts.end_session(token) is False
    with pytest.raises(AuthenticationFailed):
        accounts.actor_for_session(token)
    assert accounts.actor_for_session(other).username == "desk1"
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == [
        "session_started", "session_started", "session_ended"
    ]


def test_an_unknown_token_is_refused(db):
    with pytest.raises(AuthenticationFailed, match="session expired or ended"):
        accounts.actor_for_session("made-up-token")


def test_the_keyring_key_names_the_database_without_its_password():
    assert saved_session.key_for("postgresql://desk:s3cret@db.example:5432/clinic") == (
        "session:postgresql://desk@db.example:5432/clinic"
    )
    assert saved_session.key_for("sqlite:////srv/clinic.db") == "session:sqlite:////srv/clinic.db"


# -- the CLI, with the test keyring ---------------------------------------------------------


def test_login_whoami_logout_round_trip_with_the_keyring(cli, db, isolated_environment):
    make_user("reception", "desk1")

    login = cli("login", input=LOGIN_INPUT)

    assert (login.code, login.out, login.err) == (0, "logged in as desk1 (reception)\n", "")
    [(service, key)] = isolated_environment.store
    assert (service, key) == ("clinic-desk", f"session:{db}")
    token = isolated_environment.store[(service, key)]
    assert not database_holds(token)
    assert not saved_session.fallback_path().exists()

    whoami = cli("whoami")
    assert (whoami.code, whoami.out) == (0, "desk1 (reception)\n")
    assert cli("whoami", "--json").json()["username"] == "desk1"

    logout = cli("logout")
    assert (logout.code, logout.out) == (0, "logged out\n")
    assert isolated_environment.store == {}
    assert Session.get().revoked_at is not None

    after = cli("whoami")
    assert after.code == 1
    assert after.err == "error: not logged in: run `clinic-desk login`, or set CLINIC_DESK_USER and CLINIC_DESK_PASSWORD\n"


def test_login_with_remember_lasts_the_remember_days(cli, isolated_environment, frozen_clock):
    make_user("reception", "desk1")
    assert cli("login", "--remember", input=LOGIN_INPUT).code == 0
    session = Session.get()
    assert session.expires_at == frozen_clock + timedelta(days=30)
    clock.set_now(frozen_clock + timedelta(days=29))
    assert cli("whoami").out == "desk1 (reception)\n"


def test_a_second_login_ends_the_first_session(cli, isolated_environment):
    make_user("reception", "desk1")
    cli("login", input=LOGIN_INPUT)
    cli("login", input=LOGIN_INPUT)
    sessions = list(Session.select().order_by(Session.id))
    assert [s.revoked_at is not None for s in sessions] == [True, False]


def test_a_failed_login_saves_nothing(cli, isolated_environment):
    make_user("reception", "desk1")
    result = cli("login", input="desk1\nwrong-password-1\n")
    assert (result.code, result.err) == (1, "error: invalid username or password\n")
    assert isolated_environment.store == {}
    assert Session.select().count() == 0


def test_login_asks_for_the_two_factor_code(cli, isolated_environment, frozen_clock):
    desk = actor_for(make_user("reception", "desk1"))
    enrolment = totp.begin(desk)
    totp.confirm(desk, pyotp.TOTP(enrolment.secret).at(frozen_clock))
    clock.set_now(frozen_clock + timedelta(seconds=30))
    code = pyotp.TOTP(enrolment.secret).at(clock.now())

    result = cli("login", input=LOGIN_INPUT + code + "\n")

    assert (result.code, result.out) == (0, "logged in as desk1 (reception)\n")
    assert cli("whoami").out == "desk1 (reception)\n"


def test_a_deactivated_user_loses_the_saved_session(cli, isolated_environment):
    admin = actor_for(make_user("admin", "admin1"))
    make_user("reception", "desk1")
    cli("login", input=LOGIN_INPUT)
    accounts.deactivate(admin, "desk1")
    result = cli("whoami")
    assert (result.code, result.err) == (1, "error: session expired or ended: run `clinic-desk login`\n")


def test_two_databases_keep_two_sessions(cli, isolated_environment, scratch_database_url):
    make_user("reception", "desk1")
    cli("login", input=LOGIN_INPUT)
    saved_session.save(scratch_database_url, "the-other-databases-token")
    assert len(isolated_environment.store) == 2
    assert cli("whoami").out == "desk1 (reception)\n"
    cli("logout")
    assert list(isolated_environment.store.values()) == ["the-other-databases-token"]


# -- the CLI, with no keyring backend ---------------------------------------------------------


def test_round_trip_with_the_file_fallback(cli, isolated_environment):
    keyring.set_keyring(fail.Keyring())
    make_user("reception", "desk1")

    login = cli("login", input=LOGIN_INPUT)

    assert (login.code, login.out) == (0, "logged in as desk1 (reception)\n")
    path = saved_session.fallback_path()
    assert login.err == f"warning: no keyring backend: session saved in {path} (readable only by you)\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [token] = json.loads(path.read_text()).values()
    assert not database_holds(token)

    assert cli("whoami").out == "desk1 (reception)\n"
    assert cli("logout").out == "logged out\n"
    assert json.loads(path.read_text()) == {}
    assert Session.get().revoked_at is not None
    assert cli("whoami").code == 1


def test_the_env_route_needs_both_variables(cli):
    make_user("reception", "desk1")
    result = cli("whoami", env={"CLINIC_DESK_USER": "desk1"})
    assert (result.code, result.err) == (2, "error: CLINIC_DESK_USER is set but CLINIC_DESK_PASSWORD is not\n")
    ok = cli("whoami", env={"CLINIC_DESK_USER": "desk1", "CLINIC_DESK_PASSWORD": DEFAULT_PASSWORD})
    assert ok.out == "desk1 (reception)\n"
    assert User.get(User.username == "desk1").failed_logins == 0
