"""Resetting a forgotten password with a link sent by e-mail."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from pb.auth import views as auth_views
from pb.mail import console_messages, deliver_now
from pb.models import MailStatus, OutboxMail, User
from pb.passwords import verify_password

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a fresh passphrase"
SAME_ANSWER = "If an account uses amira@example.org, we have sent a link to it to choose a new password."


@pytest.fixture(autouse=True)
def quick_answers(monkeypatch):
    """The answer's fixed duration is checked by one test; the others need not wait for it."""
    monkeypatch.setattr(auth_views, "RESET_REQUEST_SECONDS", 0)


def outbox(app):
    """What the worker has sent so far, after letting it deliver whatever is due."""
    deliver_now(app)
    return console_messages(app)


def ask_for_link(client, email="amira@example.org"):
    return client.post("/account/reset-password", data={"email": email}, follow_redirects=True)


def reset_path(app) -> str:
    """The path of the link in the latest mail, checked to be a full https-less link to this site."""
    body = outbox(app)[-1].body
    link = re.search(r"http://localhost(/account/reset-password/\S+)", body)
    assert link, body
    return link.group(1)


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(
        path, data={"new_password": password, "confirm_password": password if confirm is None else confirm}
    )


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_the_mail_holds_a_link_that_sets_a_new_password(app, client, session, make_user, capsys):
    user = make_user("amira@example.org", display_name="Amira")
    page = ask_for_link(client, "  Amira@Example.org ")
    assert SAME_ANSWER in page.text
    assert len(outbox(app)) == 1
    mail = outbox(app)[0]
    assert mail.to == "amira@example.org"
    assert mail.subject == "Choose a new password"
    assert "Hello Amira," in mail.body and "within 60 minutes" in mail.body
    # In development the console backend prints the message, link included.
    assert "/account/reset-password/" in capsys.readouterr().out

    path = reset_path(app)
    form = client.get(path)
    assert form.status_code == 200
    assert "<h1>Choose a new password</h1>" in form.text
    assert form.headers["Cache-Control"] == "no-store"

    response = choose(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in"
    page = client.get("/account/sign-in")
    assert "Your password has been changed. Sign in with your new password." in page.text

    session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)
    assert (
        client.post(
            "/account/sign-in", data={"email": "amira@example.org", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_the_answer_is_the_same_whether_or_not_the_account_exists(app, client, make_user):
    make_user("amira@example.org")
    known = ask_for_link(client, "amira@example.org")
    unknown = ask_for_link(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.text) == without_tokens(unknown.text).replace(
        "nobody@example.org", "amira@example.org"
    )
    assert [mail.to for mail in outbox(app)] == ["amira@example.org"]


def test_no_mail_for_an_inactive_account(app, client, session, make_user):
    user = make_user("amira@example.org")
    user.is_active = False
    session.commit()
    assert SAME_ANSWER in ask_for_link(client).text
    assert len(outbox(app)) == 0


def test_the_link_works_only_once(app, client, make_user):
    make_user("amira@example.org")
    ask_for_link(client)
    path = reset_path(app)
    assert choose(client, path).status_code == 302
    again = client.get(path)
    assert again.status_code == 400
    assert "This link does not work any more" in again.text
    assert choose(client, path, "yet another passphrase").status_code == 400


def test_completing_a_reset_signs_out_every_session(app, client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    before = user.password_changed_at
    elsewhere = app.test_client()
    elsewhere.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert elsewhere.get("/account/").status_code == 200

    ask_for_link(client)
    choose(client, reset_path(app))
    session.refresh(user)
    assert int(user.password_changed_at.timestamp()) > int(before.timestamp())
    assert elsewhere.get("/account/").status_code == 302


def test_a_link_dies_when_the_password_is_changed_another_way(app, client, session, make_user, sign_in):
    make_user("amira@example.org")
    ask_for_link(client)
    path = reset_path(app)
    sign_in("amira@example.org")
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert client.get(path).status_code == 400


def test_only_the_latest_password_change_counts_for_older_links(app, client, make_user):
    make_user("amira@example.org")
    ask_for_link(client)
    ask_for_link(client)
    first, second = (urlsplit(re.search(r"http://\S+", mail.body).group(0)).path for mail in outbox(app))
    assert choose(client, second).status_code == 302
    assert client.get(first).status_code == 400


def test_a_link_expires_after_an_hour(app, client, make_user, monkeypatch):
    make_user("amira@example.org")
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
        ask_for_link(client)
    response = client.get(reset_path(app))
    assert response.status_code == 400
    assert "A link to choose a new password works for one hour, and only once." in response.text


@pytest.mark.parametrize("token", ["nonsense", "eyJhbGciOi.tampered.value"])
def test_a_made_up_link_does_not_work(client, token):
    response = client.get(f"/account/reset-password/{token}")
    assert response.status_code == 400
    assert "Ask for a new link" in response.text


def test_a_tampered_link_does_not_work(app, client, make_user):
    make_user("amira@example.org")
    ask_for_link(client)
    path = reset_path(app)
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 400


def test_the_new_password_must_follow_the_rules_and_the_link_stays_valid(app, client, session, make_user):
    user = make_user("amira@example.org")
    ask_for_link(client)
    path = reset_path(app)
    short = choose(client, path, "short")
    assert short.status_code == 200 and "Use at least 10 characters." in short.text
    different = choose(client, path, NEW_PASSWORD, "not the same thing")
    assert "The two passwords are not the same." in different.text
    session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)
    assert choose(client, path).status_code == 302


def test_the_request_form_explains_a_malformed_address(app, client):
    response = client.post("/account/reset-password", data={"email": "not an address"})
    assert response.status_code == 200
    assert "Enter an e-mail address like name@example.org." in response.text
    assert len(outbox(app)) == 0


def test_requests_for_links_are_rate_limited(client, make_user):
    make_user("amira@example.org")
    for _ in range(10):
        assert client.post("/account/reset-password", data={"email": "amira@example.org"}).status_code == 302
    assert client.post("/account/reset-password", data={"email": "amira@example.org"}).status_code == 429


def test_the_accounts_table_is_untouched_by_a_request(app, client, session, make_user):
    user = make_user("amira@example.org")
    before = (user.password_hash, user.password_changed_at)
    ask_for_link(client)
    session.expire_all()
    stored = session.scalars(select(User)).one()
    assert (stored.password_hash, stored.password_changed_at) == before


def test_the_request_only_queues_the_mail_and_the_worker_sends_it(app, client, session, make_user):
    make_user("amira@example.org")
    ask_for_link(client)
    assert len(console_messages(app)) == 0  # nothing left during the request
    (queued,) = session.scalars(select(OutboxMail)).all()
    assert (queued.recipient, queued.status) == ("amira@example.org", MailStatus.PENDING)
    assert deliver_now(app).sent == 1
    assert [mail.to for mail in console_messages(app)] == ["amira@example.org"]


def test_the_mail_is_written_in_the_account_language(app, client, make_user):
    make_user("amira@example.org", display_name="Amira", locale="fr_CA")
    ask_for_link(client)
    (mail,) = outbox(app)
    assert mail.subject == "Choisir un nouveau mot de passe"
    assert mail.body.startswith("Bonjour Amira,")


def test_no_mail_leaves_for_a_request_that_fails_after_queuing_it(app, client, session, make_user, monkeypatch):
    make_user("amira@example.org")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug after the mail was queued")

    monkeypatch.setattr(auth_views, "flash", broken)
    response = client.post("/account/reset-password", data={"email": "amira@example.org"})
    assert response.status_code == 500
    assert session.scalars(select(OutboxMail)).all() == []
    assert len(outbox(app)) == 0


def test_known_and_unknown_addresses_take_the_same_time(app, client, make_user, monkeypatch):
    monkeypatch.setattr(auth_views, "RESET_REQUEST_SECONDS", 0.2)
    make_user("amira@example.org")

    def duration(email: str) -> float:
        start = time.perf_counter()
        response = client.post("/account/reset-password", data={"email": email})
        assert response.status_code == 302
        return time.perf_counter() - start

    known = [duration("amira@example.org") for _ in range(3)]
    unknown = [duration(f"nobody{number}@example.org") for number in range(3)]
    # Both wait out the same fixed time, which is far longer than queuing a mail takes.
    assert min(known) >= 0.2 and min(unknown) >= 0.2
    assert abs(min(known) - min(unknown)) < 0.03
    assert len(outbox(app)) == 3
