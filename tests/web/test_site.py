"""Site-wide behaviour: languages, formatting, error pages, headers."""

from datetime import UTC, datetime

import pytest
from flask import abort

from pb.i18n import LOCALE_COOKIE, local_datetime, money

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}


@pytest.fixture
def app(app):
    """The app with routes that fail on purpose, added before it serves its first request."""

    def fail_with(code: int):
        abort(code)

    def crash():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/_test/abort/<int:code>", view_func=fail_with, methods=["GET", "POST"])
    app.add_url_rule("/_test/crash", view_func=crash)
    return app


def test_first_visit_follows_the_browser_language(client):
    english = client.get("/", headers={"Accept-Language": "en-CA"})
    french = client.get("/", headers=FRENCH)
    assert '<html lang="en-CA">' in english.text
    assert '<html lang="fr-CA">' in french.text
    assert "Passer au contenu principal" in french.text
    assert "Skip to main content" in english.text


def test_unknown_browser_language_gets_the_default(client):
    response = client.get("/", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en-CA">' in response.text


def test_language_switch_is_remembered_per_visitor(client):
    response = client.post("/language", data={"locale": "fr_CA", "next": "/?page=2"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?page=2"
    cookie = response.headers["Set-Cookie"]
    assert f"{LOCALE_COOKIE}=fr_CA" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The cookie now wins over the browser's preference.
    page = client.get("/", headers={"Accept-Language": "en-CA"})
    assert '<html lang="fr-CA">' in page.text


def test_language_switch_is_remembered_per_account(app, client, session, make_user, sign_in):
    user = make_user("amira@example.org")
    sign_in("amira@example.org")
    client.post("/language", data={"locale": "fr_CA", "next": "/"})
    session.refresh(user)
    assert user.locale == "fr_CA"
    # A new browser without the cookie, signed in to the same account, gets French.
    other = app.test_client()
    other.post("/account/sign-in", data={"email": "amira@example.org", "password": "correct horse battery"})
    assert '<html lang="fr-CA">' in other.get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "/\tx"]
)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"locale": "en_CA", "next": target})
    assert response.headers["Location"] == "/"


def test_language_switch_rejects_unknown_languages(client):
    response = client.post("/language", data={"locale": "de_DE", "next": "/"})
    assert response.status_code == 400


def test_money_and_dates_follow_the_locale(app):
    moment = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "fr-CA"}):
        assert money(123456700, "CAD") == "1\N{NO-BREAK SPACE}234\N{NO-BREAK SPACE}567,00\N{NO-BREAK SPACE}$"
        assert local_datetime(moment, "America/Toronto").startswith("1er juillet 2026, 12 h 30")
    with app.test_request_context(headers={"Accept-Language": "en-CA"}):
        assert money(123456700, "CAD") == "$1,234,567.00"
        assert local_datetime(moment, "America/Toronto").startswith("July 1, 2026")
        assert "12:30" in local_datetime(moment, "America/Toronto")  # shown in the cycle's time zone


@pytest.mark.parametrize(
    ("code", "english", "french"),
    [
        (400, "Bad request", "Requête invalide"),
        (403, "Access denied", "Accès refusé"),
        (404, "Page not found", "Page introuvable"),
        (405, "Method not allowed", "Méthode non permise"),
        (429, "Too many attempts", "Trop de tentatives"),
    ],
)
def test_error_pages_speak_the_visitors_language(client, code, english, french):
    response = client.get(f"/_test/abort/{code}", headers={"Accept-Language": "en-CA"})
    assert response.status_code == code and f"<h1>{english}</h1>" in response.text
    response = client.get(f"/_test/abort/{code}", headers=FRENCH)
    assert response.status_code == code and f"<h1>{french}</h1>" in response.text


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_wrong_method_is_a_405_page(client):
    response = client.delete("/")
    assert response.status_code == 405 and "Method not allowed" in response.text


def test_server_error_shows_no_stack_trace(client):
    response = client.get("/_test/crash", headers=FRENCH)
    assert response.status_code == 500
    assert "Une erreur" in response.text
    assert "Traceback" not in response.text and "secret internal detail" not in response.text


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "MAX_CONTENT_LENGTH": 1024}


def test_request_body_limit_gives_a_413_page(client):
    response = client.post(
        "/language", data={"locale": "en_CA", "big": "x" * 5000}, headers={"Accept-Language": "en-CA"}
    )
    assert response.status_code == 413
    assert "Too much data" in response.text


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_health_check(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


class TestCsrf:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_a_form_without_its_token_is_refused_in_the_visitors_language(self, client):
        response = client.post(
            "/account/sign-in", data={"email": "a@example.org", "password": "x"}, headers=FRENCH
        )
        assert response.status_code == 400
        assert "Requête invalide" in response.text

    def test_the_language_switch_needs_no_token_but_refuses_other_sites(
        self, client, session, make_user, log_in
    ):
        """The switch on every page carries no session token (pages stay the same for every visitor):
        what the browser marks as sent from another site is refused, and changes nothing."""
        user = log_in(make_user("amira@example.org"))
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
        ):
            refused = client.post("/language", data={"locale": "fr_CA", "next": "/"}, headers=headers)
            assert refused.status_code == 400 and LOCALE_COOKIE not in refused.headers.get("Set-Cookie", ""), headers
        session.refresh(user)
        assert user.locale != "fr_CA"
        accepted = (
            {},
            {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
            # Behind a TLS-terminating proxy the browser's origin has another scheme or port than the
            # app sees: the browser's own Sec-Fetch-Site decides, or else the host alone.
            {"Sec-Fetch-Site": "same-origin", "Origin": "https://localhost:8443"},
            {"Origin": "https://localhost"},
        )
        for headers in accepted:
            switched = client.post("/language", data={"locale": "fr_CA", "next": "/"}, headers=headers)
            assert switched.status_code == 302 and f"{LOCALE_COOKIE}=fr_CA" in switched.headers["Set-Cookie"]
        session.refresh(user)
        assert user.locale == "fr_CA"


def test_public_pages_give_a_new_visitor_no_session(client, session, make_cycle, make_user):
    """No session token on pages everyone sees: a first visit sets no cookie (none to sign, none to
    send back), until the visitor signs in, switches language or uses a form."""
    from tests.factories import make_proposal

    cycle = make_cycle(slug="lakeview", phase="proposals")
    proposal = make_proposal(session, make_user("author@example.org"), cycle)
    paths = ("/", "/archive", "/cycles/lakeview", "/open-data", "/transparency", "/cycles/lakeview/proposals?sort=newest")
    for path in (*paths, f"/cycles/lakeview/proposals/{proposal.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path


class TestTrustedHosts:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "TRUSTED_HOSTS": ["pb.lakeview.ca"]}

    def test_requests_for_another_host_are_refused(self, client):
        assert client.get("/", base_url="http://pb.lakeview.ca").status_code == 200
        assert client.get("/", base_url="http://evil.example").status_code == 400
