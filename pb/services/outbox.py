"""The mail outbox: queue a message in the caller's transaction, deliver due messages later.

Any feature that mails someone calls :func:`queue_mail` with the subject and body already
rendered in the recipient's language, inside the transaction of the change that causes the
mail: if that transaction rolls back, the mail is never sent. A worker calls
:func:`deliver_due`, which claims due mails (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, and on every backend an UPDATE that only succeeds on a mail still due, so two
workers never both send one), hands each to the transport outside any transaction, and
records the outcome: sent, retried later with a growing delay, or failed for good.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from pb.mail import MailError, Transport
from pb.models import MailStatus, OutboxMail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # with the delays below: about two hours before giving up
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600
CLAIM_SECONDS = 300  # longer than any SMTP exchange; a claim not settled by then is due again
BATCH_SIZE = 50
SUBJECT_LENGTH = 255
ERROR_LENGTH = 500

_DUE_STATUSES = (MailStatus.PENDING, MailStatus.SENDING)


def queue_mail(session: Session, to: str, subject: str, body: str, now: datetime) -> OutboxMail:
    """Add a plain-text mail to the outbox in the session's transaction (flushed, not committed)."""
    subject, body = str(subject), str(body)
    if "\n" in subject or "\r" in subject or len(subject) > SUBJECT_LENGTH:
        raise ValueError("a mail subject is one line of at most 255 characters")
    mail = OutboxMail(
        recipient=to,
        subject=subject,
        body=body,
        status=MailStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(mail)
    session.flush()
    return mail


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS))


@dataclass(frozen=True)
class _Claimed:
    id: int
    token: str
    attempts: int
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: datetime):
    return and_(OutboxMail.status.in_(_DUE_STATUSES), OutboxMail.next_attempt_at <= now)


def _claim(session_factory: Callable[[], Session], now: datetime, limit: int) -> list[_Claimed]:
    token = secrets.token_hex(16)
    with session_factory() as session, session.begin():
        ids = session.scalars(
            select(OutboxMail.id)
            .where(_due(now))
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
        ).all()
        if not ids:
            return []
        # Only a mail that is still due is taken: a worker that lost a race updates nothing.
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(ids), _due(now))
            .values(
                status=MailStatus.SENDING,
                claim_token=token,
                attempts=OutboxMail.attempts + 1,
                last_attempt_at=now,
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(
                OutboxMail.id, OutboxMail.attempts, OutboxMail.recipient, OutboxMail.subject, OutboxMail.body
            )
            .where(OutboxMail.claim_token == token)
            .order_by(OutboxMail.id)
        ).all()
    return [_Claimed(row.id, token, row.attempts, row.recipient, row.subject, row.body) for row in rows]


def _settle(session_factory: Callable[[], Session], mail: _Claimed, **values) -> None:
    with session_factory() as session, session.begin():
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail.id, OutboxMail.claim_token == mail.token)
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )


def deliver_due(
    session_factory: Callable[[], Session], transport: Transport, now: datetime, limit: int = BATCH_SIZE
) -> DeliveryReport:
    """Send every mail due at ``now`` (at most ``limit``); each outcome is committed on its own."""
    claimed = _claim(session_factory, now, limit)
    sent = retrying = failed = 0
    for mail in claimed:
        try:
            transport.send(mail.recipient, mail.subject, mail.body)
        except Exception as error:
            permanent = isinstance(error, MailError) and error.permanent
            if not isinstance(error, MailError):
                log.exception("mail %d: unexpected error from the transport", mail.id)
            message = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
            if permanent or mail.attempts >= MAX_ATTEMPTS:
                failed += 1
                log.error("mail %d failed for good after %d attempts: %s", mail.id, mail.attempts, message)
                # The body may hold a one-time link: it is kept only while the mail may still be sent.
                _settle(session_factory, mail, status=MailStatus.FAILED, body="", last_error=message)
            else:
                retrying += 1
                log.warning("mail %d attempt %d failed, will retry: %s", mail.id, mail.attempts, message)
                _settle(
                    session_factory,
                    mail,
                    status=MailStatus.PENDING,
                    next_attempt_at=now + retry_delay(mail.attempts),
                    last_error=message,
                )
        else:
            sent += 1
            _settle(session_factory, mail, status=MailStatus.SENT, body="", sent_at=now, last_error=None)
    return DeliveryReport(claimed=len(claimed), sent=sent, retrying=retrying, failed=failed)


@dataclass(frozen=True)
class OutboxSummary:
    waiting: list[OutboxMail]  # pending or being sent, oldest first
    failed: list[OutboxMail]  # given up, latest attempt first
    waiting_total: int
    failed_total: int


def undelivered_mail(session: Session, limit: int = 100) -> OutboxSummary:
    """Mail not sent yet and mail given up, for the admins (bodies are not for display)."""
    totals = dict(
        session.execute(
            select(OutboxMail.status, func.count()).where(OutboxMail.status != MailStatus.SENT).group_by(
                OutboxMail.status
            )
        ).all()
    )
    waiting = session.scalars(
        select(OutboxMail)
        .where(OutboxMail.status.in_(_DUE_STATUSES))
        .order_by(OutboxMail.created_at, OutboxMail.id)
        .limit(limit)
    ).all()
    failed = session.scalars(
        select(OutboxMail)
        .where(OutboxMail.status == MailStatus.FAILED)
        .order_by(OutboxMail.last_attempt_at.desc(), OutboxMail.id.desc())
        .limit(limit)
    ).all()
    return OutboxSummary(
        waiting=list(waiting),
        failed=list(failed),
        waiting_total=sum(totals.get(status, 0) for status in _DUE_STATUSES),
        failed_total=totals.get(MailStatus.FAILED, 0),
    )
