"""Sending e-mail.

The ``console`` backend (development and tests) prints each message to standard output and
keeps the latest ones in :func:`outbox`, so that tests can read what was sent. The ``smtp``
backend hands the message to the server named by the ``MAIL_*`` settings.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app

log = logging.getLogger(__name__)

OUTBOX_KEY = "pb.mail.outbox"
OUTBOX_SIZE = 100
SMTP_TIMEOUT_SECONDS = 15


class MailError(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class Mail:
    sender: str
    to: str
    subject: str
    body: str


def outbox(app: Flask | None = None) -> deque[Mail]:
    """The latest messages the console backend sent, oldest first."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions.setdefault(OUTBOX_KEY, deque(maxlen=OUTBOX_SIZE))


def _as_email_message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _send_console(app: Flask, mail: Mail) -> None:
    outbox(app).append(mail)
    text = f"----- mail (console backend) -----\nFrom: {mail.sender}\nTo: {mail.to}\n"
    text += f"Subject: {mail.subject}\n\n{mail.body}\n----- end of mail -----"
    print(text, file=sys.stdout, flush=True)


def _send_smtp(app: Flask, mail: Mail) -> None:
    config = app.config
    server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    context = ssl.create_default_context()
    if port == 465:  # implicit TLS
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            server, port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        connection = smtplib.SMTP(server, port, timeout=SMTP_TIMEOUT_SECONDS)
    with connection:
        if port != 465 and config["MAIL_USE_TLS"]:
            connection.starttls(context=context)
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        connection.send_message(_as_email_message(mail))


def send_mail(to: str, subject: str, body: str) -> Mail:
    """Send a plain-text message from ``MAIL_SENDER`` through the configured backend; :class:`MailError` if it fails."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    mail = Mail(sender=app.config["MAIL_SENDER"], to=to, subject=str(subject), body=str(body))
    if app.config["MAIL_BACKEND"] == "smtp":
        try:
            _send_smtp(app, mail)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"could not send mail through {app.config['MAIL_SERVER']}: {error}") from error
    else:
        _send_console(app, mail)
    log.info("mail sent: %s", mail.subject)
    return mail
