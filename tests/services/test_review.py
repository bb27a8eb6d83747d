"""Review by staff and budget delegates: who may do what, the statuses it moves, the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb import permissions
from pb.models import AuditLogEntry, Feasibility, ProposalStatus
from pb.services import review as service
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author@example.org", display_name="Amina Author"),
        "staff": make_user("staff@example.org", roles=["staff"], display_name="Sam Staff"),
        "delegate": make_user("delegate@example.org", roles=["delegate"], display_name="Dee Delegate"),
        "resident": make_user("resident@example.org", display_name="Rae Resident"),
    }


@pytest.fixture
def proposal(session, cycle, people, now):
    return make_proposal(session, people["author"], cycle, now=now)


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditLogEntry.action).order_by(AuditLogEntry.position)))


FEASIBLE = service.ReviewInput(
    feasibility="feasible",
    cost_estimate_cents=12_000_00,
    civil_liberties="No cameras; lights only.",
    equity="Shift workers walking home.",
    partner_capacity="The community centre maintains it.",
    public_summary="Feasible with LED fixtures.",
    internal_notes="Councillor's office is lukewarm.",
)


def test_an_assigned_delegate_drafts_and_staff_confirm(session, proposal, people, now):
    service.assign_reviewer(session, people["staff"], proposal, people["delegate"], now)
    review = service.draft_review(session, people["delegate"], proposal, FEASIBLE, now)
    assert proposal.status is ProposalStatus.UNDER_REVIEW
    assert review.drafted_by_id == people["delegate"].id and review.drafted_by_role == "delegate"
    assert not review.is_confirmed

    with pytest.raises(DomainError, match="Only staff can confirm"):
        service.confirm_review(session, people["delegate"], proposal, now)
    assert not permissions.can_confirm_review(people["delegate"])

    later = now + timedelta(minutes=5)
    service.confirm_review(session, people["staff"], proposal, later)
    assert proposal.status is ProposalStatus.FEASIBLE
    assert review.confirmed_by_id == people["staff"].id and review.confirmed_at == later
    steps = [(s.from_status, s.to_status, s.actor_id) for s in proposal.history]
    assert steps[-2:] == [
        (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW, people["delegate"].id),
        (ProposalStatus.UNDER_REVIEW, ProposalStatus.FEASIBLE, people["staff"].id),
    ]
    assert {"review.assigned", "review.drafted", "review.confirmed", "proposal.status_changed"} <= set(
        actions(session)
    )


def test_a_delegate_not_assigned_cannot_review(session, proposal, people, now):
    assert not permissions.can_review(people["delegate"], proposal, now)
    with pytest.raises(DomainError, match="not asked you"):
        service.draft_review(session, people["delegate"], proposal, FEASIBLE, now)
    assert proposal.review is None


def test_any_staff_may_review_without_being_assigned(session, proposal, people, now):
    review = service.draft_review(session, people["staff"], proposal, FEASIBLE, now)
    assert review.drafted_by_role == "staff"


@pytest.mark.parametrize("who", ["resident", "author"])
def test_residents_and_authors_can_do_nothing(session, proposal, people, now, who):
    user = people[who]
    assert not permissions.can_review(user, proposal, now)
    with pytest.raises(DomainError, match="Only staff and budget delegates"):
        service.draft_review(session, user, proposal, FEASIBLE, now)
    with pytest.raises(DomainError, match="Only staff"):
        service.confirm_review(session, user, proposal, now)
    with pytest.raises(DomainError, match="Only staff assign"):
        service.assign_reviewer(session, user, proposal, people["delegate"], now)
    with pytest.raises(DomainError, match="Only staff"):
        service.merge_proposal(session, user, proposal, proposal.id, "dup", now)
    assert proposal.status is ProposalStatus.SUBMITTED


def test_only_staff_and_delegates_can_be_assigned(session, proposal, people, now):
    with pytest.raises(DomainError, match="staff member or a budget delegate") as caught:
        service.assign_reviewer(session, people["staff"], proposal, people["resident"], now)
    assert caught.value.field == "reviewer"
    service.assign_reviewer(session, people["staff"], proposal, people["delegate"], now)
    with pytest.raises(DomainError, match="already reviewing"):
        service.assign_reviewer(session, people["staff"], proposal, people["delegate"], now)
    service.unassign_reviewer(session, people["staff"], proposal, people["delegate"].id, now)
    assert proposal.review_assignments == []
    assert actions(session)[-2:] == ["review.assigned", "review.unassigned"]


def test_not_feasible_needs_a_public_reason(session, proposal, people, now):
    with pytest.raises(DomainError) as caught:
        service.draft_review(session, people["staff"], proposal, service.ReviewInput(feasibility="not_feasible"), now)
    assert caught.value.field == "public_reason"
    assert proposal.review is None and proposal.status is ProposalStatus.SUBMITTED

    service.draft_review(
        session,
        people["staff"],
        proposal,
        service.ReviewInput(feasibility="not_feasible", public_reason="The path belongs to the province."),
        now,
    )
    service.confirm_review(session, people["staff"], proposal, now)
    assert proposal.status is ProposalStatus.NOT_FEASIBLE
    assert proposal.history[-1].public_reason == "The path belongs to the province."


def test_confirming_needs_a_feasibility_and_a_cost_when_feasible(session, proposal, people, now):
    with pytest.raises(DomainError, match="Draft the review"):
        service.confirm_review(session, people["staff"], proposal, now)
    service.draft_review(session, people["staff"], proposal, service.ReviewInput(feasibility="feasible"), now)
    with pytest.raises(DomainError, match="cost estimate"):
        service.confirm_review(session, people["staff"], proposal, now)
    assert proposal.status is ProposalStatus.UNDER_REVIEW


def test_bad_values_are_refused_per_field(session, proposal, people, now):
    with pytest.raises(DomainError) as caught:
        service.draft_review(
            session, people["staff"], proposal, service.ReviewInput(feasibility="maybe", cost_estimate_cents=0), now
        )
    assert set(caught.value.errors) == {"feasibility", "cost_estimate"}


def test_changing_a_confirmed_review_is_for_staff_and_reopens_it(session, proposal, people, now):
    service.assign_reviewer(session, people["staff"], proposal, people["delegate"], now)
    service.draft_review(session, people["delegate"], proposal, FEASIBLE, now)
    service.confirm_review(session, people["staff"], proposal, now)
    with pytest.raises(DomainError, match="only staff can change it"):
        service.draft_review(session, people["delegate"], proposal, FEASIBLE, now)
    review = service.draft_review(session, people["staff"], proposal, FEASIBLE, now)
    assert not review.is_confirmed and proposal.status is ProposalStatus.UNDER_REVIEW
    assert review.drafted_by_id == people["delegate"].id  # who drafted it first stays


def test_review_closes_when_voting_opens(session, proposal, people, now):
    voting = proposal.cycle.voting_start_at
    assert not permissions.can_review(people["staff"], proposal, voting)
    with pytest.raises(DomainError, match="Voting has opened"):
        service.draft_review(session, people["staff"], proposal, FEASIBLE, voting)


def test_a_withdrawn_proposal_cannot_be_reviewed(session, proposal, people, now):
    from pb.services.proposals import withdraw_proposal

    withdraw_proposal(session, people["author"], proposal, now)
    with pytest.raises(DomainError, match="no longer being reviewed"):
        service.draft_review(session, people["staff"], proposal, FEASIBLE, now)


def test_internal_notes_stay_out_of_the_public_review_and_the_audit_log(session, proposal, people, now):
    service.draft_review(session, people["staff"], proposal, FEASIBLE, now)
    assert service.public_review(session, proposal).confirmed is False
    service.confirm_review(session, people["staff"], proposal, now)
    public = service.public_review(session, proposal)
    assert public.confirmed and public.feasibility is Feasibility.FEASIBLE
    assert public.cost_estimate_cents == 12_000_00 and public.public_summary == "Feasible with LED fixtures."
    assert public.drafted_by_role == "staff"
    assert not hasattr(public, "internal_notes")
    assert "Councillor" not in repr(public)
    logged = " ".join(e.after_json + e.before_json for e in session.scalars(select(AuditLogEntry)))
    assert "Councillor" not in logged


def test_a_delegate_suggests_a_merge_and_staff_merge_crediting_the_author(
    session, cycle, proposal, people, make_user, now
):
    other_author = make_user("other@example.org", display_name="Omar Other")
    duplicate = make_proposal(session, other_author, cycle, now=now, title="Lights by the river")
    hidden_name = make_proposal(
        session, make_user("shy@example.org"), cycle, now=now, show_author_name=False,
        district_id=cycle.districts[0].id,
    )
    service.assign_reviewer(session, people["staff"], duplicate, people["delegate"], now)
    with pytest.raises(DomainError, match="Only staff can merge"):
        service.merge_proposal(session, people["delegate"], duplicate, proposal.id, "Same path.", now)
    review = service.suggest_merge(session, people["delegate"], duplicate, proposal.id, "Same path.", now)
    assert review.merge_into_id == proposal.id and duplicate.status is ProposalStatus.SUBMITTED

    service.merge_proposal(session, people["staff"], duplicate, proposal.id, "Same path.", now)
    service.merge_proposal(session, people["staff"], hidden_name, proposal.id, "Same path too.", now)
    assert duplicate.status is ProposalStatus.MERGED and duplicate.merged_into_id == proposal.id
    assert duplicate.history[-1].public_reason == "Same path."
    assert review.merge_into_id is None
    assert [s.event for s in proposal.history][-2:] == ["merged", "merged"]
    credits = service.public_review(session, proposal).credits
    assert [(c.proposal_id, c.author_name) for c in credits] == [(duplicate.id, "Omar Other"), (hidden_name.id, None)]
    assert credits[1].district.id == cycle.districts[0].id
    assert "proposal.merged" in actions(session)


def test_merge_targets_are_checked(session, cycle, proposal, people, make_user, now):
    other_cycle = make_cycle(session, now=now, slug="other")
    elsewhere = make_proposal(session, people["author"], other_cycle, now=now)
    draft = make_proposal(session, people["author"], cycle, now=now, submit=False)
    for target in (None, proposal.id, elsewhere.id, draft.id, 999_999):
        with pytest.raises(DomainError) as caught:
            service.merge_proposal(session, people["staff"], proposal, target, "dup", now)
        assert caught.value.field == "target"
    second = make_proposal(session, people["author"], cycle, now=now)
    with pytest.raises(DomainError) as caught:
        service.merge_proposal(session, people["staff"], second, proposal.id, "   ", now)
    assert caught.value.field == "reason"


def test_earlier_merges_follow_to_the_new_target(session, cycle, proposal, people, now):
    first = make_proposal(session, people["author"], cycle, now=now)
    final = make_proposal(session, people["author"], cycle, now=now)
    service.merge_proposal(session, people["staff"], first, proposal.id, "dup", now)
    service.merge_proposal(session, people["staff"], proposal, final.id, "dup", now)
    assert first.merged_into_id == final.id
    assert [c.proposal_id for c in service.public_review(session, final).credits] == [proposal.id, first.id]


def test_the_queue_filters_by_assignment_and_status(session, cycle, proposal, people, now):
    other = make_proposal(session, people["author"], cycle, now=now)
    make_proposal(session, people["author"], cycle, now=now, submit=False)  # drafts never show
    service.assign_reviewer(session, people["staff"], other, people["delegate"], now)
    service.draft_review(session, people["delegate"], other, FEASIBLE, now)

    def ids(**filters):
        page = service.review_queue(
            session, cycle, people["delegate"], service.QueueFilters(**filters), number=1, per_page=10
        )
        return [p.id for p in page.items]

    assert ids() == [proposal.id, other.id]
    assert ids(assignment="unassigned") == [proposal.id]
    assert ids(assignment="mine") == [other.id]
    assert ids(status="under_review") == [other.id]
    assert service.review_queue(
        session, cycle, people["delegate"], service.QueueFilters(), number=2, per_page=10
    ) is None


def test_reviewers_are_staff_admins_and_delegates(session, people, make_user):
    make_user("admin@example.org", roles=["admin"], display_name="Ada Admin")
    assert [u.display_name for u in service.list_reviewers(session)] == ["Ada Admin", "Dee Delegate", "Sam Staff"]
