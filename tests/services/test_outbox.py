"""The mail outbox, delivered to a real SMTP server (aiosmtpd) listening on this machine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pb.mail import MailError, SmtpTransport
from pb.models import MailStatus, OutboxMail
from pb.services.outbox import CLAIM_SECONDS, MAX_ATTEMPTS, deliver_due, queue_mail, retry_delay
from tests.smtp import free_port, smtp_inbox

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LINK = "https://pb.example.org/account/reset-password/secret-token"


@pytest.fixture
def inbox():
    with smtp_inbox() as handler:
        yield handler


@pytest.fixture
def transport(inbox):
    return SmtpTransport(sender="budget@example.org", server="127.0.0.1", port=inbox.port, use_tls=False)


@pytest.fixture
def factory(app):
    return app.extensions["pb.db"].session_factory


def queued(session, to="amira@example.org", subject="Choose a new password", body=f"Open {LINK}"):
    mail = queue_mail(session, to, subject, body, NOW)
    session.commit()
    return mail


def stored(session, mail) -> OutboxMail:
    session.expire_all()
    return session.get(OutboxMail, mail.id)


def test_a_queued_mail_reaches_the_server_and_its_body_is_then_erased(session, factory, transport, inbox):
    mail = queued(session)
    report = deliver_due(factory, transport, NOW)
    assert (report.claimed, report.sent) == (1, 1)
    (message,) = inbox.messages
    assert message["To"] == "amira@example.org" and message["From"] == "budget@example.org"
    assert message["Subject"] == "Choose a new password"
    assert LINK in message.get_content()
    row = stored(session, mail)
    assert (row.status, row.attempts, row.sent_at, row.body) == (MailStatus.SENT, 1, NOW, "")
    assert deliver_due(factory, transport, NOW + timedelta(days=1)).claimed == 0
    assert len(inbox.messages) == 1


def test_a_temporary_refusal_is_retried_later_and_then_succeeds(session, factory, transport, inbox):
    mail = queued(session)
    inbox.answers = ["451 4.3.0 Try again later"]
    report = deliver_due(factory, transport, NOW)
    assert (report.sent, report.retrying) == (0, 1)
    row = stored(session, mail)
    assert row.status is MailStatus.PENDING and row.attempts == 1
    assert "451" in row.last_error
    assert row.next_attempt_at == NOW + retry_delay(1) == NOW + timedelta(minutes=1)
    assert row.body  # still needed for the next attempt

    assert deliver_due(factory, transport, NOW + timedelta(seconds=59)).claimed == 0
    assert deliver_due(factory, transport, NOW + timedelta(seconds=60)).sent == 1
    assert len(inbox.messages) == 1
    row = stored(session, mail)
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 2, None)


def test_a_permanent_refusal_is_recorded_as_failed(session, factory, transport, inbox):
    mail = queued(session)
    inbox.answers = ["550 5.1.1 No such mailbox"]
    assert deliver_due(factory, transport, NOW).failed == 1
    row = stored(session, mail)
    assert row.status is MailStatus.FAILED and row.attempts == 1
    assert "550" in row.last_error and "No such mailbox" in row.last_error
    assert row.body == ""
    assert deliver_due(factory, transport, NOW + timedelta(days=1)).claimed == 0
    assert inbox.messages == []


def test_a_server_that_stays_away_makes_the_mail_fail_after_the_last_attempt(session, factory):
    mail = queued(session)
    closed = SmtpTransport(sender="budget@example.org", server="127.0.0.1", port=free_port(), use_tls=False)
    moment = NOW
    for attempt in range(1, MAX_ATTEMPTS):
        assert deliver_due(factory, closed, moment).retrying == 1
        moment += retry_delay(attempt)
    assert deliver_due(factory, closed, moment).failed == 1
    row = stored(session, mail)
    assert (row.status, row.attempts) == (MailStatus.FAILED, MAX_ATTEMPTS)
    assert "Connection refused" in row.last_error or "ConnectionRefusedError" in row.last_error


def test_a_mail_queued_in_a_transaction_that_rolls_back_is_never_sent(session, factory, transport, inbox):
    queue_mail(session, "amira@example.org", "Choose a new password", f"Open {LINK}", NOW)
    session.rollback()
    queued(session, to="kept@example.org")
    assert deliver_due(factory, transport, NOW + timedelta(hours=1)).sent == 1
    assert [message["To"] for message in inbox.messages] == ["kept@example.org"]
    assert session.scalars(select(OutboxMail.recipient)).all() == ["kept@example.org"]


class RecordingTransport:
    def __init__(self, pause: float = 0.0) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()
        self.pause = pause

    def send(self, to, subject, body):
        threading.Event().wait(self.pause)
        with self.lock:
            self.sent.append(to)


def test_workers_running_at_once_never_send_a_mail_twice(session, factory):
    for number in range(30):
        queue_mail(session, f"voter{number}@example.org", "Hello", "Body", NOW)
    session.commit()
    transport = RecordingTransport(pause=0.005)
    errors: list[BaseException] = []

    def work():
        try:
            while deliver_due(factory, transport, NOW, limit=3).claimed:
                pass
        except BaseException as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []
    assert sorted(transport.sent) == sorted(f"voter{number}@example.org" for number in range(30))
    assert set(session.scalars(select(OutboxMail.status))) == {MailStatus.SENT}


def test_a_claimed_mail_is_not_taken_again_until_its_claim_expires(session, factory):
    mail = queued(session)

    class SlowWorker:
        """Claims the mail, and while it is 'sending', another worker looks at the outbox."""

        def __init__(self):
            self.seen_by_other = None

        def send(self, to, subject, body):
            other = RecordingTransport()
            self.seen_by_other = deliver_due(factory, other, NOW + timedelta(seconds=CLAIM_SECONDS - 1))

    slow = SlowWorker()
    assert deliver_due(factory, slow, NOW).sent == 1
    assert slow.seen_by_other.claimed == 0
    assert stored(session, mail).status is MailStatus.SENT


def test_an_expired_claim_is_taken_over_and_the_late_worker_cannot_overwrite_it(session, factory):
    mail = queued(session)
    taken_over = RecordingTransport()

    class DyingWorker:
        def send(self, to, subject, body):
            # This worker hangs past its claim; another one takes the mail over and sends it.
            deliver_due(factory, taken_over, NOW + timedelta(seconds=CLAIM_SECONDS))
            raise MailError("timed out", permanent=True)

    deliver_due(factory, DyingWorker(), NOW)
    assert taken_over.sent == ["amira@example.org"]
    row = stored(session, mail)
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 2, None)


def test_a_subject_is_one_line(session):
    with pytest.raises(ValueError, match="one line"):
        queue_mail(session, "amira@example.org", "Hello\nBcc: everyone@example.org", "Body", NOW)
