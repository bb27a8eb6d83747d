"""The phase rules and object permissions that services and pages share."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pb import permissions
from pb.db import utcnow
from pb.models import ProposalStatus
from pb.services import phases
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal


@pytest.fixture
def now():
    return utcnow().replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("phase", "during_proposals", "submission", "deliberation", "review"),
    [
        (None, False, False, False, False),
        ("proposals", False, True, False, True),
        ("proposals", True, True, True, True),
        ("review", False, False, True, True),
        ("voting", False, False, False, False),
        ("results", True, False, False, False),
    ],
)
def test_what_each_phase_allows(session, now, phase, during_proposals, submission, deliberation, review):
    cycle = make_cycle(session, now=now, phase=phase)
    cycle.deliberation_during_proposals = during_proposals
    assert phases.submission_open(cycle, now) is submission
    assert phases.deliberation_open(cycle, now) is deliberation
    assert phases.review_open(cycle, now) is review
    for allowed, require in (
        (submission, phases.require_submission_open),
        (deliberation, phases.require_deliberation_open),
        (review, phases.require_review_open),
    ):
        if allowed:
            require(cycle, now)
        else:
            with pytest.raises(DomainError):
                require(cycle, now)


def test_closing_the_proposal_phase_early_closes_submission(session, now, make_user):
    from pb.services.cycles import close_phase

    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(session, now=now, phase="proposals")
    close_phase(session, staff, cycle, "Enough proposals", now=now)
    assert not phases.submission_open(cycle, now + timedelta(minutes=1))


def test_who_may_do_what_to_a_proposal(session, now, make_user):
    cycle = make_cycle(session, now=now, phase="proposals")
    author = make_user("author@example.org")
    other = make_user("other@example.org")
    staff = make_user("staff@example.org", roles=["staff"])
    delegate = make_user("delegate@example.org", roles=["delegate"])
    unconfirmed = make_user("new@example.org", confirmed=False)
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    public = make_proposal(session, author, cycle, now=now)

    assert permissions.can_see_proposal(author, draft)
    assert not any(permissions.can_see_proposal(u, draft) for u in (None, other, staff))
    assert all(permissions.can_see_proposal(u, public) for u in (None, other, staff))
    assert permissions.can_edit_proposal(author, public, now)
    assert not any(permissions.can_edit_proposal(u, public, now) for u in (None, other, staff, delegate))
    assert not permissions.can_edit_proposal(author, public, cycle.proposals_end_at)
    public.status = ProposalStatus.UNDER_REVIEW
    assert not permissions.can_edit_proposal(author, public, now)
    assert permissions.is_reviewer(staff) and permissions.is_reviewer(delegate)
    assert not permissions.is_reviewer(other) and not permissions.is_moderator(delegate)
    assert permissions.can_translate_proposal(staff, public) and not permissions.can_translate_proposal(staff, draft)
    assert not permissions.can_take_part(unconfirmed) and permissions.can_take_part(other)
    author.is_active = False
    assert not permissions.can_take_part(author)


def test_an_anonymous_authors_name_is_for_themselves_and_staff(session, now, make_user):
    cycle = make_cycle(session, now=now, phase="proposals")
    author = make_user("author@example.org")
    proposal = make_proposal(session, author, cycle, now=now, show_author_name=False)
    assert permissions.can_see_author(author, proposal)
    assert permissions.can_see_author(make_user("staff@example.org", roles=["staff"]), proposal)
    assert not permissions.can_see_author(None, proposal)
    assert not permissions.can_see_author(make_user("other@example.org"), proposal)


def test_the_anonymous_author_is_not_on_the_public_page(client, session, now, make_user):
    cycle = make_cycle(session, now=now, phase="proposals")
    proposal = make_proposal(
        session, make_user("author@example.org", display_name="Secret Name"), cycle, now=now,
        show_author_name=False, district_id=cycle.districts[0].id,
    )
    page = client.get(f"/cycles/{cycle.slug}/proposals/{proposal.id}").get_data(as_text=True)
    assert "Secret Name" not in page and "Proposed by a resident of North" in page
    listing = client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)
    assert "Secret Name" not in listing
