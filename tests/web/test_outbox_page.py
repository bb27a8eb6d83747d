"""Admins see the mail that is waiting and the mail that failed, never the bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pb.mail import MailError
from pb.services.outbox import deliver_due, queue_mail

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECRET_LINK = "https://pb.example.org/account/reset-password/the-secret-token"


class Refusing:
    def send(self, to, subject, body):
        if to.startswith("gone"):
            raise MailError("550 5.1.1 No such mailbox", permanent=True)
        raise MailError("451 4.3.0 Try again later")


@pytest.fixture
def mails(app, session):
    for to in ("gone@example.org", "later@example.org"):
        queue_mail(session, to, "Choose a new password", f"Open {SECRET_LINK}", NOW)
    session.commit()
    deliver_due(app.extensions["pb.db"].session_factory, Refusing(), NOW)
    queue_mail(session, "fresh@example.org", "Welcome", f"Open {SECRET_LINK}", NOW + timedelta(minutes=5))
    session.commit()


@pytest.fixture
def admin(make_user, sign_in):
    make_user("admin@example.org", roles=["admin"])
    sign_in("admin@example.org")


def test_failed_and_waiting_mail_are_listed_without_their_bodies(client, mails, admin):
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Mail outbox</h1>" in text
    assert "2 messages are waiting." in text and "1 message could not be sent." in text
    waiting, failed = text.split("<h2>Failed</h2>")
    assert "later@example.org" in waiting and "fresh@example.org" in waiting
    assert "451 4.3.0 Try again later" in waiting
    assert "gone@example.org" in failed and "550 5.1.1 No such mailbox" in failed
    assert "gone@example.org" not in waiting
    assert "the-secret-token" not in text


def test_the_page_is_in_french(client, mails, admin):
    page = client.get("/admin/outbox", headers={"Accept-Language": "fr-CA"})
    assert "<h1>Boîte d’envoi des courriels</h1>" in page.text
    assert "2 messages attendent d’être envoyés." in page.text


def test_an_empty_outbox_says_so(client, admin):
    text = client.get("/admin/outbox").text
    assert "No message is waiting." in text and "No message has failed." in text


def test_only_admins_see_the_outbox(client, make_user, sign_in):
    make_user("staff@example.org", roles=["staff"])
    sign_in("staff@example.org")
    assert client.get("/admin/outbox").status_code == 403


def test_the_accounts_page_links_to_the_outbox(client, admin):
    assert 'href="/admin/outbox"' in client.get("/admin/").text
