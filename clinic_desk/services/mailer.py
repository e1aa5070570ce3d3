"""Delivering the outbox over SMTP: claim, send outside any transaction, record each outcome.

A message moves ``pending`` -> ``sending`` (claimed with a lease) -> ``sent``; a temporary failure
(4xx reply, connection refused, timeout) puts it back to ``pending`` with the next attempt pushed
back exponentially; a 5xx reply, or ``smtp.max_attempts`` attempts, make it ``failed``.

Two senders never deliver one message twice: rows are claimed in a short write transaction
(PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``; SQLite: the ``BEGIN IMMEDIATE`` transaction
serialises claims) and marked ``sending`` until ``claimed_until``. Each outcome is recorded right
after its message, and only while the lease is still ours. A sender that dies mid-batch leaves its
rows ``sending``; once the lease has run out they are due again, so nothing is lost.
"""

from __future__ import annotations

import math
import smtplib
import ssl
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from .. import config
from ..config import SmtpSettings
from ..errors import Refused
from ..store.db import is_postgres
from ..store.models import Outbox
from . import clock, ics, notify, policy
from .actors import SYSTEM, Actor
from .tx import writes

BATCH = 20
# Right after a command: the longest the CLI or TUI waits on SMTP, and how much it sends then.
AFTER_COMMIT_BUDGET_S = 4.0
AFTER_COMMIT_TIMEOUT_S = 2.0
AFTER_COMMIT_BATCH = 10
MAX_BACKOFF = timedelta(days=1)
# The lease must outlast the slowest batch: each round trip may take up to smtp.timeout_s.
_SESSION_ROUND_TRIPS = 5  # greeting, EHLO, STARTTLS, EHLO, AUTH
_MESSAGE_ROUND_TRIPS = 4  # MAIL, RCPT, DATA, the message
_LEASE_MARGIN_S = 60.0
_ERROR_CHARS = 1000
_CODE_REMOVED = "(a one-time code: its text is removed from the outbox once the mail has been sent or has failed)"


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # temporary failures, back to pending for a later attempt
    failed: int = 0
    last_error: str = ""


def deliver_due(limit: int | None = None, *, actor: Actor = SYSTEM) -> DeliveryReport:
    """Send every message that is due (at most ``limit``): ``clinic-desk mail send``."""
    policy.require(actor, "mail.manage")
    settings = config.current().smtp
    if not settings.host:
        raise Refused("no SMTP server configured (set smtp.host or CLINIC_DESK_SMTP_HOST); mail stays queued")
    return _deliver(settings, limit=limit, deadline=math.inf)


def deliver_after_commit() -> DeliveryReport | None:
    """After a command that queued mail: try to send what is due, within a few seconds at most.

    Never raises. Without an SMTP host it does nothing and the mail waits for ``mail send``.
    """
    notify.queued_in_process = 0
    settings = config.current().smtp
    if not settings.host:
        return None
    try:
        quick = replace(settings, timeout_s=min(settings.timeout_s, AFTER_COMMIT_TIMEOUT_S))
        return _deliver(quick, limit=AFTER_COMMIT_BATCH, deadline=time.monotonic() + AFTER_COMMIT_BUDGET_S)
    except Exception as exc:  # noqa: BLE001 - the command succeeded; its mail stays in the outbox
        from ..logfile import log_exception

        log_exception(exc)
        return None


def build_message(row: Outbox, settings: SmtpSettings) -> EmailMessage:
    """The MIME message: text, its HTML alternative, and the attachments (the .ics)."""
    message = EmailMessage()
    message["From"] = formataddr((settings.sender_name or config.current().clinic.name, settings.sender_address))
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = f"<outbox-{row.id}.{row.created_at:%Y%m%d%H%M%S}@{ics.clinic_host()}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for attachment in notify.attachments_of(row):
        kind, *parameters = (part.strip() for part in attachment.content_type.split(";"))
        maintype, _, subtype = kind.partition("/")
        params = dict(parameter.split("=", 1) for parameter in parameters if "=" in parameter)
        if maintype == "text":
            message.add_attachment(attachment.content, subtype=subtype, filename=attachment.filename, params=params)
        else:
            message.add_attachment(
                attachment.content.encode("utf-8"), maintype=maintype, subtype=subtype, filename=attachment.filename
            )
    return message


# -- the run -------------------------------------------------------------------------


def _deliver(settings: SmtpSettings, *, limit: int | None, deadline: float) -> DeliveryReport:
    report = DeliveryReport()
    left = math.inf if limit is None else limit
    while left > 0 and time.monotonic() < deadline:
        size = int(min(BATCH, left))
        batch = _claim(size, _lease_seconds(settings, size))
        if not batch:
            break
        left -= len(batch)
        if not _send_batch(settings, batch, report, deadline):
            break  # the server is unreachable or went away: the rest waits for the next run
    return report


def _lease_seconds(settings: SmtpSettings, size: int) -> float:
    return _LEASE_MARGIN_S + settings.timeout_s * (_SESSION_ROUND_TRIPS + _MESSAGE_ROUND_TRIPS * size)


@writes
def _claim(size: int, lease_s: float) -> list[Outbox]:
    """Mark up to ``size`` due messages ``sending`` for this sender and return them."""
    now = clock.now()
    due = ((Outbox.status == "pending") & (Outbox.next_attempt_at <= now)) | (
        (Outbox.status == "sending") & (Outbox.claimed_until < now)
    )
    query = Outbox.select(Outbox.id).where(due).order_by(Outbox.next_attempt_at, Outbox.id).limit(size)
    if is_postgres():
        query = query.for_update(skip_locked=True)
    ids = [row.id for row in query]
    if not ids:
        return []
    Outbox.update(status="sending", claimed_until=now + timedelta(seconds=lease_s)).where(Outbox.id.in_(ids)).execute()
    return list(Outbox.select().where(Outbox.id.in_(ids)).order_by(Outbox.id))


def _send_batch(settings: SmtpSettings, batch: list[Outbox], report: DeliveryReport, deadline: float) -> bool:
    """Send the claimed rows over one connection; False when the server failed us midway."""
    try:
        session = _open(settings, deadline)
    except (OSError, smtplib.SMTPException) as exc:
        error = _describe(exc, settings)
        for row in batch:
            _temporary(row, error, settings, report)
        return False
    try:
        for index, row in enumerate(batch):
            if time.monotonic() >= deadline:
                _release(batch[index:])
                return False
            try:
                message = build_message(row, settings)
            except (ValueError, TypeError) as exc:  # stored data no mail can be made of: retrying won't help
                _finish(row, report, status="failed", error=f"cannot build the message: {exc}")
                continue
            try:
                # The envelope names the patient alone: never what else a To header might list.
                session.send_message(message, from_addr=settings.sender_address, to_addrs=[row.to_addr])
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                _replied(row, code, reply, settings, report)
                if code == 421:  # the server is closing the connection: the rest was never tried
                    _release(batch[index + 1 :])
                    return False
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                _replied(row, exc.smtp_code, exc.smtp_error, settings, report)
                if exc.smtp_code == 421:  # the server is closing the connection
                    _release(batch[index + 1 :])
                    return False
            except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address, no SMTPUTF8
                _finish(row, report, status="failed", error=str(exc))
            except (OSError, smtplib.SMTPException) as exc:
                _temporary(row, _describe(exc, settings), settings, report)
                _release(batch[index + 1 :])
                return False
            else:
                _finish(row, report, status="sent")
        return True
    finally:
        _close(session)


def _replied(row: Outbox, code: int, reply: bytes | str, settings: SmtpSettings, report: DeliveryReport) -> None:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error = f"{code} {' '.join(text.split())}"
    if 500 <= code < 600:
        _finish(row, report, status="failed", error=error)
    else:
        _temporary(row, error, settings, report)


def _temporary(row: Outbox, error: str, settings: SmtpSettings, report: DeliveryReport) -> None:
    attempts = row.attempts + 1
    if attempts >= settings.max_attempts:
        _finish(row, report, status="failed", error=f"{error} (gave up after {attempts} attempts)")
        return
    wait = min(MAX_BACKOFF, timedelta(seconds=settings.backoff_s * 2 ** min(attempts - 1, 32)))
    _finish(row, report, status="pending", error=error, next_attempt_at=clock.now() + wait)


def _finish(row: Outbox, report: DeliveryReport, *, status: str, error: str = "", **changes: Any) -> None:
    changes = {"status": status, "attempts": row.attempts + 1, "last_error": error[:_ERROR_CHARS], **changes}
    if status == "sent":
        changes["sent_at"] = clock.now()
    if row.kind == notify.ONE_TIME_CODE:  # gone from the database (and its backups) once it has gone out
        changes.update(text_body=_CODE_REMOVED, html_body="")
    if _record(row.id, row.claimed_until, changes):
        if status == "sent":
            report.sent += 1
        else:
            report.last_error = error
            if status == "failed":
                report.failed += 1
            else:
                report.retrying += 1


def _release(rows: list[Outbox]) -> None:
    """Hand back claimed rows that were not tried: due again at once, no attempt counted."""
    for row in rows:
        _record(row.id, row.claimed_until, {"status": "pending"})


@writes
def _record(outbox_id: int, lease: datetime, changes: dict[str, Any]) -> bool:
    """Write one outcome, only while this sender's lease on the row holds."""
    updated = (
        Outbox.update(**changes, claimed_until=None)
        .where((Outbox.id == outbox_id) & (Outbox.status == "sending") & (Outbox.claimed_until == lease))
        .execute()
    )
    return updated == 1


# -- SMTP ----------------------------------------------------------------------------


class _Deadline:
    """Caps every wait on the server at ``timeout`` and at what is left until ``deadline``."""

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)

    def _fit_timeout(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.settimeout(max(0.05, min(self.timeout, self.deadline - time.monotonic())))

    def connect(self, *args: Any, **kwargs: Any):
        try:
            return super().connect(*args, **kwargs)
        except BaseException:
            self.close()
            raise

    def send(self, s: Any) -> None:
        self._fit_timeout()
        super().send(s)

    def getreply(self):
        self._fit_timeout()
        return super().getreply()


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTPSSL(_Deadline, smtplib.SMTP_SSL):
    pass


def _open(settings: SmtpSettings, deadline: float) -> smtplib.SMTP:
    timeout = max(0.05, min(settings.timeout_s, deadline - time.monotonic()))
    if settings.security == "ssl":
        context = ssl.create_default_context()
        session: smtplib.SMTP = _SMTPSSL(settings.host, settings.port, timeout=timeout, deadline=deadline, context=context)
    else:
        session = _SMTP(settings.host, settings.port, timeout=timeout, deadline=deadline)
    try:
        session.ehlo()
        if settings.security == "starttls":
            session.starttls(context=ssl.create_default_context())
            session.ehlo()
        if settings.username:
            session.login(settings.username, config.smtp_password(config.current()))
    except BaseException:
        _close(session)
        raise
    return session


def _close(session: smtplib.SMTP) -> None:
    try:
        session.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        session.close()


def _describe(exc: BaseException, settings: SmtpSettings) -> str:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(text.split())} ({where})"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):  # smtplib wraps some
        return f"timed out waiting for the SMTP server {where}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the SMTP server {where} closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    if isinstance(exc, OSError):
        return f"cannot reach the SMTP server {where}: {exc.strerror or exc}"
    return f"{where}: {exc}"
