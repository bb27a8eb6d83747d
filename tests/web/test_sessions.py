"""Sessions end on the server: sign-out, password and role changes end every session of the account,
copied cookies included; idle time and lifetime are settings; signed-in pages are never cached."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pb.db import utcnow

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.extensions["pb.clock"] = clock
    return clock


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").text


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def test_signing_out_ends_a_copied_cookie(app, client, make_user, sign_in):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    thief = copy_of(app, client)
    assert signed_in(thief)
    client.post("/account/sign-out")
    assert not signed_in(client)
    assert not signed_in(thief)


def test_signing_out_ends_every_session_of_the_account(app, client, make_user, sign_in):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    laptop = app.test_client()
    laptop.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    client.post("/account/sign-out")
    assert not signed_in(laptop)


def test_a_password_change_ends_a_copied_cookie_but_not_this_browser(app, client, make_user, sign_in):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    thief = copy_of(app, client)
    new = "a new passphrase"
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert signed_in(client)
    assert not signed_in(thief)


@pytest.mark.parametrize(("held", "action"), [((), "grant"), (("staff",), "revoke")])
def test_a_role_change_ends_the_accounts_sessions(app, client, make_user, sign_in, held, action):
    amira = make_user("amira@example.org", roles=held)
    make_user("admin@example.org", roles=["admin"])
    sign_in("amira@example.org")
    admin = app.test_client()
    admin.post("/account/sign-in", data={"email": "admin@example.org", "password": PASSWORD})
    response = admin.post(f"/admin/accounts/{amira.id}/{action}", data={"role": "staff"})
    assert response.status_code == 302
    assert not signed_in(client)
    assert signed_in(admin)


def test_an_admin_changing_their_own_roles_stays_signed_in(client, make_user, sign_in):
    admin = make_user("admin@example.org", roles=["admin"])
    sign_in("admin@example.org")
    client.post(f"/admin/accounts/{admin.id}/grant", data={"role": "auditor"})
    assert signed_in(client)
    assert client.get("/staff/audit-log").status_code == 200


# Idle time and lifetime


def test_a_resident_session_ends_after_two_idle_hours(client, make_user, sign_in, clock):
    make_user("amira@example.org")
    sign_in("amira@example.org")
    clock.advance(minutes=119)
    assert signed_in(client)  # and the request counts as activity
    clock.advance(minutes=119)
    assert signed_in(client)
    clock.advance(minutes=121)
    page = client.get("/account/", follow_redirects=True)
    assert "Your session has ended. Please sign in again." in page.text
    assert not signed_in(client)


@pytest.mark.parametrize("role", ["staff", "admin", "auditor"])
def test_a_staff_session_ends_after_thirty_idle_minutes(client, make_user, sign_in, clock, role):
    make_user("someone@example.org", roles=[role])
    sign_in("someone@example.org")
    clock.advance(minutes=29)
    assert signed_in(client)
    clock.advance(minutes=31)
    assert not signed_in(client)


def test_a_staff_session_ends_after_twelve_hours_even_when_busy(client, make_user, sign_in, clock):
    make_user("staff@example.org", roles=["staff"])
    sign_in("staff@example.org")
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        assert signed_in(client)
    clock.advance(minutes=20)
    assert not signed_in(client)


class TestLongIdleTime:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "SESSION_IDLE_MINUTES": 60 * 24 * 60}

    def test_a_resident_session_lasts_thirty_days_at_most(self, client, make_user, sign_in, clock):
        make_user("amira@example.org")
        sign_in("amira@example.org")
        clock.advance(days=29, hours=23)
        assert signed_in(client)
        clock.advance(hours=1)
        assert not signed_in(client)


class TestConfiguredLimits:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "SESSION_IDLE_MINUTES": 5, "SESSION_LIFETIME_HOURS": 1}

    def test_the_limits_come_from_the_settings(self, client, make_user, sign_in, clock):
        make_user("amira@example.org")
        sign_in("amira@example.org")
        clock.advance(minutes=6)
        assert not signed_in(client)
        sign_in("amira@example.org")
        for _ in range(14):
            clock.advance(minutes=4)
            assert signed_in(client)
        clock.advance(minutes=4)  # 60 minutes after signing in
        assert not signed_in(client)


# Headers


def test_pages_for_a_signed_in_person_are_not_stored(client, make_user, sign_in):
    anonymous = client.get("/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    make_user("admin@example.org", roles=["admin"])
    sign_in("admin@example.org")
    for path in ("/", "/account/", "/admin/", "/no-such-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
