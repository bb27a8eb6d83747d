"""Handing e-mail to a transport, and the worker that delivers the outbox.

No request sends mail: a view queues it with :func:`pb.services.outbox.queue_mail` in the
transaction of the change that causes it, and a worker delivers it (``pb worker`` in
production, a thread of the web process in development, see :func:`start_delivery_thread`).

The ``console`` transport (development and tests) prints each message and keeps the latest
ones in :func:`console_messages`; the ``smtp`` transport hands it to the server named by the
``MAIL_*`` settings.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from flask import Flask

log = logging.getLogger(__name__)

CONSOLE_KEY = "pb.mail.console"
CONSOLE_SIZE = 100
SMTP_TIMEOUT_SECONDS = 15
THREAD_KEY = "pb.mail.thread"
THREAD_INTERVAL_SECONDS = 1.0


class MailError(Exception):
    """The message could not be handed over; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Mail:
    sender: str
    to: str
    subject: str
    body: str


class Transport(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Hand one plain-text message over, or raise :class:`MailError`."""


def console_messages(app: Flask) -> deque[Mail]:
    """The latest messages the console transport printed, oldest first."""
    return app.extensions.setdefault(CONSOLE_KEY, deque(maxlen=CONSOLE_SIZE))


@dataclass
class ConsoleTransport:
    sender: str
    printed: deque[Mail]

    def send(self, to: str, subject: str, body: str) -> None:
        mail = Mail(self.sender, to, subject, body)
        self.printed.append(mail)
        text = f"----- mail (console backend) -----\nFrom: {mail.sender}\nTo: {mail.to}\n"
        text += f"Subject: {mail.subject}\n\n{mail.body}\n----- end of mail -----"
        print(text, file=sys.stdout, flush=True)


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about the message or its recipient; a failed login is the site's problem, not the mail's."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


@dataclass
class SmtpTransport:
    sender: str
    server: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = True
    timeout: float = SMTP_TIMEOUT_SECONDS

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        return message

    def _connect(self) -> smtplib.SMTP:
        if self.port == 465:  # implicit TLS
            return smtplib.SMTP_SSL(
                self.server, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.server, self.port, timeout=self.timeout)

    def send(self, to: str, subject: str, body: str) -> None:
        try:
            with self._connect() as connection:
                if self.port != 465 and self.use_tls:
                    connection.starttls(context=ssl.create_default_context())
                if self.username:
                    connection.login(self.username, self.password)
                connection.send_message(self._message(to, subject, body))
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"{self.server}:{self.port}: {error}", permanent=_is_permanent(error)) from error


def transport_for(app: Flask) -> Transport:
    config = app.config
    if config["MAIL_BACKEND"] == "smtp":
        return SmtpTransport(
            sender=config["MAIL_SENDER"],
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
        )
    return ConsoleTransport(config["MAIL_SENDER"], console_messages(app))


def queue_notifications(app: Flask) -> int:
    """Queue the mail about followed proposals that people are due (see ``pb.services.notifications``)."""
    from flask import url_for

    from pb.services.notifications import send_notifications

    def link(proposal) -> str:
        return url_for("proposals.show_proposal", slug=proposal.cycle.slug, proposal_id=proposal.id, _external=True)

    database = app.extensions["pb.db"]
    context = app.test_request_context(base_url=app.config["PUBLIC_URL"] or None)
    with context, database.session_factory() as session, session.begin():
        return send_notifications(session, app.extensions["pb.clock"](), link)


def deliver_now(app: Flask):
    """One delivery round: the notifications people are due, then every mail that is due."""
    from pb.services.outbox import deliver_due

    try:
        queue_notifications(app)
    except Exception:  # news can wait for the next round; mail already queued must still go
        log.exception("queuing notifications failed")
    database = app.extensions["pb.db"]
    return deliver_due(database.session_factory, transport_for(app), app.extensions["pb.clock"]())


def start_delivery_thread(app: Flask, interval: float = THREAD_INTERVAL_SECONDS) -> threading.Event:
    """Run the worker's rounds (phase transitions, mail) from a daemon thread of this process
    (development and the demo); set the event to stop."""
    from pb.worker import run_until

    stop = threading.Event()
    thread = threading.Thread(
        target=run_until, args=(app, stop, interval), name="pb-mail-delivery", daemon=True
    )
    app.extensions[THREAD_KEY] = (thread, stop)
    thread.start()
    return stop
