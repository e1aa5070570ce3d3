"""TOTP two-factor for staff accounts (services/totp.py and the login that asks for it)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from clinic_desk.errors import AccountLocked, AuthenticationFailed, BadInput, PermissionDenied, Refused, TotpRequired
from clinic_desk.services import accounts, clock, totp
from clinic_desk.store.models import AuditEvent, User
from tests.factories import DEFAULT_PASSWORD, actor_for, make_patient, make_user

STEP = timedelta(seconds=30)


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + offset_steps * STEP)


@pytest.fixture
def desk(db, frozen_clock):
    return actor_for(make_user("reception", "desk1"))


@pytest.fixture
def enrolled(desk, frozen_clock):
    """desk1 with two-factor on, confirmed with the code of the frozen step; the clock moves one step on."""
    enrolment = totp.begin(desk)
    totp.confirm(desk, code_at(enrolment.secret))
    clock.set_now(frozen_clock + STEP)
    return enrolment.secret


def test_enrolment_is_not_in_force_until_the_first_code_is_confirmed(desk):
    enrolment = totp.begin(desk)
    assert enrolment.uri.startswith("otpauth://totp/Test%20Clinic:desk1?secret=" + enrolment.secret)
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"  # no code asked yet

    with pytest.raises(Refused, match="wrong two-factor code: two-factor is still off"):
        totp.confirm(desk, f"{(int(code_at(enrolment.secret)) + 1) % 1_000_000:06d}")
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"

    totp.confirm(desk, code_at(enrolment.secret))
    with pytest.raises(TotpRequired):
        accounts.authenticate("desk1", DEFAULT_PASSWORD)
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == ["totp_enrolment_started", "totp_enabled"]


def test_login_needs_the_code_and_a_used_code_is_refused(enrolled):
    with pytest.raises(TotpRequired) as required:
        accounts.authenticate("desk1", DEFAULT_PASSWORD)
    assert required.value.message == "two-factor code required"

    code = code_at(enrolled)
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD, code).username == "desk1"
    with pytest.raises(AuthenticationFailed) as reused:
        accounts.authenticate("desk1", DEFAULT_PASSWORD, code)
    assert reused.value.message == "two-factor code already used: wait for the next one"


def test_the_code_used_to_confirm_cannot_log_in(desk, frozen_clock):
    enrolment = totp.begin(desk)
    code = code_at(enrolment.secret)
    totp.confirm(desk, code)
    with pytest.raises(AuthenticationFailed, match="already used"):
        accounts.authenticate("desk1", DEFAULT_PASSWORD, code)


def test_a_code_one_step_early_or_late_works_two_steps_do_not(enrolled, frozen_clock):
    secret = enrolled
    clock.set_now(frozen_clock + 10 * STEP)
    for offset in (-2, 2):
        with pytest.raises(AuthenticationFailed, match="invalid two-factor code"):
            accounts.authenticate("desk1", DEFAULT_PASSWORD, code_at(secret, offset))
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD, code_at(secret, 1)).username == "desk1"
    # The next step's code was used: codes of earlier steps, still in the window, cannot follow it ...
    for offset in (0, -1):
        with pytest.raises(AuthenticationFailed, match="already used"):
            accounts.authenticate("desk1", DEFAULT_PASSWORD, code_at(secret, offset))
    # ... but a later one can.
    clock.set_now(frozen_clock + 12 * STEP)
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD, code_at(secret, 0)).username == "desk1"
    assert User.get(User.username == "desk1").totp_last_step == pyotp.TOTP(secret).timecode(clock.now())


def test_wrong_codes_count_towards_the_lockout(enrolled):
    wrong = f"{(int(code_at(enrolled)) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(AuthenticationFailed, match="invalid two-factor code"):
            accounts.authenticate("desk1", DEFAULT_PASSWORD, wrong)
    with pytest.raises(AccountLocked):
        accounts.authenticate("desk1", DEFAULT_PASSWORD, wrong)
    with pytest.raises(AccountLocked):
        accounts.authenticate("desk1", DEFAULT_PASSWORD, code_at(enrolled))


def test_a_wrong_password_is_refused_before_the_code_is_looked_at(enrolled):
    with pytest.raises(AuthenticationFailed, match="invalid username or password"):
        accounts.authenticate("desk1", "wrong-password-1", code_at(enrolled))
    assert User.get(User.username == "desk1").totp_last_step < pyotp.TOTP(enrolled).timecode(clock.now())


def test_two_factor_is_for_staff(db):
    patient_user = make_user("patient", "ann")
    make_patient(user=patient_user)
    with pytest.raises(PermissionDenied) as refused:
        totp.begin(actor_for(patient_user))
    assert refused.value.message == "permission denied: two-factor codes are for staff accounts"


def test_enabling_twice_is_refused_and_disable_turns_it_off(enrolled, desk):
    with pytest.raises(Refused, match="two-factor is already on for desk1"):
        totp.begin(desk)
    assert totp.disable(desk) is True
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"
    assert totp.disable(desk) is False


def test_an_admin_turns_it_off_for_someone_who_lost_their_phone(enrolled, desk):
    admin = actor_for(make_user("admin", "admin1"))
    other = actor_for(make_user("doctor", "drgrey"))
    with pytest.raises(PermissionDenied):
        totp.disable(other, "desk1")
    assert totp.disable(admin, "desk1") is True
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"


def test_a_confirmation_code_must_be_six_digits(desk):
    totp.begin(desk)
    with pytest.raises(BadInput, match="6 digits"):
        totp.confirm(desk, "12345")
