"""One-time codes by email: verification and password reset (services/onetime.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from clinic_desk.errors import AuthenticationFailed, BadInput, Refused
from clinic_desk.services import accounts, clock, onetime
from clinic_desk.store.models import AuditEvent, OneTimeCode, Outbox, User
from tests.factories import DEFAULT_PASSWORD, actor_for, make_user

NEW_PASSWORD = "lantern-orbit-copper"


def mailed_code(to: str) -> str:
    """The code in the newest one-time-code mail to ``to``: what its owner reads."""
    mail = (
        Outbox.select()
        .where((Outbox.to_addr == to) & (Outbox.kind == "one_time_code"))
        .order_by(Outbox.id.desc())
        .get()
    )
    return re.search(r"\b(\d{6})\b", mail.text_body).group(1)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def desk(db, frozen_clock):
    return make_user("reception", "desk1", email="desk1@example.test")


def verified(user) -> bool:
    return User.get_by_id(user.id).email_verified_at is not None


def test_a_code_is_six_digits_mailed_and_stored_only_as_a_hash(desk):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    row = OneTimeCode.get(OneTimeCode.user == desk.id)
    assert re.fullmatch(r"\d{6}", code)
    assert row.code_hash.startswith("$argon2id$") and code not in row.code_hash
    assert row.expires_at == clock.now() + timedelta(minutes=10)
    assert Outbox.get(Outbox.to_addr == "desk1@example.test").subject == "Test Clinic: your code for verifying your email address"


def test_the_right_code_verifies_the_email_once(desk):
    onetime.request_code("desk1@example.test", "verify_email")
    code = mailed_code("desk1@example.test")

    onetime.verify_email("desk1", code)

    assert verified(desk)
    with pytest.raises(Refused) as reused:
        onetime.verify_email("desk1", code)
    assert reused.value.message == "code already used: ask for a new one"


def test_a_wrong_code_is_refused_and_counted(desk):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    with pytest.raises(Refused) as wrong:
        onetime.verify_email("desk1", other_than(code))
    assert wrong.value.message == "wrong code"
    assert OneTimeCode.get(OneTimeCode.user == desk.id).attempts == 1
    assert not verified(desk)
    onetime.verify_email("desk1", code)
    assert verified(desk)


def test_an_expired_code_is_refused(desk, frozen_clock):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    clock.set_now(frozen_clock + timedelta(minutes=10))
    with pytest.raises(Refused) as expired:
        onetime.verify_email("desk1", code)
    assert expired.value.message == "code expired: ask for a new one"
    assert not verified(desk)


def test_a_code_still_works_just_before_it_expires(desk, frozen_clock):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    clock.set_now(frozen_clock + timedelta(minutes=9, seconds=59))
    onetime.verify_email("desk1", code)
    assert verified(desk)


def test_the_sixth_attempt_is_refused_even_with_the_right_code(desk):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    for _ in range(5):
        with pytest.raises(Refused, match="^wrong code$"):
            onetime.verify_email("desk1", other_than(code))
    with pytest.raises(Refused) as sixth:
        onetime.verify_email("desk1", code)
    assert sixth.value.message == "too many attempts with this code: ask for a new one"
    assert not verified(desk)
    assert OneTimeCode.get(OneTimeCode.user == desk.id).attempts == 5


def test_a_new_code_replaces_the_old_one(desk):
    onetime.request_code("desk1", "verify_email")
    first = mailed_code("desk1@example.test")
    onetime.request_code("desk1", "verify_email")
    second = mailed_code("desk1@example.test")
    if first != second:  # one chance in a million that they are the same code
        with pytest.raises(Refused, match="^wrong code$"):
            onetime.verify_email("desk1", first)
    onetime.verify_email("desk1", second)
    assert verified(desk)


def test_codes_of_one_purpose_do_not_work_for_another(desk):
    onetime.request_code("desk1", "verify_email")
    code = mailed_code("desk1@example.test")
    with pytest.raises(Refused, match="^wrong code$"):
        onetime.reset_password("desk1", code, NEW_PASSWORD)
    assert accounts.authenticate("desk1", DEFAULT_PASSWORD).username == "desk1"


def test_at_most_five_codes_an_hour_and_the_sixth_request_is_dropped_quietly(desk, frozen_clock):
    """Quietly, as for an account that does not exist: the answer never tells who has one."""
    for _ in range(6):
        onetime.request_code("desk1", "reset_password")
        onetime.request_code("nobody", "reset_password")
    assert Outbox.select().where(Outbox.to_addr == "desk1@example.test").count() == 5
    clock.set_now(frozen_clock + timedelta(hours=1, seconds=1))
    onetime.request_code("desk1", "reset_password")
    assert Outbox.select().where(Outbox.to_addr == "desk1@example.test").count() == 6


def test_a_wrong_code_is_just_wrong_whatever_happened_to_the_real_one(desk, frozen_clock):
    """"expired" or "already used" would tell a guesser that the account exists."""
    onetime.request_code("desk1", "reset_password")
    code = mailed_code("desk1@example.test")
    clock.set_now(frozen_clock + timedelta(hours=2))
    for login in ("desk1", "nobody"):
        with pytest.raises(Refused) as refused:
            onetime.reset_password(login, other_than(code), NEW_PASSWORD)
        assert refused.value.message == "wrong code"
    with pytest.raises(Refused, match="code expired"):
        onetime.reset_password("desk1", code, NEW_PASSWORD)  # whoever has the code learns why


def test_a_code_must_look_like_a_code(desk):
    onetime.request_code("desk1", "verify_email")
    with pytest.raises(BadInput, match="a code is 6 digits"):
        onetime.verify_email("desk1", "12ab56")
    assert OneTimeCode.get(OneTimeCode.user == desk.id).attempts == 0


def test_reset_password_sets_the_new_one_ends_sessions_and_clears_a_lock(desk, frozen_clock):
    token = accounts.start_session(actor_for(desk), remember=True)
    User.update(failed_logins=3, locked_until=frozen_clock + timedelta(minutes=10)).where(User.id == desk.id).execute()
    onetime.request_code("desk1", "reset_password")

    onetime.reset_password("desk1", mailed_code("desk1@example.test"), NEW_PASSWORD)

    assert accounts.authenticate("desk1", NEW_PASSWORD).username == "desk1"
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("desk1", DEFAULT_PASSWORD)
    with pytest.raises(AuthenticationFailed, match="session expired or ended"):
        accounts.actor_for_session(token)
    assert User.get_by_id(desk.id).password_hash.startswith("$argon2id$")


def test_reset_password_checks_the_new_password_before_spending_an_attempt(desk):
    onetime.request_code("desk1", "reset_password")
    code = mailed_code("desk1@example.test")
    with pytest.raises(BadInput, match="password too short"):
        onetime.reset_password("desk1", code, "short")
    assert OneTimeCode.get(OneTimeCode.user == desk.id).attempts == 0
    onetime.reset_password("desk1", code, NEW_PASSWORD)


def test_an_unknown_or_inactive_account_gets_no_mail_and_no_hint(desk):
    make_user("reception", "gone1", email="gone1@example.test", is_active=False)
    onetime.request_code("nobody", "reset_password")
    onetime.request_code("gone1", "reset_password")
    assert Outbox.select().count() == 0
    for login in ("nobody", "gone1"):
        with pytest.raises(Refused) as refused:
            onetime.reset_password(login, "123456", NEW_PASSWORD)
        assert refused.value.message == "wrong code"


def test_audit_records_codes_without_the_code(desk):
    onetime.request_code("desk1", "reset_password")
    code = mailed_code("desk1@example.test")
    with pytest.raises(Refused):
        onetime.reset_password("desk1", other_than(code), NEW_PASSWORD)
    onetime.reset_password("desk1", code, NEW_PASSWORD)
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert [e.action for e in events] == ["code_sent", "code_refused", "password_reset"]
    # Asking for a code and guessing one needs no login: they are nobody's doing but "anonymous".
    assert [e.actor_name for e in events] == ["anonymous", "anonymous", "desk1"]
    for event in events:
        assert code not in event.details and other_than(code) not in event.details
        assert NEW_PASSWORD not in event.details
