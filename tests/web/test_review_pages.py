"""The review pages: who may open them, each form, hostile input, another cycle's proposal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pb.models import AuditLogEntry, BallotProject, ProposalStatus, Review
from pb.services import review as review_service
from tests.factories import make_proposal

ENGLISH = {"Accept-Language": "en-CA"}
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author@example.org", display_name="Amina Author"),
        "staff": make_user("staff@example.org", roles=["staff"], display_name="Sam Staff"),
        "delegate": make_user("delegate@example.org", roles=["delegate"], display_name="Dee Delegate"),
        "resident": make_user("resident@example.org", display_name="Rae Resident"),
    }


@pytest.fixture
def cycle(make_cycle):
    return make_cycle(slug="lakeview")


@pytest.fixture
def proposal(session, cycle, people):
    return make_proposal(session, people["author"], cycle, title="Lights on the path")


def page_of(proposal, suffix: str = "") -> str:
    return f"/review/{proposal.cycle.slug}/proposals/{proposal.id}{suffix}"


def assign(session, people, proposal):
    from pb.db import utcnow

    review_service.assign_reviewer(session, people["staff"], proposal, people["delegate"], utcnow())
    session.commit()


REVIEW_FORM = {
    "feasibility": "feasible",
    "public_reason": "",
    "cost_estimate": "12,500.00",
    "civil_liberties": "No cameras.",
    "equity": "Night-shift workers.",
    "partner_capacity": "The centre can maintain it.",
    "public_summary": "Feasible with LED fixtures.",
    "internal_notes": "The councillor is lukewarm.",
}


@pytest.mark.parametrize(
    "path",
    ["/review/", "/review/lakeview", "/review/lakeview/projects", "PROPOSAL"],
)
def test_residents_are_refused_and_visitors_sent_to_sign_in(client, log_in, people, proposal, path):
    path = page_of(proposal) if path == "PROPOSAL" else path
    assert client.get(path).status_code == 302
    log_in(people["resident"])
    assert client.get(path).status_code == 403
    log_in(people["author"])
    assert client.post(page_of(proposal), data=REVIEW_FORM).status_code == 403
    assert client.get(path).status_code == 403


def test_delegates_and_staff_see_the_queue_with_filters(client, log_in, session, people, proposal, make_cycle):
    assign(session, people, proposal)
    other = make_proposal(session, people["author"], proposal.cycle, title="Youth drop-in nights")
    log_in(people["delegate"])
    home = client.get("/review/", headers=ENGLISH)
    assert home.status_code == 200 and "/review/lakeview" in home.text
    everything = client.get("/review/lakeview", headers=ENGLISH).text
    assert "Lights on the path" in everything and "Youth drop-in nights" in everything
    mine = client.get("/review/lakeview?assignment=mine", headers=ENGLISH).text
    assert "Lights on the path" in mine and "Youth drop-in nights" not in mine
    unassigned = client.get("/review/lakeview?assignment=unassigned", headers=ENGLISH).text
    assert "Youth drop-in nights" in unassigned and "Lights on the path" not in unassigned
    assert "Youth" not in client.get("/review/lakeview?status=feasible").text
    # Unknown filters are ignored, a page past the end is a 404.
    assert client.get("/review/lakeview?status=nonsense&assignment=x").status_code == 200
    assert client.get("/review/lakeview?page=9").status_code == 404
    assert other.id


def test_a_delegate_drafts_a_review_and_cannot_confirm(client, log_in, session, people, proposal):
    assign(session, people, proposal)
    log_in(people["delegate"])
    page = client.get(page_of(proposal), headers=ENGLISH)
    assert page.status_code == 200 and 'name="internal_notes"' in page.text
    assert "Confirm this review" not in page.text
    response = client.post(page_of(proposal), data=REVIEW_FORM, headers=ENGLISH)
    assert response.status_code == 302
    session.expire_all()
    review = session.scalar(select(Review))
    assert review.drafted_by_id == people["delegate"].id and review.cost_estimate_cents == 12_500_00
    assert review.proposal.status is ProposalStatus.UNDER_REVIEW
    assert client.post(page_of(proposal, "/confirm"), headers=ENGLISH).status_code == 403
    session.expire_all()
    assert not session.scalar(select(Review)).is_confirmed


def test_a_delegate_not_assigned_reads_but_cannot_write(client, log_in, session, people, proposal):
    log_in(people["delegate"])
    page = client.get(page_of(proposal), headers=ENGLISH)
    assert page.status_code == 200 and 'name="internal_notes"' not in page.text
    response = client.post(page_of(proposal), data=REVIEW_FORM, headers=ENGLISH)
    assert "not asked you" in response.text and 'class="error-summary"' in response.text
    assert session.scalar(select(func.count(Review.id))) == 0


def test_staff_assign_confirm_and_the_public_page_hides_internal_notes(client, log_in, session, people, proposal):
    log_in(people["staff"])
    page = client.get(page_of(proposal), headers=ENGLISH)
    assert "Dee Delegate" in page.text  # offered in the assignment list
    assert client.post(page_of(proposal, "/assign"), data={"reviewer": str(people["delegate"].id)}).status_code == 302
    # A resident is not offered and is refused.
    refused = client.post(page_of(proposal, "/assign"), data={"reviewer": str(people["resident"].id)})
    assert 'class="error-summary"' in refused.text
    client.post(page_of(proposal), data=REVIEW_FORM)
    assert client.post(page_of(proposal, "/confirm")).status_code == 302
    session.expire_all()
    assert session.scalar(select(Review)).proposal.status is ProposalStatus.FEASIBLE

    log_in(people["resident"])
    shown = client.get(f"/cycles/lakeview/proposals/{proposal.id}", headers=ENGLISH).text
    log_in(people["staff"])
    assert "Feasible with LED fixtures." in shown and "$12,500.00" in shown
    assert "councillor" not in shown and "confirmed by city staff" in shown

    client.post(page_of(proposal, "/unassign"), data={"reviewer_id": str(people["delegate"].id)})
    actions = set(session.scalars(select(AuditLogEntry.action)))
    assert {"review.assigned", "review.drafted", "review.confirmed", "review.unassigned"} <= actions


def test_not_feasible_without_a_reason_is_refused_next_to_the_field(client, log_in, session, people, proposal):
    log_in(people["staff"])
    response = client.post(page_of(proposal), data={**REVIEW_FORM, "feasibility": "not_feasible"}, headers=ENGLISH)
    assert response.status_code == 200
    assert 'id="public_reason-error"' in response.text and "right to know" in response.text
    assert session.scalar(select(func.count(Review.id))) == 0


def test_an_unreadable_amount_is_shown_next_to_its_field(client, log_in, session, people, proposal):
    log_in(people["staff"])
    response = client.post(page_of(proposal), data={**REVIEW_FORM, "cost_estimate": "twelve"}, headers=ENGLISH)
    assert 'id="cost_estimate-error"' in response.text
    assert session.scalar(select(func.count(Review.id))) == 0


def test_html_is_shown_as_text_and_fields_not_on_the_form_are_ignored(client, log_in, session, people, proposal):
    log_in(people["staff"])
    data = {
        **REVIEW_FORM,
        "public_summary": SCRIPT,
        "internal_notes": SCRIPT,
        "drafted_by_id": str(people["resident"].id),
        "confirmed_by_id": str(people["staff"].id),
        "status": "on_ballot",
    }
    client.post(page_of(proposal), data=data)
    session.expire_all()
    review = session.scalar(select(Review))
    assert review.drafted_by_id == people["staff"].id and review.confirmed_by_id is None
    assert review.proposal.status is ProposalStatus.UNDER_REVIEW
    page = client.get(page_of(proposal)).text
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_another_cycles_proposal_is_a_404(client, log_in, session, people, proposal, make_cycle):
    make_cycle(slug="elsewhere")
    log_in(people["staff"])
    assert client.get(f"/review/elsewhere/proposals/{proposal.id}").status_code == 404
    assert client.post(f"/review/elsewhere/proposals/{proposal.id}", data=REVIEW_FORM).status_code == 404
    assert client.get("/review/no-such-cycle").status_code == 404
    draft = make_proposal(session, people["author"], proposal.cycle, submit=False)
    assert client.get(page_of(draft)).status_code == 404


def test_a_delegate_suggests_a_merge_and_staff_confirm_it(client, log_in, session, people, proposal):
    duplicate = make_proposal(session, people["resident"], proposal.cycle, title="Path lights")
    assign(session, people, duplicate)
    log_in(people["delegate"])
    response = client.post(page_of(duplicate, "/merge"), data={"target": str(proposal.id), "reason": "Same path."})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(type(duplicate), duplicate.id).status is ProposalStatus.SUBMITTED

    log_in(people["staff"])
    page = client.get(page_of(duplicate), headers=ENGLISH).text
    assert "suggested merging this proposal into proposal" in page and 'value="Same path.' not in page
    assert "Same path." in page
    bad = client.post(page_of(duplicate, "/merge"), data={"target": str(duplicate.id), "reason": "x"})
    assert 'id="target-error"' in bad.text
    assert client.post(page_of(duplicate, "/merge"), data={"target": str(proposal.id), "reason": "Same path."}).status_code == 302
    session.expire_all()
    merged = session.get(type(duplicate), duplicate.id)
    assert merged.status is ProposalStatus.MERGED and merged.merged_into_id == proposal.id
    assert "Path lights" in client.get(page_of(proposal)).text
    public = client.get(f"/cycles/lakeview/proposals/{proposal.id}", headers=ENGLISH).text
    assert "Path lights" in public and "Proposed by Rae Resident" in public  # the merged author is credited


def _feasible(client, session, proposal):
    client.post(page_of(proposal), data=REVIEW_FORM)
    client.post(page_of(proposal, "/confirm"))
    session.expire_all()


PROJECT_FORM = {
    "title_en": "River path lighting",
    "title_fr": "Éclairage du sentier riverain",
    "description_en": "LED lights.",
    "description_fr": "Des lampes DEL.",
    "cost": "12 500,00",
    "district": "",
    "category": "",
}


def test_staff_turn_a_feasible_proposal_into_a_ballot_project(client, log_in, session, people, proposal):
    log_in(people["staff"])
    _feasible(client, session, proposal)
    review_page = client.get(page_of(proposal), headers=ENGLISH).text
    assert f"/review/lakeview/projects/new?proposal={proposal.id}" in review_page
    form = client.get(f"/review/lakeview/projects/new?proposal={proposal.id}", headers=ENGLISH).text
    assert 'value="Lights on the path"' in form and 'value="12500.00"' in form and "checked" in form
    response = client.post(
        "/review/lakeview/projects/new", data={**PROJECT_FORM, "proposals": str(proposal.id)}, headers=ENGLISH
    )
    assert response.status_code == 302
    session.expire_all()
    project = session.scalar(select(BallotProject))
    assert [p.id for p in project.proposals] == [proposal.id] and project.cost_cents == 12_500_00
    assert project.proposals[0].status is ProposalStatus.ON_BALLOT
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert "River path lighting" in listing and "Éclairage du sentier riverain" in listing

    edit = f"/review/lakeview/projects/{project.id}"
    assert client.get(edit).status_code == 200
    client.post(edit, data={**PROJECT_FORM, "title_en": SCRIPT, "cycle_id": "99", "position": "7"})
    session.expire_all()
    project = session.scalar(select(BallotProject))
    assert project.title_en == SCRIPT and project.position == 1
    assert SCRIPT not in client.get("/review/lakeview/projects").text

    assert client.post(f"{edit}/delete").status_code == 302
    session.expire_all()
    assert session.scalar(select(func.count(BallotProject.id))) == 0


def test_a_project_form_shows_each_problem(client, log_in, session, people, cycle):
    log_in(people["staff"])
    response = client.post(
        "/review/lakeview/projects/new",
        data={**PROJECT_FORM, "title_fr": "", "cost": "1 000 000,00", "district": "999"},
        headers=ENGLISH,
    )
    assert response.status_code == 200 and 'class="error-summary"' in response.text
    assert 'id="district-error"' in response.text  # not one of the choices
    response = client.post(
        "/review/lakeview/projects/new", data={**PROJECT_FORM, "title_fr": "", "cost": "1 000 000,00"}, headers=ENGLISH
    )
    assert 'id="title_fr-error"' in response.text and 'id="cost-error"' in response.text
    assert "more than the budget" in response.text and "$100,000.00" in response.text
    assert session.scalar(select(func.count(BallotProject.id))) == 0


def test_a_delegate_drafts_a_ballot_project_and_staff_confirm_it(client, log_in, session, people, proposal):
    log_in(people["staff"])
    _feasible(client, session, proposal)
    log_in(people["delegate"])
    review_page = client.get(page_of(proposal), headers=ENGLISH).text
    assert f"/review/lakeview/projects/new?proposal={proposal.id}" in review_page
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert "Create a ballot project" in listing
    form = client.get(f"/review/lakeview/projects/new?proposal={proposal.id}", headers=ENGLISH).text
    assert "draft until staff confirm it" in form and 'value="Lights on the path"' in form
    # Fields not on the form are ignored: it is a draft of this cycle, made by the delegate.
    response = client.post(
        "/review/lakeview/projects/new",
        data={
            **PROJECT_FORM,
            "title_en": SCRIPT,
            "proposals": str(proposal.id),
            "confirmed_at": "2026-01-01T00:00:00",
            "confirmed_by_id": str(people["staff"].id),
            "drafted_by_role": "staff",
            "cycle_id": "99",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 302
    session.expire_all()
    project = session.scalar(select(BallotProject))
    assert not project.is_confirmed and project.drafted_by_role == "delegate"
    assert project.created_by_id == people["delegate"].id and project.cycle_id == proposal.cycle_id
    assert proposal.status is ProposalStatus.FEASIBLE  # not on the ballot until staff confirm
    review_page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "part of the draft ballot project" in review_page
    assert f"/review/lakeview/projects/new?proposal={proposal.id}" not in review_page
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert "Draft by a budget delegate — waiting for staff" in listing
    assert SCRIPT not in listing and "&lt;script&gt;" in listing
    assert f"/projects/{project.id}/confirm" not in listing and f"/projects/{project.id}/delete" not in listing
    edit = f"/review/lakeview/projects/{project.id}"
    assert client.post(edit, data=PROJECT_FORM).status_code == 302  # a delegate edits a draft
    # ... but neither confirms nor removes it.
    assert client.post(f"{edit}/confirm").status_code == 403
    assert client.post(f"{edit}/delete").status_code == 403
    session.expire_all()
    project = session.scalar(select(BallotProject))
    assert project.title_en == "River path lighting" and not project.is_confirmed

    log_in(people["staff"])
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert f"/projects/{project.id}/confirm" in listing and "Confirm River path lighting" in listing
    assert client.post(f"{edit}/confirm", headers=ENGLISH).status_code == 302
    session.expire_all()
    project = session.scalar(select(BallotProject))
    assert project.is_confirmed and project.confirmed_by_id == people["staff"].id
    assert project.proposals[0].status is ProposalStatus.ON_BALLOT
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert "is confirmed: it is on the ballot" in listing and "waiting for staff" not in listing
    actions = set(session.scalars(select(AuditLogEntry.action)))
    assert {"project.drafted", "project.update", "project.confirmed"} <= actions

    # Confirmed: the delegate can no longer change it.
    log_in(people["delegate"])
    assert client.get(edit).status_code == 403
    assert client.post(edit, data={**PROJECT_FORM, "title_en": "Changed"}).status_code == 403
    listing = client.get("/review/lakeview/projects", headers=ENGLISH).text
    assert f'href="{edit}"' not in listing


def test_residents_cannot_reach_ballot_projects(client, log_in, session, people, cycle):
    from pb.db import utcnow
    from pb.services.projects import ProjectInput, create_project

    project = create_project(session, people["delegate"], cycle, ProjectInput("A", "A", "B", "B", 100), utcnow())
    session.commit()
    log_in(people["resident"])
    base = "/review/lakeview/projects"
    for path in (base, f"{base}/new", f"{base}/{project.id}"):
        assert client.get(path).status_code == 403
    for path in (f"{base}/new", f"{base}/{project.id}", f"{base}/{project.id}/confirm", f"{base}/{project.id}/delete"):
        assert client.post(path, data=PROJECT_FORM).status_code == 403
    session.expire_all()
    assert not session.scalar(select(BallotProject)).is_confirmed

    log_in(people["staff"])
    response = client.post(f"{base}/{project.id}/delete", headers=ENGLISH, follow_redirects=True)
    assert "The draft ballot project was removed." in response.text
    assert session.scalar(select(func.count(BallotProject.id))) == 0


def test_the_project_list_is_frozen_once_voting_opens(client, log_in, session, people, make_cycle):
    from pb.db import utcnow
    from pb.services.projects import ProjectInput, create_project

    cycle = make_cycle(slug="voting", phase="voting")
    project = create_project(
        session,
        people["staff"],
        cycle,
        ProjectInput("A", "A", "B", "B", 100, None, None),
        cycle.voting_start_at - (cycle.voting_start_at - cycle.review_start_at) / 2,
    )
    session.commit()
    log_in(people["staff"])
    listing = client.get("/review/voting/projects", headers=ENGLISH).text
    assert "frozen" in listing and "Create a ballot project" not in listing
    response = client.post("/review/voting/projects/new", data=PROJECT_FORM, headers=ENGLISH)
    assert "frozen: nothing was changed" in response.text
    response = client.post(f"/review/voting/projects/{project.id}", data=PROJECT_FORM, headers=ENGLISH)
    assert "frozen: nothing was changed" in response.text
    client.post(f"/review/voting/projects/{project.id}/delete")
    session.expire_all()
    assert session.scalar(select(BallotProject.title_en)) == "A"
    assert utcnow() >= cycle.voting_start_at
