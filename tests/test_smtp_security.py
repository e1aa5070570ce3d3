"""STARTTLS, implicit TLS and login with the password from the keyring or the environment."""

from __future__ import annotations

import pytest

from clinic_desk.services import notify
from clinic_desk.store.models import Outbox
from tests.factories import login_env, make_user
from tests.smtp_server import (
    Accepting,
    Credentials,
    SmtpServer,
    self_signed_certificate,
    server_tls_context,
    smtp_env,
)


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A certificate for 127.0.0.1 that this process's TLS clients trust (SSL_CERT_FILE)."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return server_tls_context(cert, key)


@pytest.fixture
def queued(db) -> int:
    make_user("reception", "desk")
    return notify.queue(
        "one_time_code", "ann@example.test", {"full_name": "Ann", "purpose_text": "signing in", "code": "1", "minutes": 9}
    ).id


def _send(cli, port: int, **smtp: str):
    return cli("mail", "send", env={**login_env("desk"), **smtp_env(port, **smtp)})


def test_starttls_and_login_with_the_password_from_the_keyring(queued, cli, certificate, isolated_environment):
    isolated_environment.set_password("clinic-desk", "smtp-password", "s3cret")
    credentials = Credentials("mailer", "s3cret")
    server = SmtpServer(Accepting(), tls_context=certificate, require_starttls=True, authenticator=credentials)
    with server:
        result = _send(cli, server.port, security="starttls", username="mailer")
    assert result.out.startswith("sent 1,"), result.out + result.err
    assert credentials.tried == ["mailer"]
    assert [got.rcpt_tos for got in server.received] == [("ann@example.test",)]


def test_a_wrong_password_keeps_the_mail_pending_with_the_servers_reply(queued, cli, certificate):
    credentials = Credentials("mailer", "s3cret")
    server = SmtpServer(Accepting(), tls_context=certificate, require_starttls=True, authenticator=credentials)
    with server:
        result = _send(cli, server.port, security="starttls", username="mailer", password="wrong")
    assert result.code == 0 and result.out.startswith("sent 0, will retry 1")
    assert "535" in result.err
    row = Outbox.get_by_id(queued)
    assert row.status == "pending" and row.last_error.startswith("535 ")
    assert server.received == []


def test_implicit_tls(queued, cli, certificate):
    with SmtpServer(Accepting(), ssl_context=certificate) as server:
        result = _send(cli, server.port, security="ssl")
    assert result.out.startswith("sent 1,"), result.out + result.err
    assert len(server.received) == 1


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(queued, cli, tmp_path):
    cert, key = self_signed_certificate(tmp_path)  # not made trusted
    with SmtpServer(Accepting(), ssl_context=server_tls_context(cert, key)) as server:
        result = _send(cli, server.port, security="ssl")
    assert result.out.startswith("sent 0, will retry 1")
    row = Outbox.get_by_id(queued)
    assert row.status == "pending" and "TLS" in row.last_error and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert server.received == []


def test_starttls_is_required_when_configured(queued, cli):
    with SmtpServer(Accepting()) as server:  # offers no STARTTLS
        result = _send(cli, server.port, security="starttls")
    assert result.out.startswith("sent 0, will retry 1")
    assert "STARTTLS" in Outbox.get_by_id(queued).last_error
    assert server.received == []
