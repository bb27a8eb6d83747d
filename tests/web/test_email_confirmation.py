"""Confirming the e-mail address with the mailed link, asking for a new link, and who may take part."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pb.auth import views as auth_views
from pb.db import utcnow
from pb.mail import console_messages, deliver_now
from pb.models import User
from pb.passwords import make_confirmation_token
from tests.smtp import smtp_inbox

PASSWORD = "a long passphrase"
SECRET = "test-secret-key-not-for-production-use"
SAME_ANSWER = (
    "If an account uses amira@example.org and its address is not confirmed yet, we have sent a new link"
)


@pytest.fixture(autouse=True)
def quick_answers(monkeypatch):
    """The fixed duration of an answer is tested with the reset requests."""
    monkeypatch.setattr(auth_views, "RESET_REQUEST_SECONDS", 0)


def outbox(app) -> list:
    deliver_now(app)
    return list(console_messages(app))


def register(client, email="amira@example.org", name="Amira", **options):
    data = {"display_name": name, "email": email, "password": PASSWORD, "confirm_password": PASSWORD}
    return client.post("/account/register", data=data, **options)


def confirmation_path(body: str) -> str:
    link = re.search(r"http://localhost(/account/confirm/\S+)", body)
    assert link, body
    return link.group(1)


def stored(session, email="amira@example.org") -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).one()


def sign_in(client, email="amira@example.org", password=PASSWORD):
    return client.post("/account/sign-in", data={"email": email, "password": password})


def test_following_the_mailed_link_confirms_the_address(app, client, session):
    register(client)
    (mail,) = outbox(app)
    assert "Hello Amira," in mail.body and "within 48 hours" in mail.body
    path = confirmation_path(mail.body)
    page = client.get(path)
    assert page.status_code == 200
    assert "<h1>Your e-mail address is confirmed</h1>" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert 'href="/account/sign-in"' in page.text
    user = stored(session)
    assert user.email_confirmed
    # Used once, the link does nothing more.
    again = client.get(path)
    assert again.status_code == 400
    assert "<h1>This link does not work any more</h1>" in again.text


def test_the_mail_is_in_the_language_of_the_registration_page(app, client):
    register(client, headers={"Accept-Language": "fr-CA"})
    (mail,) = outbox(app)
    assert mail.subject == "Confirmez votre adresse courriel"
    assert mail.body.startswith("Bonjour Amira,")


def test_an_unconfirmed_account_signs_in_and_sees_a_notice_with_a_button(app, client, session):
    register(client)
    assert sign_in(client).status_code == 302
    page = client.get("/account/")
    assert "Your e-mail address is not confirmed yet." in page.text
    assert 'action="/account/confirm/again"' in page.text
    response = client.post("/account/confirm/again", follow_redirects=True)
    assert "We have sent a new link to amira@example.org." in response.text
    first, second = outbox(app)
    assert first.to == second.to == "amira@example.org"
    # The new link works (and so would the first, until one of them is used).
    client.get(confirmation_path(second.body))
    assert stored(session).email_confirmed
    page = client.get("/account/")
    assert "not confirmed yet" not in page.text and "/account/confirm/again" not in page.text
    assert client.get(confirmation_path(first.body)).status_code == 302  # signed in and confirmed
    assert "Your e-mail address is confirmed already." in client.get("/account/").text


def test_a_confirmed_account_asking_again_gets_no_mail(app, client, make_user):
    make_user("amira@example.org", password=PASSWORD)
    sign_in(client)
    response = client.post("/account/confirm/again", follow_redirects=True)
    assert "Your e-mail address is confirmed already." in response.text
    assert outbox(app) == []


def test_an_expired_link_explains_and_offers_a_new_one(app, client, session):
    register(client)
    path = confirmation_path(outbox(app)[0].body)
    real_clock = app.extensions["pb.clock"]
    app.extensions["pb.clock"] = lambda: real_clock() + timedelta(hours=48, minutes=1)
    page = client.get(path)
    assert page.status_code == 400
    assert "works for 48 hours, and only once" in page.text
    assert 'action="/account/confirm"' in page.text and "Send me a new link" in page.text
    assert not stored(session).email_confirmed

    response = client.post("/account/confirm", data={"email": "Amira@example.org"}, follow_redirects=True)
    assert SAME_ANSWER in response.text
    fresh = confirmation_path(outbox(app)[-1].body)
    assert client.get(fresh).status_code == 200
    assert stored(session).email_confirmed


def test_a_signed_in_person_with_a_dead_link_gets_the_button(app, client, session):
    register(client)
    sign_in(client)
    page = client.get("/account/confirm/not-a-token")
    assert page.status_code == 400
    assert 'action="/account/confirm/again"' in page.text
    assert 'name="email"' not in page.text


@pytest.mark.parametrize("token", ["nonsense", "eyJhbGciOi.tampered.value", "WzEsIngiXQ.aaaa.bbbb"])
def test_a_made_up_link_changes_nothing(client, session, token):
    register(client)
    assert client.get(f"/account/confirm/{token}").status_code == 400
    assert not stored(session).email_confirmed


def test_a_link_for_an_address_since_changed_does_not_work(app, client, session):
    register(client)
    path = confirmation_path(outbox(app)[0].body)
    user = stored(session)
    user.email = "amira.khan@example.org"
    session.commit()
    assert client.get(path).status_code == 400
    assert not stored(session, "amira.khan@example.org").email_confirmed


def test_asking_for_a_link_answers_the_same_for_every_address(app, client, session, make_user):
    make_user("confirmed@example.org")
    register(app.test_client())
    outbox(app)
    answers = {}
    for email in ("amira@example.org", "confirmed@example.org", "nobody@example.org"):
        response = client.post("/account/confirm", data={"email": email})
        assert response.status_code == 302 and response.headers["Location"] == "/account/confirm"
        answers[email] = client.get("/account/confirm").text.replace(email, "X")
    assert len({re.sub(r'value="[^"]*"', "", text) for text in answers.values()}) == 1
    # Only the unconfirmed account gets a mail.
    assert [mail.to for mail in outbox(app)] == ["amira@example.org", "amira@example.org"]


def test_asking_for_a_link_explains_a_malformed_address(app, client):
    response = client.post("/account/confirm", data={"email": "not an address"})
    assert response.status_code == 200
    assert "Enter an e-mail address like name@example.org." in response.text
    assert outbox(app) == []


def test_asking_for_links_is_rate_limited(client):
    for _ in range(10):
        assert client.post("/account/confirm", data={"email": "amira@example.org"}).status_code == 302
    assert client.post("/account/confirm", data={"email": "amira@example.org"}).status_code == 429


class TestAccountLimits:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "ACCOUNT_RATE_LIMIT": "2 per hour"}

    def test_links_for_one_account_are_limited_from_any_address(self, client):
        register(client)
        sign_in(client)
        for number in range(2):
            response = client.post(
                "/account/confirm/again", environ_base={"REMOTE_ADDR": f"192.0.2.{number}"}
            )
            assert response.status_code == 302
        again = client.post("/account/confirm/again", environ_base={"REMOTE_ADDR": "192.0.2.99"})
        assert again.status_code == 429

    def test_registering_one_address_again_and_again_is_limited(self, client, make_user):
        """The owner of a taken address is not flooded with mail."""
        make_user("amira@example.org")
        for number in range(2):
            assert register(client, environ_base={"REMOTE_ADDR": f"192.0.2.{number}"}).status_code == 302
        assert register(client, environ_base={"REMOTE_ADDR": "192.0.2.99"}).status_code == 429


def test_a_password_reset_confirms_the_address(app, client, session):
    register(client)
    client.post("/account/reset-password", data={"email": "amira@example.org"})
    reset = re.search(r"http://localhost(/account/reset-password/\S+)", outbox(app)[-1].body).group(1)
    client.post(reset, data={"new_password": "a fresh passphrase", "confirm_password": "a fresh passphrase"})
    assert stored(session).email_confirmed


def test_the_account_page_of_a_confirmed_account_has_no_notice(client, make_user):
    make_user("amira@example.org", password=PASSWORD)
    sign_in(client)
    assert "not confirmed yet" not in client.get("/account/").text


def test_pages_can_ask_who_may_take_part(app, make_user, session):
    """``can_take_part`` is a template global, for the pages of every blueprint."""
    from flask import render_template_string

    confirmed = make_user("amira@example.org")
    unconfirmed = make_user("bo@example.org", confirmed=False)
    with app.test_request_context():
        template = "{{ can_take_part(user) }}"
        assert render_template_string(template, user=confirmed) == "True"
        assert render_template_string(template, user=unconfirmed) == "False"
        assert render_template_string(template, user=None) == "False"


class TestRealMail:
    """The confirmation mail reaches a real SMTP server (aiosmtpd), and its link works."""

    @pytest.fixture
    def inbox(self):
        with smtp_inbox() as handler:
            yield handler

    @pytest.fixture
    def app_settings(self, app_settings, inbox):
        return {
            **app_settings,
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": inbox.port,
            "MAIL_USE_TLS": False,
            "MAIL_SENDER": "budget@example.org",
        }

    def test_register_then_confirm_through_smtp(self, app, client, session, inbox, make_user):
        make_user("taken@example.org", display_name="Taken")
        register(client)
        register(client, email="taken@example.org")
        assert deliver_now(app).sent == 2
        confirmation, taken = inbox.messages
        assert (confirmation["To"], confirmation["Subject"]) == (
            "amira@example.org",
            "Confirm your e-mail address",
        )
        assert taken["To"] == "taken@example.org"
        assert taken["Subject"] == "Someone tried to create an account with your address"
        assert client.get(confirmation_path(confirmation.get_content())).status_code == 200
        assert stored(session).email_confirmed


def test_a_token_made_for_the_browser_checks_works(app, client, session, make_user):
    """The browser page list makes its own tokens this way (tests.browser.conftest.Site)."""
    user = make_user("bo@example.org", confirmed=False)
    token = make_confirmation_token(SECRET, user, utcnow())
    assert client.get(f"/account/confirm/{token}").status_code == 200


def test_asking_for_a_link_takes_the_same_time_for_every_address(app, client, monkeypatch):
    """As for reset requests: every answer waits out the same fixed time, mail queued or not."""
    import time

    monkeypatch.setattr(auth_views, "RESET_REQUEST_SECONDS", 0.2)
    register(app.test_client())

    def duration(email: str) -> float:
        start = time.perf_counter()
        assert client.post("/account/confirm", data={"email": email}).status_code == 302
        return time.perf_counter() - start

    assert min(duration("amira@example.org") for _ in range(2)) >= 0.2
    assert min(duration(f"nobody{number}@example.org") for number in range(2)) >= 0.2
    assert len(outbox(app)) == 3
