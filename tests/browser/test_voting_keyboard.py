"""Residents vote in a real browser: keyboard only (Tab to move, Space to tick, arrow keys to pick a
rank, Enter to act; never a mouse click) with a voter code and with a confirmed account, for a
knapsack, a ranked and an approval ballot; a revision; the receipt check after close (the app's
clock moved past the end of voting); a knapsack ballot cast with JavaScript off through "Update the
total" and the review step; the ballot on a 360-pixel-wide phone; the live total and the filters.

Casting changes data, so these tests use ``live_server`` (their own database, per backend) and move
its clock (``app.extensions["pb.clock"]``) as the web tests do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pb.models import Ballot, EligibilityBasis
from pb.services import eligibility
from pb.voter_codes import display
from tests.browser.conftest import PASSWORD, focused, set_timeouts, tab_to
from tests.browser.test_keyboard import keyboard_sign_in
from tests.factories import make_voting_cycle

pytestmark = pytest.mark.browser

BALLOTS = {
    # ballot type: the cycle's ballot settings
    "knapsack": {"ballot_type": "knapsack", "min_projects": 1},
    "ranked": {"ballot_type": "ranked", "ranking_length": 3, "min_projects": 1},
    "approval": {"ballot_type": "approval", "max_projects": 2},
}


@dataclass
class Vote:
    """A cycle in voting, at a moment of its voting window the app's clock is set to."""

    app: Any
    server: Any
    session: Any
    cycle: Any
    projects: list
    during: Any
    staff: Any

    def path(self, endpoint: str) -> str:
        return self.server.url_for(endpoint, slug=self.cycle.slug)

    def code(self, district: int | None = None) -> str:
        """A new voter code (``district``: the cycle's district by position; None: the whole cycle)."""
        district_id = None if district is None else self.cycle.districts[district].id
        batch = eligibility.create_code_batch(self.session, self.staff, self.cycle, 1, district_id, "", self.during)
        self.session.commit()
        return batch.codes[0]

    def voter_account(self, email: str = "voter@example.org") -> str:
        """A confirmed voter of district 0 (North), whose password is ``PASSWORD``; returns the e-mail."""
        from tests.factories import create_account

        user = create_account(self.session, email, password=PASSWORD)
        eligibility.confirm_voter(
            self.session, self.staff, self.cycle, user, basis=EligibilityBasis.IN_PERSON,
            district_id=self.cycle.districts[0].id, note="Lease", birth_date=None, citizen=True, now=self.during,
        )
        self.session.commit()
        return email

    def close(self) -> None:
        """Move the app's clock a minute past the end of voting."""
        after = self.cycle.voting_end_at + timedelta(minutes=1)
        self.app.extensions["pb.clock"] = lambda: after

    def statuses(self) -> list[str]:
        self.session.expire_all()
        return sorted(s.value for s in self.session.scalars(select(Ballot.status)))


def make_vote(app, live_server, session, make_user, kind: str) -> Vote:
    from pb.db import utcnow

    staff = make_user("staff@example.org", roles=["staff"])
    now = utcnow().replace(second=0, microsecond=0)
    cycle, projects, during = make_voting_cycle(session, staff, now=now, **BALLOTS[kind])
    app.extensions["pb.clock"] = lambda: during
    return Vote(app, live_server, session, cycle, projects, during, staff)


@pytest.fixture(params=list(BALLOTS))
def vote(request, app, live_server, session, make_user) -> Vote:
    return make_vote(app, live_server, session, make_user, request.param)


@pytest.fixture
def knapsack(app, live_server, session, make_user) -> Vote:
    return make_vote(app, live_server, session, make_user, "knapsack")


# --- keyboard steps --------------------------------------------------------------------------------


def press_and_wait(page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def enter_code(page, vote: Vote, code: str) -> None:
    """From the start page: Tab to the code field, type the code as printed, Enter: the ballot opens."""
    page.goto(vote.path("voting.start_vote"))
    tab_to(page, lambda f: f.get("name") == "code", "the voter code field")
    page.keyboard.type(display(code))
    press_and_wait(page)
    # The code's answer is the ballot itself; its form posts to the ballot's address.
    ballot = page.locator("form#ballot")
    assert ballot.count() == 1, page.locator("main").inner_text()
    assert ballot.get_attribute("action") == vote.path("voting.show_ballot")


def open_ballot_signed_in(page, vote: Vote, email: str) -> None:
    keyboard_sign_in(page, vote.server, email)
    page.goto(vote.path("voting.start_vote"))
    assert "You can vote in this cycle." in page.locator("main").inner_text()
    tab_to(page, lambda f: f.get("href") == vote.path("voting.show_ballot"), "the Open my ballot link")
    press_and_wait(page)


def in_page_order(page, ids: list[int], prefix: str) -> list[int]:
    """The projects' ids in the order their fields come on this voter's (shuffled) ballot."""
    order = page.evaluate(
        "prefix => [...document.querySelectorAll(`[id^='${prefix}']`)].map(e => e.id)", prefix
    )
    return sorted(ids, key=lambda i: order.index(f"{prefix}{i}"))


def choose(page, kind: str, project_ids: list[int]) -> None:
    """Fill in the ballot with the keyboard: Space ticks a box; a rank is picked with the arrow keys
    (``project_ids`` in order of preference for a ranked ballot)."""
    prefix = "rank-" if kind == "ranked" else "project-"
    ranks = {project_id: rank for rank, project_id in enumerate(project_ids, start=1)}
    for project_id in in_page_order(page, project_ids, prefix):
        tab_to(page, lambda f, i=project_id: f.get("id") == f"{prefix}{i}", f"the field of project {project_id}")
        if kind == "ranked":
            for _ in range(ranks[project_id]):
                page.keyboard.press("ArrowDown")
            assert page.locator(f"#rank-{project_id}").input_value() == str(ranks[project_id])
        else:
            page.keyboard.press("Space")
            assert page.locator(f"#project-{project_id}").is_checked()


def review_and_cast(page) -> str:
    """Tab to Review my ballot, Enter; on the review page Tab to Cast my ballot, Enter; the receipt."""
    tab_to(page, lambda f: f.get("tag") == "button" and f.get("value") == "review", "the Review my ballot button")
    press_and_wait(page)
    assert page.locator("h1").inner_text() == "Review your ballot", page.locator("main").inner_text()
    tab_to(page, lambda f: f.get("tag") == "button" and f.get("value") == "cast", "the Cast my ballot button")
    press_and_wait(page)
    assert page.locator("h1").inner_text() == "Your ballot was cast"
    return page.locator(".receipt code").inner_text()


def check_receipt(page, vote: Vote, receipt: str) -> str:
    page.goto(vote.path("voting.check_receipt"))
    tab_to(page, lambda f: f.get("name") == "receipt", "the receipt field")
    page.keyboard.type(receipt)
    press_and_wait(page)
    return page.locator(".receipt-result").inner_text()


# --- the tests -------------------------------------------------------------------------------------


def test_cast_with_a_code_using_the_keyboard(page, vote: Vote) -> None:
    kind = vote.cycle.ballot_type.value
    north_and_city = [vote.projects[2].id, vote.projects[0].id]  # city-wide lights, then the North crisis team
    enter_code(page, vote, vote.code(0))
    assert page.locator(f"form.ballot-{kind}").count() == 1
    choose(page, kind, north_and_city)
    receipt = review_and_cast(page)
    assert "Your ballot was cast and will be counted." in page.locator("main").inner_text()
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){3}", receipt)
    assert vote.statuses() == ["counted"]


def test_cast_with_an_account_using_the_keyboard(page, vote: Vote) -> None:
    kind = vote.cycle.ballot_type.value
    open_ballot_signed_in(page, vote, vote.voter_account())
    assert page.locator(f"form.ballot-{kind}").count() == 1
    choose(page, kind, [vote.projects[3].id])
    review_and_cast(page)
    assert "You will also get an e-mail within the hour" in page.locator("main").inner_text()
    assert vote.statuses() == ["counted"]


def test_revise_then_check_the_receipts_after_close(page, knapsack: Vote) -> None:
    vote, code = knapsack, knapsack.code(0)
    enter_code(page, vote, code)
    choose(page, "knapsack", [vote.projects[0].id])
    first = review_and_cast(page)
    # The code was forgotten on this device; typed again, it opens the ballot to change it.
    enter_code(page, vote, code)
    assert "You have voted already" in page.locator("main").inner_text()
    choose(page, "knapsack", [vote.projects[2].id, vote.projects[3].id])
    tab_to(page, lambda f: f.get("tag") == "button" and f.get("value") == "review", "the Review my ballot button")
    press_and_wait(page)
    assert "Casting this ballot replaces your earlier one" in page.locator("main").inner_text()
    tab_to(page, lambda f: f.get("tag") == "button" and f.get("value") == "cast", "the Cast my ballot button")
    press_and_wait(page)
    assert "It replaces your earlier one, which will not be counted." in page.locator("main").inner_text()
    second = page.locator(".receipt code").inner_text()
    assert vote.statuses() == ["counted", "replaced"]

    page.goto(vote.path("voting.check_receipt"))
    assert "once voting is over" in page.locator("main").inner_text()  # before close: no check yet
    assert page.locator("input[name=receipt]").count() == 0
    vote.close()
    assert "replaced by a later ballot" in check_receipt(page, vote, first)
    assert "This ballot was counted." in check_receipt(page, vote, second.upper().replace("-", " "))
    assert "No ballot of this vote has this receipt" in check_receipt(page, vote, "0000-0000-0000-0000")


def test_a_knapsack_ballot_without_javascript(browser, knapsack: Vote) -> None:
    vote = knapsack
    context = browser.new_context(base_url=vote.server.url, locale="en-CA", java_script_enabled=False)
    set_timeouts(context)
    try:
        page = context.new_page()
        enter_code(page, vote, vote.code(0))
        update = page.locator("button.ballot-update")
        assert update.is_visible(), "without JavaScript the Update the total button shows"
        summary = page.locator("#ballot-summary")
        assert summary.inner_text() == "Chosen: $0.00 of $100,000.00. Left: $100,000.00."
        page.locator(f"#project-{vote.projects[0].id}").check()
        page.locator(f"#project-{vote.projects[2].id}").check()
        assert summary.inner_text() == "Chosen: $0.00 of $100,000.00. Left: $100,000.00."  # nothing live
        with page.expect_navigation():
            update.click()
        assert summary.inner_text() == "Chosen: $90,000.00 of $100,000.00. Left: $10,000.00."
        assert page.locator(f"#project-{vote.projects[0].id}").is_checked()  # the choices are kept
        # Over the budget: the review names the rule and keeps the choices.
        page.locator(f"#project-{vote.projects[3].id}").check()
        with page.expect_navigation():
            page.locator("button[value=review]").click()
        assert page.locator(".error-summary").count() == 1
        assert "100,000" in page.locator(".error-summary").inner_text()
        assert page.locator(f"#project-{vote.projects[3].id}").is_checked()
        page.locator(f"#project-{vote.projects[3].id}").uncheck()
        with page.expect_navigation():
            page.locator("button[value=review]").click()
        assert page.locator("h1").inner_text() == "Review your ballot"
        assert "$90,000.00" in page.locator("tfoot").inner_text()
        with page.expect_navigation():
            page.locator("button[value=cast]").click()
        assert page.locator("h1").inner_text() == "Your ballot was cast"
    finally:
        context.close()
    assert vote.statuses() == ["counted"]


def test_the_ballot_fits_a_360_pixel_phone(browser, knapsack: Vote) -> None:
    vote = knapsack
    context = browser.new_context(
        base_url=vote.server.url, locale="fr-CA", viewport={"width": 360, "height": 740}, is_mobile=True,
        has_touch=True, device_scale_factor=2,
    )
    set_timeouts(context)
    try:
        page = context.new_page()
        enter_code(page, vote, vote.code())  # the whole cycle: every project, with the filters
        page.locator(".ballot-details").first.evaluate("d => { d.open = true; }")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        summary = page.locator("#ballot-summary")
        summary.scroll_into_view_if_needed()
        assert summary.is_visible() and "100\u00a0000,00\u00a0$" in summary.inner_text()
        box = summary.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    finally:
        context.close()


def test_the_live_total_and_the_filters(page, knapsack: Vote) -> None:
    vote = knapsack
    enter_code(page, vote, vote.code())  # every project: North, South and city-wide
    summary = page.locator("#ballot-summary")
    before = summary.inner_text()
    assert page.locator("button.ballot-update").is_hidden(), "JavaScript hides the Update the total button"
    choose(page, "knapsack", [vote.projects[1].id])
    expect_text(page, "#ballot-summary", "Chosen: $30,000.00 of $100,000.00. Left: $70,000.00.")
    assert summary.inner_text() != before
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no page load
    choose(page, "knapsack", [vote.projects[2].id])
    expect_text(page, "#ballot-summary", "Chosen: $80,000.00 of $100,000.00. Left: $20,000.00.")
    # The district filter: only North's projects stay visible (with the keyboard: arrow keys on the select).
    tab_to(page, lambda f: f.get("id") == "show-district", "the district filter")
    page.keyboard.press("ArrowDown")  # the first district: North
    north = vote.cycle.districts[0].id
    assert page.locator("#show-district").input_value() == str(north)
    items = page.locator(".ballot-project")
    shown = [items.nth(i).get_attribute("data-district") for i in range(items.count()) if items.nth(i).is_visible()]
    assert shown == [str(north)] * 2, shown  # North's crisis team and restorative circle
    assert page.locator(f"#project-{vote.projects[1].id}").is_hidden()
    assert page.locator(f"#project-{vote.projects[1].id}").is_checked(), "a hidden choice stays chosen"
    assert focused(page)["id"] == "show-district"


def expect_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).innerText.trim() === text", arg=[selector, text]
    )


def test_a_broken_limit_keeps_the_choices_with_the_keyboard(page, knapsack: Vote) -> None:
    vote = knapsack
    enter_code(page, vote, vote.code(0))
    chosen = [vote.projects[0].id, vote.projects[2].id, vote.projects[3].id]  # $110,000 > $100,000
    choose(page, "knapsack", chosen)
    expect_text(page, "#ballot-summary", "Chosen: $110,000.00, more than the budget of $100,000.00 by $10,000.00.")
    tab_to(page, lambda f: f.get("tag") == "button" and f.get("value") == "review", "the Review my ballot button")
    press_and_wait(page)
    assert page.evaluate("document.activeElement.classList.contains('error-summary')"), "the summary has the focus"
    assert all(page.locator(f"#project-{i}").is_checked() for i in chosen)
    assert vote.statuses() == []
