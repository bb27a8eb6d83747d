"""Ballot projects: made from feasible proposals or directly, bilingual, within budget, frozen at voting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pb.models import AuditLogEntry, BallotProject, ProposalStatus
from pb.services import projects as service
from pb.services import review
from pb.services.cycles import DistrictInput
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def author(make_user):
    return make_user("author@example.org")


def project_input(cycle, **overrides):
    values = {
        "title_en": "River path lighting",
        "title_fr": "Éclairage du sentier riverain",
        "description_en": "LED lights from the bridge to the community centre.",
        "description_fr": "Des lampes DEL du pont au centre communautaire.",
        "cost_cents": 25_000_00,
        "district_id": cycle.districts[0].id,
        "category_id": cycle.categories[0].id,
    }
    values.update(overrides)
    return service.ProjectInput(**values)


def feasible(session, staff, author, cycle, now):
    proposal = make_proposal(session, author, cycle, now=now)
    review.draft_review(
        session, staff, proposal, review.ReviewInput(feasibility="feasible", cost_estimate_cents=20_000_00), now
    )
    review.confirm_review(session, staff, proposal, now)
    return proposal


def count(session) -> int:
    return session.scalar(select(func.count(BallotProject.id)))


def test_feasible_proposals_become_one_project_on_the_ballot(session, cycle, staff, author, now):
    first, second = feasible(session, staff, author, cycle, now), feasible(session, staff, author, cycle, now)
    assert service.feasible_proposals(session, cycle) == [first, second]
    project = service.create_project(session, staff, cycle, project_input(cycle), now, [first.id, second.id])
    assert project.proposals == [first, second] and project.position == 1
    assert first.status is ProposalStatus.ON_BALLOT and second.status is ProposalStatus.ON_BALLOT
    assert service.feasible_proposals(session, cycle) == []
    assert service.list_projects(session, cycle) == [project]
    assert session.scalar(select(AuditLogEntry.action).order_by(AuditLogEntry.position.desc()).limit(1)) == (
        "project.create"
    )

    service.delete_project(session, staff, project, now)
    assert first.status is ProposalStatus.FEASIBLE and count(session) == 0


def test_a_project_can_be_made_directly(session, cycle, staff, now):
    project = service.create_project(session, staff, cycle, project_input(cycle, district_id=None), now)
    assert project.proposals == [] and project.district_id is None
    second = service.create_project(session, staff, cycle, project_input(cycle), now)
    assert second.position == 2


def test_only_feasible_proposals_of_the_cycle(session, cycle, staff, author, now):
    submitted = make_proposal(session, author, cycle, now=now)
    with pytest.raises(DomainError, match="confirmed feasible") as caught:
        service.create_project(session, staff, cycle, project_input(cycle), now, [submitted.id])
    assert caught.value.field == "proposals"
    other = make_cycle(session, now=now, slug="other")
    elsewhere = feasible(session, staff, author, other, now)
    with pytest.raises(DomainError, match="of this cycle"):
        service.create_project(session, staff, cycle, project_input(cycle), now, [elsewhere.id])
    assert count(session) == 0


def test_both_languages_are_required_and_foreign_choices_refused(session, cycle, staff, now):
    other = make_cycle(session, now=now, slug="other")
    with pytest.raises(DomainError) as caught:
        service.create_project(
            session,
            staff,
            cycle,
            project_input(
                cycle,
                title_fr=" ",
                description_fr="",
                district_id=other.districts[0].id,
                category_id=other.categories[0].id,
                cost_cents=0,
            ),
            now,
        )
    assert set(caught.value.errors) == {"title_fr", "description_fr", "district", "category", "cost"}
    assert count(session) == 0


def test_the_cost_must_fit_the_cycle_budget(session, cycle, staff, now):
    with pytest.raises(DomainError, match="more than the budget") as caught:
        service.create_project(session, staff, cycle, project_input(cycle, cost_cents=100_000_01), now)
    assert caught.value.field == "cost"
    service.create_project(session, staff, cycle, project_input(cycle, cost_cents=100_000_00), now)


def test_the_cost_must_fit_the_district_budget(session, staff, now):
    cycle = make_cycle(
        session,
        now=now,
        slug="districts",
        budget_cents=None,
        districts=[DistrictInput("North", "Nord", budget_cents=10_000_00), DistrictInput("South", "Sud", budget_cents=50_000_00)],
    )
    north, south = cycle.districts
    with pytest.raises(DomainError, match="more than the budget"):
        service.create_project(session, staff, cycle, project_input(cycle, district_id=north.id, cost_cents=20_000_00), now)
    service.create_project(session, staff, cycle, project_input(cycle, district_id=south.id, cost_cents=20_000_00), now)
    # City-wide: the sum of the district budgets.
    service.create_project(session, staff, cycle, project_input(cycle, district_id=None, cost_cents=60_000_00), now)


def test_residents_and_auditors_make_no_projects(session, cycle, make_user, now):
    for roles in ([], ["auditor"]):
        user = make_user(f"{'-'.join(roles) or 'resident'}@example.org", roles=roles)
        with pytest.raises(DomainError, match="Only staff and budget delegates"):
            service.create_project(session, user, cycle, project_input(cycle), now)
    assert count(session) == 0


@pytest.fixture
def delegate(make_user):
    return make_user("delegate@example.org", roles=["delegate"])


def last_action(session) -> str:
    return session.scalar(select(AuditLogEntry.action).order_by(AuditLogEntry.position.desc()).limit(1))


def test_staff_projects_are_confirmed_at_creation(session, cycle, staff, now):
    project = service.create_project(session, staff, cycle, project_input(cycle), now)
    assert project.is_confirmed and project.confirmed_by_id == staff.id and project.confirmed_at == now
    assert project.created_by_id == staff.id and project.drafted_by_role == "staff"
    with pytest.raises(DomainError, match="already confirmed"):
        service.confirm_project(session, staff, project, now)


def test_a_delegate_drafts_a_project_and_its_proposals_stay_feasible(session, cycle, staff, delegate, author, now):
    proposal = feasible(session, staff, author, cycle, now)
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now, [proposal.id])
    assert not draft.is_confirmed and draft.created_by_id == delegate.id and draft.drafted_by_role == "delegate"
    assert draft.proposals == [proposal] and proposal.status is ProposalStatus.FEASIBLE
    assert last_action(session) == "project.drafted"
    # Taken by the draft: no other project can have it.
    assert service.feasible_proposals(session, cycle) == []
    with pytest.raises(DomainError, match="on no other project") as caught:
        service.create_project(session, staff, cycle, project_input(cycle), now, [proposal.id])
    assert caught.value.field == "proposals"
    # Only confirmed projects are the ballot.
    assert service.list_projects(session, cycle) == [draft]
    assert service.list_projects(session, cycle, confirmed_only=True) == []
    # A delegate may also draft one directly.
    direct = service.create_project(session, delegate, cycle, project_input(cycle), now)
    assert direct.proposals == [] and not direct.is_confirmed and direct.position == 2


def test_staff_confirm_a_draft_and_its_proposals_go_on_the_ballot(session, cycle, staff, delegate, author, now):
    proposal = feasible(session, staff, author, cycle, now)
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now, [proposal.id])
    with pytest.raises(DomainError, match="Only staff"):
        service.confirm_project(session, delegate, draft, now)
    assert not draft.is_confirmed and proposal.status is ProposalStatus.FEASIBLE
    service.confirm_project(session, staff, draft, now)
    assert draft.is_confirmed and draft.confirmed_by_id == staff.id and draft.created_by_id == delegate.id
    assert proposal.status is ProposalStatus.ON_BALLOT
    assert service.list_projects(session, cycle, confirmed_only=True) == [draft]
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.position.desc())).first()
    assert entry.action == "project.confirmed" and entry.before["confirmed"] is False and entry.after["confirmed"]


def test_a_proposal_in_a_draft_is_not_re_reviewed_or_merged_until_the_draft_is_settled(
    session, cycle, staff, delegate, author, now
):
    proposal = feasible(session, staff, author, cycle, now)
    other = feasible(session, staff, author, cycle, now)
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now, [proposal.id])
    assert review.draft_project_of(session, proposal) == draft
    with pytest.raises(DomainError, match="part of a draft ballot project"):
        review.draft_review(session, staff, proposal, review.ReviewInput(feasibility="not_feasible", public_reason="No."), now)
    with pytest.raises(DomainError, match="part of a draft ballot project"):
        review.merge_proposal(session, staff, proposal, other.id, "Same idea", now)
    assert proposal.status is ProposalStatus.FEASIBLE
    service.delete_project(session, staff, draft, now)
    assert review.draft_project_of(session, proposal) is None
    review.draft_review(session, staff, proposal, review.ReviewInput(feasibility="not_feasible", public_reason="No."), now)


def test_a_draft_whose_proposal_changed_cannot_be_confirmed(session, cycle, staff, delegate, author, now):
    from pb.services.proposals import change_status

    proposal = feasible(session, staff, author, cycle, now)
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now, [proposal.id])
    change_status(session, staff, proposal, ProposalStatus.UNDER_REVIEW, now)  # changed some other way
    with pytest.raises(DomainError, match=f"#{proposal.id} is no longer feasible"):
        service.confirm_project(session, staff, draft, now)
    assert not draft.is_confirmed


def test_delegates_edit_drafts_only_and_staff_edits_keep_the_state(session, cycle, staff, delegate, now):
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now)
    assert service.update_project(session, delegate, draft, project_input(cycle, title_en="Brighter path"), now)
    assert draft.title_en == "Brighter path" and not draft.is_confirmed and last_action(session) == "project.update"
    assert service.update_project(session, staff, draft, project_input(cycle, title_en="Brighter path", cost_cents=30_000_00), now)
    assert not draft.is_confirmed  # staff confirm on purpose, not by editing
    service.confirm_project(session, staff, draft, now)
    with pytest.raises(DomainError, match="only staff can change it now"):
        service.update_project(session, delegate, draft, project_input(cycle, title_en="Changed"), now)
    assert draft.title_en == "Brighter path"
    assert service.update_project(session, staff, draft, project_input(cycle, title_en="Changed"), now)
    assert draft.is_confirmed and draft.title_en == "Changed"


def test_only_staff_remove_projects_and_a_removed_draft_leaves_its_proposals(
    session, cycle, staff, delegate, author, now
):
    proposal = feasible(session, staff, author, cycle, now)
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now, [proposal.id])
    with pytest.raises(DomainError, match="Only staff"):
        service.delete_project(session, delegate, draft, now)
    assert count(session) == 1
    service.delete_project(session, staff, draft, now)
    assert count(session) == 0 and proposal.status is ProposalStatus.FEASIBLE
    assert service.feasible_proposals(session, cycle) == [proposal]
    assert last_action(session) == "project.delete"


def test_drafts_are_frozen_once_voting_opens_too(session, cycle, staff, delegate, now):
    draft = service.create_project(session, delegate, cycle, project_input(cycle), now)
    voting = cycle.voting_start_at
    entries = session.scalar(select(func.count(AuditLogEntry.id)))
    for attempt in (
        lambda: service.create_project(session, delegate, cycle, project_input(cycle), voting),
        lambda: service.update_project(session, delegate, draft, project_input(cycle, title_en="Changed"), voting),
        lambda: service.confirm_project(session, staff, draft, voting),
        lambda: service.delete_project(session, staff, draft, voting),
    ):
        with pytest.raises(DomainError, match="frozen: nothing was changed"):
            attempt()
    assert not draft.is_confirmed and draft.title_en == "River path lighting" and count(session) == 1
    assert session.scalar(select(func.count(AuditLogEntry.id))) == entries


def test_the_list_is_frozen_once_voting_opens(session, cycle, staff, now):
    project = service.create_project(session, staff, cycle, project_input(cycle), now)
    voting = cycle.voting_start_at
    entries = session.scalar(select(func.count(AuditLogEntry.id)))
    for attempt in (
        lambda: service.create_project(session, staff, cycle, project_input(cycle), voting),
        lambda: service.update_project(session, staff, project, project_input(cycle, title_en="Changed"), voting),
        lambda: service.delete_project(session, staff, project, voting),
    ):
        with pytest.raises(DomainError, match="frozen: nothing was changed"):
            attempt()
    assert project.title_en == "River path lighting" and count(session) == 1
    assert session.scalar(select(func.count(AuditLogEntry.id))) == entries


def test_editing_records_before_and_after(session, cycle, staff, now):
    project = service.create_project(session, staff, cycle, project_input(cycle), now)
    assert service.update_project(session, staff, project, project_input(cycle), now) is False
    assert service.update_project(session, staff, project, project_input(cycle, cost_cents=30_000_00), now)
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.position.desc())).first()
    assert entry.action == "project.update"
    assert entry.before["cost_cents"] == 25_000_00 and entry.after["cost_cents"] == 30_000_00


def test_cycle_references_lists_what_proposals_and_projects_use(session, cycle, staff, author, now):
    north, south = cycle.districts
    assert service.cycle_references(session, cycle) == (set(), set())
    make_proposal(session, author, cycle, now=now, district_id=north.id)
    service.create_project(
        session, staff, cycle, project_input(cycle, district_id=south.id, category_id=cycle.categories[0].id), now
    )
    assert service.cycle_references(session, cycle) == ({north.id, south.id}, {cycle.categories[0].id})
