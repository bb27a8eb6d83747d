"""From proposal to ballot project in the browser: staff assign a budget delegate, the delegate
drafts the review and suggests merging a duplicate, staff (in French) confirm the review and merge
the duplicate, the delegate drafts a ballot project from the proposal, and staff confirm it. Real
CSRF protection, once per database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pb.models import BallotProject, Proposal, ProposalStatus
from tests.browser.conftest import LOCALE_CODES, assert_accessible, set_timeouts, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def arranged(session, make_user):
    from tests.factories import make_cycle, make_proposal

    staff = make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")
    make_user("delegate@example.org", roles=["delegate"], display_name="Dee Delegate")
    author = make_user("author@example.org", display_name="Amina Author")
    other = make_user("other@example.org", display_name="Omar Other")
    cycle = make_cycle(session, staff, slug="lakeview")
    proposal = make_proposal(session, author, cycle, title="Lights on the river path")
    duplicate = make_proposal(session, other, cycle, title="Path lights please")
    return cycle, proposal, duplicate


def new_page(browser, live_server, language: str = "en"):
    context = browser.new_context(base_url=live_server.url, locale="en-CA")
    set_timeouts(context)
    context.add_cookies([{"name": "pb_locale", "value": LOCALE_CODES[language], "url": live_server.url}])
    return context, context.new_page()


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} [type=submit]").first.click()


def test_a_delegate_reviews_and_drafts_a_ballot_project_and_staff_confirm_and_merge(
    browser, live_server, session, arranged
):
    cycle, proposal, duplicate = arranged
    review_path = live_server.url_for("review.review_proposal", slug=cycle.slug, proposal_id=proposal.id)
    duplicate_path = live_server.url_for("review.review_proposal", slug=cycle.slug, proposal_id=duplicate.id)

    # Staff assign the delegate to both proposals.
    staff_context, staff = new_page(browser, live_server, "fr")
    try:
        sign_in(staff, "staff@example.org")
        for path in (review_path, duplicate_path):
            staff.goto(path)
            staff.locator("select[name=reviewer]").select_option(label="Dee Delegate")
            submit(staff, "form[action$='/assign']")
            assert "Dee Delegate" in staff.locator("#reviewers-heading + ul").inner_text()
    finally:
        staff_context.close()

    # The delegate finds the proposal in their queue, drafts the review, suggests the merge.
    delegate_context, delegate = new_page(browser, live_server)
    try:
        sign_in(delegate, "delegate@example.org")
        delegate.goto(live_server.url_for("review.list_review_cycles"))
        delegate.get_by_role("link", name=re.compile("Proposals to review")).click()
        delegate.locator("select[name=assignment]").select_option("mine")
        submit(delegate, "form[role=search]")
        delegate.get_by_role("link", name="Lights on the river path").click()
        delegate.wait_for_url(re.compile(re.escape(review_path) + "$"))
        delegate.locator("select[name=feasibility]").select_option("feasible")
        delegate.get_by_label("Cost estimate").fill("12 500,00")
        delegate.get_by_label("Civil liberties and surveillance impact").fill("Lights only: no cameras.")
        delegate.get_by_label("Public summary").fill("Feasible with warm LED fixtures.")
        delegate.get_by_label("Internal notes (reviewers only, never public)").fill("Parks may object.")
        submit(delegate, "form:has(textarea[name=internal_notes])")
        assert delegate.locator(".flash-success").inner_text() == "The review was saved."
        assert delegate.locator("form[action$='/confirm']").count() == 0  # delegates cannot confirm

        delegate.goto(duplicate_path)
        delegate.get_by_label("Number of the proposal it duplicates").fill(str(proposal.id))
        delegate.get_by_label("Public reason for the merge").fill("Both ask for lights on the same path.")
        submit(delegate, "form[action$='/merge']")
        assert delegate.locator(".flash-success").inner_text() == "Your suggestion was sent to staff."
    finally:
        delegate_context.close()

    # Staff, in French: confirm the review, merge the duplicate.
    staff_context, staff = new_page(browser, live_server, "fr")
    try:
        sign_in(staff, "staff@example.org")
        staff.goto(review_path)
        assert "Parks may object." in staff.locator("textarea[name=internal_notes]").input_value()
        submit(staff, "form[action$='/confirm']")
        assert staff.locator(".flash-success").count() == 1

        staff.goto(duplicate_path)
        assert staff.locator("input[name=target]").input_value() == str(proposal.id)  # the suggestion, ready
        submit(staff, "form[action$='/merge']")
        assert staff.locator(".flash-success").count() == 1

        staff.goto(review_path)
        assert "Path lights please" in staff.locator("#merged-heading + ul").inner_text()
    finally:
        staff_context.close()

    # The delegate drafts the ballot project from the feasible proposal.
    delegate_context, delegate = new_page(browser, live_server)
    try:
        sign_in(delegate, "delegate@example.org")
        delegate.goto(review_path)
        with delegate.expect_navigation():
            delegate.locator("a[href*='/projects/new']").click()
        assert delegate.locator("input[name=title_en]").input_value() == "Lights on the river path"
        assert delegate.locator(f"input[name=proposals][value='{proposal.id}']").is_checked()
        delegate.locator("input[name=title_fr]").fill("Éclairage du sentier riverain")
        delegate.locator("textarea[name=description_en]").fill("Warm LED lights from the bridge to the centre.")
        delegate.locator("textarea[name=description_fr]").fill("Des lampes DEL chaudes du pont au centre.")
        submit(delegate, "main form[method=post]")
        assert "Draft by a budget delegate — waiting for staff" in delegate.locator("main table").inner_text()
        assert delegate.locator("form[action$='/confirm']").count() == 0
    finally:
        delegate_context.close()
    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.FEASIBLE  # not on the ballot yet

    # Staff, in French, confirm the draft from the list: it is on the ballot.
    staff_context, staff = new_page(browser, live_server, "fr")
    try:
        sign_in(staff, "staff@example.org")
        staff.goto(live_server.url_for("review.list_projects", slug=cycle.slug))
        assert "Ébauche d’une personne déléguée au budget" in staff.locator("main table").inner_text()
        submit(staff, "form[action$='/confirm']")
        assert staff.locator(".flash-success").count() == 1
        assert "Éclairage du sentier riverain" in staff.locator("main table").inner_text()
        assert "Ébauche" not in staff.locator("main table").inner_text()
        assert_accessible(staff, "fr")
    finally:
        staff_context.close()

    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.ON_BALLOT
    merged = session.get(Proposal, duplicate.id)
    assert merged.status is ProposalStatus.MERGED and merged.merged_into_id == proposal.id
    project = session.scalar(select(BallotProject))
    assert project.is_confirmed and project.drafted_by_role == "delegate"
    assert project.cost_cents == 12_500_00 and [p.id for p in project.proposals] == [proposal.id]
