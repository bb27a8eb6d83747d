"""No server error from any input: the request guard, field bounds, and error pages in every state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from pb.models import AuditLogEntry, Cycle, User

FRENCH = {"Accept-Language": "fr-CA"}


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "path", ["/cycles/%00", "/cycles/a%01b", "/%00", "/?page=%00", "/admin/?q=%00", "/cycles/x?a%00=1"]
)
def test_control_characters_in_the_address_get_a_400_page(client, path):
    response = client.get(path, headers=FRENCH)
    assert response.status_code == 400
    assert "Requête invalide" in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_nul_in_the_sign_in_e_mail_gets_a_400(client):
    response = client.post("/account/sign-in", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400


def test_nul_in_the_registration_name_creates_nothing(client, session):
    response = client.post(
        "/account/register",
        data={
            "display_name": "Ann\x00",
            "email": "ann@example.org",
            "password": "a long enough pass phrase",
            "confirm_password": "a long enough pass phrase",
        },
    )
    assert response.status_code == 400
    assert _count(session, User) == 0


@pytest.mark.parametrize("name", ["Ann\x0bLee", "Ann\x1b[31m", "Ann\u202eeel", "Ann\u2066x\u2069", "A\u0085B"])
def test_control_and_bidi_override_characters_in_a_name_are_a_form_error(client, session, name):
    response = client.post(
        "/account/register",
        data={
            "display_name": name,
            "email": "ann@example.org",
            "password": "a long enough pass phrase",
            "confirm_password": "a long enough pass phrase",
        },
        headers=FRENCH,
    )
    assert response.status_code == 200
    assert "caractères de contrôle invisibles" in response.text
    assert 'value="ann@example.org"' in response.text  # what was typed is kept
    assert _count(session, User) == 0


def test_a_description_keeps_its_line_breaks_and_tabs(client, session, make_user, log_in, make_cycle):
    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(slug="lines")
    log_in(staff)
    form = _edit_form(client, cycle.slug)
    form["description_en"] = "First line\r\n\tSecond line"
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=form)
    assert response.status_code == 302, response.text
    session.expire_all()
    assert session.get(Cycle, cycle.id).description_en == "First line\n\tSecond line"


def _edit_form(client, slug: str) -> dict[str, str]:
    """The values the edit page shows, as a browser would send them back."""
    from html.parser import HTMLParser

    page = client.get(f"/staff/cycles/{slug}/edit").text
    values: dict[str, str] = {}

    class Reader(HTMLParser):
        textarea: str | None = None
        select: str | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        values[a["name"]] = a.get("value", "y")
                elif a.get("type") != "submit":
                    values[a["name"]] = a.get("value") or ""
            elif tag == "textarea":
                self.textarea = a["name"]
                values[self.textarea] = ""
            elif tag == "select":
                self.select = a["name"]
            elif tag == "option" and self.select and "selected" in a:
                values[self.select] = a.get("value", "")

        def handle_endtag(self, tag):
            if tag == "textarea":
                self.textarea = None
            if tag == "select":
                self.select = None

        def handle_data(self, data):
            if self.textarea:
                values[self.textarea] += data

    Reader().feed(page)
    for key, value in values.items():  # the browser sends textareas without the leading newline
        values[key] = value.lstrip("\n") if key.startswith("description") else value
    return values


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("voting_end_at", "9999-12-31T23:59", "between the years 2000 and 2099"),
        ("proposals_start_at", "0001-01-01T00:00", "between the years 2000 and 2099"),
        ("max_projects", "100000000000000000000", "from 0 to 1000000"),
        ("min_budget_share_percent", "101", "from 0 to 100"),
        ("name_en", "x" * 201, "at most 200 characters"),
        ("districts-0-name_en", "y" * 201, "at most 200 characters"),
        ("description_fr", "z" * 20_001, "at most 20000 characters"),
        ("budget", "9" * 41, "at most 40 characters"),
    ],
)
def test_staff_inputs_are_bounded_to_what_the_columns_hold(
    client, session, make_user, log_in, make_cycle, field, value, message
):
    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(slug="bounded", phase=None)
    log_in(staff)
    before = _count(session, AuditLogEntry)
    form = _edit_form(client, cycle.slug)
    form[field] = value
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=form)
    assert response.status_code == 200
    assert message in response.text
    assert _count(session, AuditLogEntry) == before


@pytest.mark.parametrize("page", ["100000000000000000000", "-1", "0", "1e3", "٣"])
def test_page_numbers_beyond_any_list_are_a_404(client, make_user, log_in, page):
    admin = make_user("admin@example.org", roles=["admin", "staff"])
    log_in(admin)
    assert client.get(f"/admin/?page={page}").status_code == 404
    assert client.get(f"/staff/audit-log?page={page}").status_code == 404


# --- The error page, whatever state the request is in -------------------------------------------


@pytest.fixture
def app_settings(database_url):
    from tests.conftest import TEST_SETTINGS

    return {**TEST_SETTINGS, "DATABASE_URL": database_url, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def broken_routes(app):
    from pb.extensions import db_session

    def crash():
        raise RuntimeError("a bug")

    def failed_statement():
        db_session().execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    app.add_url_rule("/test/crash", "test_crash", crash)
    app.add_url_rule("/test/failed-statement", "test_failed_statement", failed_statement)
    return app


@pytest.mark.parametrize("path", ["/test/crash", "/test/failed-statement"])
def test_a_server_error_for_a_signed_in_person_shows_the_styled_french_page(
    broken_routes, client, make_user, log_in, path
):
    user = make_user("ann@example.org", roles=["staff"], locale="fr_CA")
    log_in(user)
    response = client.get(path)
    assert response.status_code == 500
    assert "Une erreur s’est produite" in response.text
    assert "Mon compte" in response.text  # the page knows who is signed in
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_error_page_renders_even_when_the_signed_in_person_cannot_be_loaded(
    broken_routes, client, make_user, log_in, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from pb.extensions import login_manager

    user = make_user("ann@example.org", roles=["staff"])
    log_in(user)

    def database_down(_user_id):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(login_manager, "_user_callback", database_down)
    response = client.get("/test/crash", headers=FRENCH)
    assert response.status_code == 500
    assert "<h1>" in response.text and "pb.css" in response.text  # the styled page, as a visitor
    assert response.headers["X-Content-Type-Options"] == "nosniff"
