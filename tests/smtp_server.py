"""Real SMTP servers on 127.0.0.1 for the mail tests (aiosmtpd), and helpers to point the app at them.

aiosmtpd 1.4.6's Controller cannot bind port 0, so ``free_port`` binds a socket first and hands
its port over. Handlers: ``Accepting`` (keeps every message), ``FailingFirst`` (answers 4xx to
the first N messages, then accepts), ``Rejecting`` (answers 5xx). ``Silent`` accepts the TCP
connection and never says a word, for the timeout tests. ``SmtpServer`` passes further keywords to
aiosmtpd (``tls_context`` for STARTTLS, ``ssl_context`` for implicit TLS, ``authenticator``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from clinic_desk import config
from clinic_desk.config import SmtpSettings

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class Accepting:
    """Accepts every message (after ``delay`` seconds, to make concurrent senders overlap)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[Received] = []
        self.answered = 0  # DATA commands seen, accepted or not
        self._lock = threading.Lock()

    def reply(self, number: int) -> str:
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.answered += 1
            number = self.answered
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = self.reply(number)
        if reply.startswith("250"):
            message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            with self._lock:
                self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return reply


class FailingFirst(Accepting):
    """Answers the first ``failures`` messages with a temporary 451, then accepts."""

    def __init__(self, failures: int = 1) -> None:
        super().__init__()
        self.failures = failures

    def reply(self, number: int) -> str:
        return "451 4.3.0 Mailbox busy, try again later" if number <= self.failures else "250 OK"


class Rejecting(Accepting):
    """Answers every message with a permanent 550."""

    def reply(self, number: int) -> str:
        return "550 5.1.1 No such user here"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 with one handler; a context manager."""

    def __init__(self, handler: Accepting, port: int | None = None, **aiosmtpd_options: object) -> None:
        self.handler = handler
        self.port = port or free_port()
        self._controller = Controller(handler, hostname=HOST, port=self.port, **aiosmtpd_options)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


class Credentials:
    """An aiosmtpd authenticator that knows one login and password and notes who tried."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login, password
        self.tried: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tried.append(login)
        return AuthResult(success=(login, password) == (self.login, self.password), handled=False)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made by the openssl command; the test is skipped without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key


def server_tls_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context


class Silent:
    """Accepts TCP connections (the kernel completes the handshake) and never answers."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((HOST, 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._socket.close()


def use_smtp(port: int, **overrides: object) -> SmtpSettings:
    """Point this process's settings at 127.0.0.1:``port`` (plain SMTP) and return the SMTP part."""
    smtp = SmtpSettings(
        host=HOST,
        port=port,
        security="none",
        sender="desk@clinic.test",
        timeout_s=5.0,
        max_attempts=3,
        backoff_s=60.0,
    )
    smtp = replace(smtp, **overrides)
    config.use(replace(config.current(), smtp=smtp))
    return smtp


def smtp_env(port: int, **overrides: str) -> dict[str, str]:
    """The same, as environment variables for the CLI (in-process or a child process)."""
    env = {
        "CLINIC_DESK_SMTP_HOST": HOST,
        "CLINIC_DESK_SMTP_PORT": str(port),
        "CLINIC_DESK_SMTP_SECURITY": "none",
        "CLINIC_DESK_SMTP_FROM": "desk@clinic.test",
        "CLINIC_DESK_SMTP_TIMEOUT_S": "5",
        "CLINIC_DESK_SMTP_MAX_ATTEMPTS": "3",
    }
    env.update({f"CLINIC_DESK_SMTP_{key.upper()}": value for key, value in overrides.items()})
    return env


def run_cli_at_once(args: list[str], env: dict[str, str], processes: int = 2) -> list[int | None]:
    """Run ``clinic-desk ARGS`` in ``processes`` spawned processes that start together; their exit codes."""
    context = multiprocessing.get_context("spawn")
    start_line = context.Barrier(processes)
    children = [context.Process(target=_cli_child, args=(args, env, start_line)) for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        if child.is_alive():
            child.terminate()
            child.join()
    return [child.exitcode for child in children]


def _cli_child(args: list[str], env: dict[str, str], start_line) -> None:
    os.environ.update(env)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # never the user's keyring
    from clinic_desk.cli import run
    from clinic_desk.commands import build_app

    build_app()  # every command module imported before the start line
    start_line.wait(timeout=60)
    sys.exit(run(args))


@pytest.fixture
def smtp_server(db) -> Iterator[SmtpServer]:
    """An accepting server on 127.0.0.1, already set as this process's SMTP settings."""
    with SmtpServer(Accepting()) as server:
        use_smtp(server.port)
        yield server
