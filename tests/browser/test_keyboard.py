"""Keyboard only: Tab to move, type to fill, Enter or Space to act; never a mouse click. Every
element the focus reaches must show it.

Signing in and creating a cycle change data, so they have their own server and database, per
backend like the web tests (``live_server``). The others change nothing stored and share the
module's SQLite ``site``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PASSWORD, focused, tab_to

pytestmark = pytest.mark.browser


@pytest.fixture
def visitor(site) -> Iterator[Any]:
    """A page in a fresh context of the shared site, as a visitor who has chosen no language."""
    context = site.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def keyboard_sign_in(page, live_server, email: str, password: str = PASSWORD) -> None:
    """From the home page: the Sign in link, the two fields, then Space on the button."""
    page.goto(live_server.url_for("cycles.list_cycles"))
    sign_in_path = live_server.url_for("auth.sign_in")
    tab_to(page, lambda f: f["href"] == sign_in_path, "the Sign in link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(sign_in_path)))
    tab_to(page, lambda f: f["name"] == "email", "the e-mail field")
    page.keyboard.type(email)
    tab_to(page, lambda f: f["name"] == "password", "the password field")
    page.keyboard.type(password)
    tab_to(
        page, lambda f: f["tag"] == "button" and f["type"] == "submit" and f["in_main"], "the Sign in button"
    )
    page.keyboard.press("Space")
    page.wait_for_url(lambda url: sign_in_path not in url)


def test_sign_in_with_the_keyboard(live_server, page, make_user) -> None:
    make_user(email="resident@example.org", password=PASSWORD)
    keyboard_sign_in(page, live_server, "resident@example.org")
    assert page.locator(".flash-success").inner_text() == "You are signed in."
    account_path = live_server.url_for("auth.account")
    assert page.locator(f"nav a[href='{account_path}']").count() == 1
    tab_to(page, lambda f: f["href"] == account_path, "the My account link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(account_path) + "$"))
    assert "resident@example.org" in page.locator("main").inner_text()


def test_a_wrong_password_is_refused_with_the_keyboard(site, visitor) -> None:
    page = visitor
    page.goto(site.url_for("auth.sign_in"))
    tab_to(page, lambda f: f["name"] == "email", "the e-mail field")
    page.keyboard.type(site.account("resident").email)
    tab_to(page, lambda f: f["name"] == "password", "the password field")
    page.keyboard.type("not the password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".error-summary").count() == 1
    assert page.locator("nav form[action$='/sign-out']").count() == 0
    assert page.evaluate("document.activeElement.classList.contains('error-summary')"), (
        "the summary has the focus"
    )


def test_the_error_summary_leads_to_the_field(site, visitor) -> None:
    page = visitor
    page.goto(site.url_for("auth.sign_in"))
    tab_to(
        page, lambda f: f["tag"] == "button" and f["type"] == "submit" and f["in_main"], "the Sign in button"
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')"), (
        "the summary has the focus"
    )
    tab_to(page, lambda f: f["href"] == "#email", "the summary's link to the e-mail field")
    page.keyboard.press("Enter")
    assert focused(page)["name"] == "email"


CYCLE_TEXT = {
    "name_en": "Riverside 2030",
    "name_fr": "Riverside 2030 (fr)",
    "slug": "riverside-2030",
    "description_en": "Safer streets for Riverside.",
    "description_fr": "Des rues plus sûres à Riverside.",
    "budget": "50000.00",
    "districts-0-name_en": "North",
    "districts-0-name_fr": "Nord",
    "categories-0-name_en": "Lighting",
    "categories-0-name_fr": "Éclairage",
}
# (month, day, year, hour, minute): one phase after another, in the cycle's time zone.
CYCLE_DATES = {
    "proposals_start_at": ("01", "05", "2030", "09", "00"),
    "proposals_end_at": ("02", "05", "2030", "09", "00"),
    "review_start_at": ("02", "05", "2030", "09", "00"),
    "review_end_at": ("03", "05", "2030", "09", "00"),
    "voting_start_at": ("03", "05", "2030", "09", "00"),
    "voting_end_at": ("04", "05", "2030", "09", "00"),
    "results_start_at": ("04", "05", "2030", "09", "00"),
}


def type_datetime(page, month: str, day: str, year: str, hour: str, minute: str) -> None:
    """Chromium's date-time field: month, day and year move on by themselves; Tab leaves the year."""
    page.keyboard.type(month + day + year)
    page.keyboard.press("Tab")
    page.keyboard.type(hour + minute + "A")
    assert page.evaluate("document.activeElement.value") == f"{year}-{month}-{day}T{hour}:{minute}"


def test_staff_create_a_cycle_with_the_keyboard(live_server, page, make_user, session) -> None:
    make_user(email="staff@example.org", roles=["staff"], password=PASSWORD)
    keyboard_sign_in(page, live_server, "staff@example.org")

    dashboard = live_server.url_for("staff.dashboard")
    tab_to(page, lambda f: f["href"] == dashboard, "the Staff link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(dashboard) + "$"))
    create = live_server.url_for("staff.create_cycle")
    tab_to(page, lambda f: f["href"] == create, "the Create a budget cycle link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(create) + "$"))

    # Skip the header, then walk the form from top to bottom, filling what the cycle needs.
    tab_to(page, lambda f: f["href"] == "#main", "the skip link")
    page.keyboard.press("Enter")
    filled: set[str] = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        field = focused(page)
        assert field["visible"], f"no visible focus on {field}"
        if field["in_main"] and field["type"] == "submit":
            break
        name = field["name"]
        if name in filled:  # the focus moves through a date-time field's parts
            continue
        if name in CYCLE_TEXT:
            page.keyboard.type(CYCLE_TEXT[name])
            filled.add(name)
        elif name in CYCLE_DATES:
            type_datetime(page, *CYCLE_DATES[name])
            filled.add(name)
    else:
        raise AssertionError("the Save button was not reached")
    assert filled == set(CYCLE_TEXT) | set(CYCLE_DATES)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert urlsplit(page.url).path == dashboard, page.locator(".error-summary").all_inner_texts()
    assert "Riverside 2030" in page.locator(".flash-success").inner_text()
    cycle_page = live_server.url_for("cycles.show_cycle", slug="riverside-2030")
    tab_to(page, lambda f: f["href"] == cycle_page, "the new cycle's link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(cycle_page) + "$"))
    assert page.locator("h1").inner_text() == "Riverside 2030"
    assert "North" in page.locator("main").inner_text()
    assert "Lighting" in page.locator("main").inner_text()


def test_switch_language_with_the_keyboard(site, visitor) -> None:
    page = visitor
    page.goto(site.url_for("cycles.list_cycles"))
    assert page.locator("html").get_attribute("lang") == "en-CA"
    tab_to(page, lambda f: f["value"] == "fr_CA", "the Français button")
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.lang === 'fr-CA'")
    assert page.locator(".language-switch button").get_attribute("value") == "en_CA"
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies["pb_locale"] == "fr_CA"
    # The French catalogue is in use: a page declared French must not be English (WCAG 3.1.1).
    assert page.locator("a.skip-link").inner_text() != "Skip to main content"


def test_the_browser_language_is_used_first(site) -> None:
    context = site.new_context(locale="fr-CA")
    try:
        page = context.new_page()
        page.goto(site.url_for("cycles.list_cycles"))
        assert page.locator("html").get_attribute("lang") == "fr-CA"
    finally:
        context.close()
