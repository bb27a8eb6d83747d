"""A resident proposes a project with the keyboard only, with a photo and its alt text, in English and
in French; the page they land on passes axe."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.browser.conftest import PASSWORD, assert_accessible, focused, tab_to
from tests.browser.test_keyboard import keyboard_sign_in
from tests.factories import make_cycle

pytestmark = pytest.mark.browser

TEXT = {
    "en": {
        "title": "Lights on the river path",
        "summary": "Warm lights from the bridge to the community centre.",
        "description": "The path is dark after 5 pm in winter.",
        "location": "River path",
        "estimated_cost": "25000",
        "photo_alt": "The river path at night, with one broken lamp",
        "submitted": "Your proposal is submitted and public.",
    },
    "fr": {
        "title": "Éclairage du sentier riverain",
        "summary": "Des lumières chaudes du pont au centre communautaire.",
        "description": "Le sentier est sombre après 17 h en hiver.",
        "location": "Sentier riverain",
        "estimated_cost": "25 000,00",
        "photo_alt": "Le sentier la nuit, avec un lampadaire brisé",
        "submitted": "Votre proposition est soumise et publique.",
    },
}


def photo_file(tmp_path) -> str:
    path = tmp_path / "path.jpg"
    Image.new("RGB", (120, 80), (30, 40, 90)).save(path, format="JPEG")
    return str(path)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_resident_submits_a_proposal_with_a_photo_using_the_keyboard(
    live_server, page, make_user, session, tmp_path, language
) -> None:
    cycle = make_cycle(session, phase="proposals", slug="lakeview")
    make_user(email="resident@example.org", password=PASSWORD, locale="fr_CA" if language == "fr" else "en_CA")
    keyboard_sign_in(page, live_server, "resident@example.org")
    if language == "fr":
        page.context.add_cookies([{"name": "pb_locale", "value": "fr_CA", "url": live_server.url}])

    page.goto(live_server.url_for("proposals.list_proposals", slug=cycle.slug))
    new = live_server.url_for("proposals.new_proposal", slug=cycle.slug)
    tab_to(page, lambda f: f["href"] == new, "the Propose a project link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(new) + "$"))
    assert page.locator("html").get_attribute("lang") == ("fr-CA" if language == "fr" else "en-CA")

    text = TEXT[language]
    tab_to(page, lambda f: f["href"] == "#main", "the skip link")
    page.keyboard.press("Enter")
    filled: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        field = focused(page)
        assert field["visible"], f"no visible focus on {field}"
        if field["in_main"] and field["type"] == "submit":
            break
        name = field["name"]
        if name in text and name not in filled:
            page.keyboard.type(text[name])
            filled.add(name)
        elif name == "photo" and name not in filled:
            # The file dialog belongs to the operating system; the keyboard reaches the field.
            page.locator("input[name=photo]").set_input_files(photo_file(tmp_path))
            filled.add(name)
    else:
        raise AssertionError("the Submit button was not reached")
    assert {"title", "summary", "description", "photo", "photo_alt"} <= filled
    assert page.evaluate("document.activeElement.name") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.locator(".flash").first.inner_text() == text["submitted"], page.locator("main").inner_text()
    assert page.locator("h1").inner_text() == text["title"]
    assert page.locator("h1").get_attribute("lang") == ("fr-CA" if language == "fr" else "en-CA")
    image = page.locator("main img.photo")
    assert image.get_attribute("alt") == text["photo_alt"]
    assert page.evaluate("document.querySelector('main img.photo').naturalWidth") == 120
    assert_accessible(page, language)
