"""A resident supports a proposal, comments on it and replies to a comment with the keyboard only
(Tab, typing, Enter and Space; no mouse, no JavaScript of ours); the page they land on passes axe."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PASSWORD, assert_accessible, tab_to
from tests.browser.test_keyboard import keyboard_sign_in
from tests.factories import make_cycle, make_proposal

pytestmark = pytest.mark.browser


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_resident_supports_comments_and_replies_with_the_keyboard(live_server, page, make_user, session) -> None:
    author = make_user(email="author@example.org", password=PASSWORD, display_name="Amina Author")
    make_user(email="resident@example.org", password=PASSWORD, display_name="Rémi Resident")
    cycle = make_cycle(session, phase="proposals", slug="lakeview")
    cycle.deliberation_during_proposals = True
    session.commit()
    proposal = make_proposal(session, author, cycle)
    keyboard_sign_in(page, live_server, "resident@example.org")
    show = live_server.url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id)
    page.goto(live_server.url + show)

    # Support: the button, then Space.
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Support this proposal", "the Support button")
    press_and_wait(page, "Space")
    page.wait_for_url(re.compile(re.escape(show) + "#support$"))
    assert "1 person supports this proposal." in page.locator("#support").inner_text()
    assert page.locator("#support button", has_text="Withdraw my support").count() == 1

    # Comment: the field, typing, the Post button.
    tab_to(page, lambda f: f["id"] == "new-comment-body", "the comment field")
    page.keyboard.type("Lights would make the path <safer>.")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Post the comment", "the Post button")
    press_and_wait(page, "Enter")
    comment = page.locator("li.comment").first
    assert "Lights would make the path <safer>." in comment.inner_text()
    assert comment.locator(".comment-body").get_attribute("lang") == "en-CA"

    # Reply: open the disclosure with Enter, type, send with Space.
    tab_to(page, lambda f: f["tag"] == "summary" and f["text"] == "Reply to this comment", "the Reply disclosure")
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["tag"] == "textarea" and f["name"] == "body" and f["id"].startswith("reply-"), "the reply")
    page.keyboard.type("And cameras are not needed.")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Post the reply", "the Post the reply button")
    press_and_wait(page, "Space")
    replies = page.locator("ol.replies li.comment")
    assert replies.count() == 1 and "And cameras are not needed." in replies.first.inner_text()
    assert "Your reply is posted." in page.locator(".flash-success").inner_text()
    assert_accessible(page, "en")
