"""Registering, signing in and out, the account page, and the protections around them."""

from __future__ import annotations

import re
import secrets

import pytest
from flask_babel import gettext
from sqlalchemy import select

from pb.mail import console_messages, deliver_now
from pb.models import User
from pb.passwords import verify_password

PASSWORD = "correct horse battery"
FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


def register(client, email="Amira@Example.org", password="a long passphrase", confirm=None, name="Amira"):
    return client.post(
        "/account/register",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "confirm_password": password if confirm is None else confirm,
        },
    )


def outbox(app) -> list:
    """What the worker has sent so far, after letting it deliver whatever is due."""
    deliver_now(app)
    return list(console_messages(app))


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").text


def headings(html: str) -> list[str]:
    return re.findall(r"<h([1-6])[^>]*>", html)


# Registering


def test_register_creates_an_unconfirmed_resident_account_without_signing_in(app, client, session):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/account/register/check-inbox"
    page = client.get(response.headers["Location"])
    assert "<h1>Check your inbox</h1>" in page.text
    assert "We have sent a message to amira@example.org." in page.text
    assert not signed_in(client)
    user = session.scalars(select(User)).one()
    assert user.email == "amira@example.org"
    assert verify_password(user.password_hash, "a long passphrase")
    assert user.locale == "en_CA"
    assert not user.email_confirmed
    (mail,) = outbox(app)
    assert (mail.to, mail.subject) == ("amira@example.org", "Confirm your e-mail address")
    assert "http://localhost/account/confirm/" in mail.body


def test_register_remembers_the_language_of_the_page(client, session):
    client.post(
        "/account/register",
        data={
            "display_name": "Amélie",
            "email": "amelie@example.org",
            "password": "une longue phrase",
            "confirm_password": "une longue phrase",
        },
        headers=FRENCH,
    )
    assert session.scalars(select(User)).one().locale == "fr_CA"


def test_registering_a_taken_address_answers_the_same_and_mails_its_owner(app, client, session, make_user):
    owner = make_user("amira@example.org", display_name="Amira K.", locale="fr_CA")
    before = (owner.password_hash, owner.display_name, owner.session_generation)
    taken = register(client, email="AMIRA@example.org", name="Someone")
    new = register(client, email="bo@example.org", name="Bo")
    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"] == "/account/register/check-inbox"
    assert not signed_in(client)
    taken_page, new_page = (client.get("/account/register/check-inbox") for _ in range(2))
    assert taken_page.status_code == new_page.status_code == 200
    # Only the flashed address differs, and it is the one the visitor typed in both cases.
    assert "amira@example.org" not in new_page.text and "bo@example.org" not in taken_page.text

    session.expire_all()
    stored = session.get(User, owner.id)
    assert (stored.password_hash, stored.display_name, stored.session_generation) == before
    assert len(session.scalars(select(User)).all()) == 2
    owner_mail, confirmation = outbox(app)
    assert owner_mail.to == "amira@example.org" and confirmation.to == "bo@example.org"
    # In the owner's language, with a way to sign in or choose a new password.
    assert owner_mail.subject == "Quelqu’un a essayé de créer un compte avec votre adresse"
    assert owner_mail.body.startswith("Bonjour Amira K.,")
    assert "http://localhost/account/sign-in" in owner_mail.body
    assert "http://localhost/account/reset-password" in owner_mail.body
    assert "/account/confirm/" not in owner_mail.body


def test_both_answers_are_the_same_page(client, make_user):
    make_user("amira@example.org")
    pages = []
    for email in ("amira@example.org", "nobody@example.org"):
        fresh = client.application.test_client()
        response = register(fresh, email=email)
        pages.append(
            (response.status_code, response.headers["Location"], fresh.get(response.headers["Location"]))
        )
    (taken_status, taken_location, taken), (new_status, new_location, new) = pages
    assert (taken_status, taken_location) == (new_status, new_location)
    assert without_tokens(taken.text).replace("amira@example.org", "X") == without_tokens(new.text).replace(
        "nobody@example.org", "X"
    )


def test_no_mail_for_a_deactivated_account_and_still_the_same_answer(app, client, session, make_user):
    user = make_user("amira@example.org")
    user.is_active = False
    session.commit()
    response = register(client, email="amira@example.org")
    assert response.headers["Location"] == "/account/register/check-inbox"
    assert outbox(app) == []


def test_registering_does_the_same_slow_work_for_a_taken_address(
    app, client, session, make_user, monkeypatch
):
    """Both paths hash the password and queue one mail, so the time taken does not tell which
    addresses have accounts (only inserting the account differs, a millisecond against argon2's
    hundred). Counted rather than timed: a shared test machine's timings are too noisy."""
    from pb.models import OutboxMail
    from pb.services import accounts

    make_user("amira@example.org")
    hashed: list[str] = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(
        accounts, "hash_password", lambda password: hashed.append(password) or real_hash(password)
    )
    work = []
    for email in ("amira@example.org", "nobody@example.org"):
        hashed.clear()
        before = len(session.scalars(select(OutboxMail)).all())
        assert register(app.test_client(), email=email).status_code == 302
        work.append((len(hashed), len(session.scalars(select(OutboxMail)).all()) - before))
    assert work == [(1, 1), (1, 1)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "Use at least 10 characters."),
        ({"confirm": "something else entirely"}, "The two passwords are not the same."),
        ({"email": "not an address"}, "Enter an e-mail address like name@example.org."),
        ({"name": ""}, "Enter your name."),
    ],
)
def test_register_explains_what_to_fix(client, session, fields, message):
    response = register(client, **fields)
    assert response.status_code == 200
    assert "Please correct the following:" in response.text
    assert message in response.text
    assert session.scalars(select(User)).all() == []


# Signing in and out


def test_sign_in_and_out(client, make_user, sign_in):
    make_user("amira@example.org")
    page = sign_in("Amira@EXAMPLE.org")
    assert "You are signed in." in page.text
    assert signed_in(client)
    assert client.get("/account/sign-out").status_code == 405  # signing out changes state: POST only
    response = client.post("/account/sign-out", follow_redirects=True)
    assert "You have signed out." in response.text
    assert not signed_in(client)
    assert client.get("/account/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"), [("amira@example.org", "wrong password"), ("nobody@example.org", PASSWORD)]
)
def test_a_failed_sign_in_does_not_say_which_part_was_wrong(client, make_user, sign_in, email, password):
    make_user("amira@example.org")
    page = sign_in(email, password)
    assert page.status_code == 200
    assert "The e-mail address or the password is not correct." in page.text
    assert not signed_in(client)


def test_an_inactive_account_cannot_sign_in(client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    user.is_active = False
    session.commit()
    page = sign_in("amira@example.org")
    assert "The e-mail address or the password is not correct." in page.text
    assert not signed_in(client)


def test_a_deactivated_account_is_signed_out(client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    sign_in("amira@example.org")
    user.is_active = False
    session.commit()
    assert not signed_in(client)


def test_the_session_is_renewed_at_sign_in(client, make_user, sign_in):
    make_user("amira@example.org")
    with client.session_transaction() as flask_session:
        flask_session["planted"] = "by someone else"
    sign_in("amira@example.org")
    with client.session_transaction() as flask_session:
        assert "planted" not in flask_session
        assert flask_session["_user_id"]


def test_signing_in_returns_to_the_page_asked_for(client, make_user):
    make_user("amira@example.org")
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2F"
    form = client.get(response.headers["Location"])
    assert 'name="next" type="hidden" value="/account/"' in form.text
    response = client.post(
        "/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD, "next": "/account/"}
    )
    assert response.headers["Location"] == "/account/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
    ],
)
def test_signing_in_never_redirects_off_site(client, make_user, target):
    make_user("amira@example.org")
    response = client.post(
        "/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_signed_in_visitor_going_to_sign_in_goes_on(client, make_user, sign_in):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    response = client.get("/account/sign-in?next=/account/")
    assert response.headers["Location"] == "/account/"
    assert client.get("/account/register").headers["Location"] == "/account/"


# The session cookie


def _session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_the_session_cookie_is_http_only_and_same_site(client, make_user):
    make_user("amira@example.org")
    response = client.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in testing: a Secure cookie would never come back


def test_the_session_cookie_is_secure_over_https(client, make_user):
    make_user("amira@example.org")
    response = client.post(
        "/account/sign-in",
        data={"email": "amira@example.org", "password": PASSWORD},
        base_url="https://localhost",
    )
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# CSRF


class TestCsrf:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_a_post_without_its_token_is_refused(self, client, make_user):
        make_user("amira@example.org")
        response = client.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
        assert response.status_code == 400
        assert "The form expired or was sent from another site." in response.text
        assert not signed_in(client)

    def test_a_post_with_its_token_is_accepted(self, client, make_user):
        make_user("amira@example.org")
        page = client.get("/account/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert signed_in(client)

    def test_signing_out_needs_the_token_too(self, client, make_user):
        make_user("amira@example.org")
        page = client.get("/account/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post(
            "/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert client.post("/account/sign-out").status_code == 400
        assert signed_in(client)


# Rate limit


def test_sign_in_attempts_are_rate_limited(app, client, make_user):
    make_user("amira@example.org")
    assert app.config["SIGN_IN_RATE_LIMIT"] == "10 per minute"
    for _ in range(15):  # looking at the form does not count
        assert client.get("/account/sign-in").status_code == 200
    for _ in range(10):
        response = client.post("/account/sign-in", data={"email": "amira@example.org", "password": "guess"})
        assert response.status_code == 200
    response = client.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "<h1>Too many attempts</h1>" in response.text
    assert not signed_in(client)
    french = client.post(
        "/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD}, headers=FRENCH
    )
    with app.test_request_context(headers=FRENCH):
        title = gettext("Too many attempts")
    assert french.status_code == 429
    assert '<html lang="fr-CA">' in french.text and f"<h1>{title}</h1>" in french.text


def test_registration_attempts_are_rate_limited(client, make_user):
    """Each attempt costs a password hash and can probe which e-mail addresses have accounts."""
    make_user("amira@example.org")
    data = {
        "email": "amira@example.org",
        "display_name": "A",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    for _ in range(10):
        assert client.post("/account/register", data=data).status_code == 302
    assert client.post("/account/register", data=data).status_code == 429


def test_the_limit_counts_per_address(client, make_user):
    make_user("amira@example.org")
    for _ in range(10):
        client.post("/account/sign-in", data={"email": "x@example.org", "password": "guess"})
    assert (
        client.post("/account/sign-in", data={"email": "x@example.org", "password": "guess"}).status_code
        == 429
    )
    other = client.post(
        "/account/sign-in",
        data={"email": "amira@example.org", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 302


class TestConfiguredLimit:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "SIGN_IN_RATE_LIMIT": "2 per hour"}

    def test_the_limit_comes_from_the_settings(self, client):
        for _ in range(2):
            assert (
                client.post(
                    "/account/sign-in", data={"email": "x@example.org", "password": "guess"}
                ).status_code
                == 200
            )
        assert (
            client.post("/account/sign-in", data={"email": "x@example.org", "password": "guess"}).status_code
            == 429
        )


REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    return connection


class TestRedisStorage:
    """Several workers share their counts through Redis."""

    @pytest.fixture
    def app_settings(self, app_settings):
        _redis_or_skip()
        return {**app_settings, "RATELIMIT_STORAGE_URI": REDIS_URL, "SIGN_IN_RATE_LIMIT": "3 per minute"}

    def test_counts_are_kept_in_redis(self, client):
        connection = _redis_or_skip()
        address = f"198.51.100.{secrets.randbelow(250) + 1}"
        data = {"email": "x@example.org", "password": "guess"}
        for _ in range(3):
            assert (
                client.post("/account/sign-in", data=data, environ_base={"REMOTE_ADDR": address}).status_code
                == 200
            )
        assert any(address.encode() in key for key in connection.keys("LIMITS*"))
        assert (
            client.post("/account/sign-in", data=data, environ_base={"REMOTE_ADDR": address}).status_code
            == 429
        )


# The account page


def test_the_account_page_needs_a_sign_in(client):
    response = client.get("/account/", follow_redirects=True)
    assert "Please sign in to see this page." in response.text
    assert "<h1>Sign in</h1>" in response.text


def test_changing_name_and_language_is_remembered_per_account(app, client, session, make_user, sign_in):
    user = make_user("amira@example.org", display_name="Amira")
    sign_in("amira@example.org")
    response = client.post(
        "/account/details", data={"display_name": "Amira K.", "locale": "fr_CA"}, follow_redirects=True
    )
    assert '<html lang="fr-CA">' in response.text
    assert 'value="Amira K."' in response.text
    session.refresh(user)
    assert (user.display_name, user.locale) == ("Amira K.", "fr_CA")
    # Another browser that prefers English gets French once signed in to this account.
    other = app.test_client()
    assert '<html lang="en-CA">' in other.get("/", headers={"Accept-Language": "en"}).text
    other.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert '<html lang="fr-CA">' in other.get("/", headers={"Accept-Language": "en"}).text


def test_an_unknown_language_is_refused(client, session, make_user, sign_in):
    user = make_user("amira@example.org", locale="en_CA")
    sign_in("amira@example.org")
    response = client.post("/account/details", data={"display_name": "Amira", "locale": "de_DE"})
    assert response.status_code == 200 and "Please correct the following:" in response.text
    session.refresh(user)
    assert user.locale == "en_CA"


def test_changing_the_password_needs_the_current_one(client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    sign_in("amira@example.org")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not it",
            "new_password": "a new passphrase",
            "confirm_password": "a new passphrase",
        },
    )
    assert "Your current password is not correct." in response.text
    session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_changing_the_password_signs_out_other_browsers(app, client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    sign_in("amira@example.org")
    other = app.test_client()
    other.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert signed_in(other)

    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "confirm_password": "a new passphrase",
        },
        follow_redirects=True,
    )
    assert "Your password has been changed." in response.text
    session.refresh(user)
    assert verify_password(user.password_hash, "a new passphrase")
    assert signed_in(client)  # this browser stays signed in
    assert not signed_in(other)  # the other one is signed out
    other_page = other.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert "The e-mail address or the password is not correct." in other_page.text
    assert (
        other.post(
            "/account/sign-in", data={"email": "amira@example.org", "password": "a new passphrase"}
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [("short", "Use at least 10 characters."), ("aaaaaaaaaaaa", "This password is too easy to guess")],
)
def test_a_weak_new_password_is_refused(client, session, make_user, sign_in, new, message):
    user = make_user("amira@example.org")
    sign_in("amira@example.org")
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert message in response.text
    session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


# Page structure


@pytest.mark.parametrize(
    "path",
    [
        "/account/sign-in",
        "/account/register",
        "/account/register/check-inbox",
        "/account/reset-password",
        "/account/confirm",
        "/account/confirm/not-a-token",
        "/account/",
        "/account/ (unconfirmed)",
    ],
)
def test_pages_start_with_one_h1_and_label_every_field(client, make_user, sign_in, path):
    if path.split()[0] == "/account/":
        make_user("amira@example.org", confirmed="unconfirmed" not in path)
        sign_in("amira@example.org")
        path = "/account/"
    response = client.get(path)
    assert response.status_code in (200, 400), response.status_code
    html = response.text
    levels = headings(html)
    assert levels[0] == "1" and levels.count("1") == 1
    for match in re.finditer(r'<(?:input|select)\b[^>]*\bid="([^"]+)"[^>]*>', html):
        if 'type="hidden"' not in match.group(0):
            assert f'<label for="{match.group(1)}">' in html, match.group(1)
    assert "<script" not in html  # everything works without JavaScript


def test_signing_in_keeps_the_language_of_the_page_and_saves_it(client, session, make_user):
    make_user("amira@example.org", locale="en_CA")
    client.set_cookie("pb_locale", "fr_CA")
    response = client.post(
        "/account/sign-in",
        data={"email": "amira@example.org", "password": "correct horse battery"},
        follow_redirects=True,
    )
    assert '<html lang="fr-CA">' in response.text
    assert "Connexion réussie." in response.text
    session.expire_all()
    assert session.scalars(select(User)).one().locale == "fr_CA"
    assert '<html lang="fr-CA">' in client.get("/account/").text


# Rate limits per account, and per IPv6 /64


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def change_with_a_guess(client, **options):
    """A password change whose current password is a guess."""
    new = "a new passphrase"
    data = {"current_password": "guess", "new_password": new, "confirm_password": new}
    return client.post("/account/password", data=data, **options)


class TestAccountLimits:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "ACCOUNT_RATE_LIMIT": "3 per hour"}

    def test_sign_in_attempts_are_limited_per_account_from_any_address(self, client, make_user):
        make_user("amira@example.org")
        for number in range(3):
            data = {"email": "Amira@example.org", "password": "guess"}
            assert client.post("/account/sign-in", data=data, **_from(f"192.0.2.{number}")).status_code == 200
        data = {"email": "amira@example.org", "password": PASSWORD}
        assert client.post("/account/sign-in", data=data, **_from("192.0.2.99")).status_code == 429
        assert not signed_in(client)
        other = {"email": "bo@example.org", "password": "guess"}
        assert client.post("/account/sign-in", data=other, **_from("192.0.2.99")).status_code == 200

    def test_password_changes_are_limited_per_account(self, client, make_user, sign_in):
        make_user("amira@example.org")
        sign_in("amira@example.org")
        for number in range(3):
            assert change_with_a_guess(client, **_from(f"192.0.2.{number}")).status_code == 200
        assert change_with_a_guess(client, **_from("192.0.2.99")).status_code == 429

    def test_reset_requests_are_limited_per_account(self, client, make_user):
        make_user("amira@example.org")
        for number in range(3):
            response = client.post(
                "/account/reset-password", data={"email": "amira@example.org"}, **_from(f"192.0.2.{number}")
            )
            assert response.status_code == 302
        again = client.post(
            "/account/reset-password", data={"email": "AMIRA@example.org"}, **_from("192.0.2.99")
        )
        assert again.status_code == 429


def test_password_changes_are_limited_per_address(client, make_user, sign_in):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    for _ in range(10):
        assert change_with_a_guess(client).status_code == 200
    assert change_with_a_guess(client).status_code == 429


class TestIpv6:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "SIGN_IN_RATE_LIMIT": "2 per hour"}

    def test_ipv6_addresses_count_per_64(self, client):
        data = {"email": "x@example.org", "password": "guess"}
        assert client.post("/account/sign-in", data=data, **_from("2001:db8:1:2::5")).status_code == 200
        assert client.post("/account/sign-in", data=data, **_from("2001:db8:1:2:ffff::9")).status_code == 200
        assert client.post("/account/sign-in", data=data, **_from("2001:db8:1:2:abcd::1")).status_code == 429
        assert client.post("/account/sign-in", data=data, **_from("2001:db8:1:3::5")).status_code == 200

    def test_ipv4_addresses_count_one_by_one(self, client):
        data = {"email": "x@example.org", "password": "guess"}
        for _ in range(2):
            assert client.post("/account/sign-in", data=data, **_from("192.0.2.1")).status_code == 200
        assert client.post("/account/sign-in", data=data, **_from("::ffff:192.0.2.1")).status_code == 429
        assert client.post("/account/sign-in", data=data, **_from("192.0.2.2")).status_code == 200


def test_a_proxy_count_above_the_real_one_is_documented_as_unsafe():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for name in ("README.md", "config.example.toml"):
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        text = " ".join(" ".join(line.lstrip("# ").split()) for line in lines)
        assert "higher than the real number of proxies" in text, name
        assert "escape rate limits" in text, name


# Common passwords


def test_a_common_password_is_refused_with_the_reason_in_the_visitors_language(client, session):
    response = register(client, password="Password123")
    assert "one of the most common passwords, which attackers try first" in response.text
    french = client.post(
        "/account/register",
        data={
            "display_name": "Amélie",
            "email": "amelie@example.org",
            "password": "qwertyuiop",
            "confirm_password": "qwertyuiop",
        },
        headers=FRENCH,
    )
    assert "Ce mot de passe fait partie des plus courants" in french.text
    assert session.scalars(select(User)).all() == []


# Password hints

HINT_WORDS = {
    "en": [
        "At least 10 characters.",
        "Not a common password",
        "easy to guess",
        "your name",
        "e-mail address",
    ],
    "fr": [
        "Au moins 10 caractères.",
        "mot de passe courant",
        "facile à deviner",
        "votre nom",
        "adresse courriel",
    ],
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("page", ["register", "account", "reset"])
def test_every_password_hint_names_every_rule(app, client, make_user, sign_in, page, language):
    from pb.passwords import make_reset_token

    user = make_user("amira@example.org")
    if page == "account":
        sign_in("amira@example.org")
        path = "/account/"
    elif page == "register":
        path = "/account/register"
    else:
        path = f"/account/reset-password/{make_reset_token(app.config['SECRET_KEY'], user)}"
    headers = FRENCH if language == "fr" else {"Accept-Language": "en-CA"}
    html = client.get(path, headers=headers, follow_redirects=True).text
    hint = re.search(r'<p class="hint" id="(?:new_)?password-hint">([^<]*)</p>', html)
    assert hint, html
    for words in HINT_WORDS[language]:
        assert words in hint.group(1), (words, hint.group(1))
