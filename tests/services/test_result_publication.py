"""A result is counted from the sealed ballots as a draft, published for good, and corrected only openly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from pb.models import AuditLogEntry, ResultStatus
from pb.services import results, voting
from pb.services.errors import DomainError
from tests.factories import cast_votes, make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def closed(session, staff, now):
    """A city-wide approval vote with three ballots, closed."""
    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type="approval")
    cast_votes(session, staff, cycle, [(projects[0], projects[2]), (projects[2],), (projects[0], projects[3])], during)
    after = cycle.voting_end_at + timedelta(hours=1)
    return cycle, projects, after


def test_no_count_before_voting_is_over(session, staff, now):
    cycle, _, during = make_voting_cycle(session, staff, now=now)
    with pytest.raises(DomainError, match="not over yet"):
        results.draft_result(session, staff, cycle, during)


def test_a_draft_counts_the_sealed_ballots_and_stays_private_until_published(session, staff, closed):
    cycle, projects, after = closed
    draft = results.draft_result(session, staff, cycle, after)
    session.commit()
    assert draft.status is ResultStatus.DRAFT and draft.counted == 3
    assert results.current_result(session, cycle) is None and results.pending_draft(session, cycle) == draft
    [count] = json.loads(draft.outcome)["counts"]
    assert count["district"] is None and count["budget_cents"] == 100_000_00
    # Street lighting (2 votes, $50,000) and the crisis team (2 votes, $40,000) fit; the circle ($20,000) does not.
    assert set(count["outcome"]["selected"]) == {str(projects[0].id), str(projects[2].id)}
    assert draft.log_head == str(voting.log_state(session, cycle).head)
    again = results.draft_result(session, staff, cycle, after)
    session.commit()
    assert draft.status is ResultStatus.DISCARDED and results.pending_draft(session, cycle) == again
    results.publish_result(session, staff, again, after)
    session.commit()
    assert results.current_result(session, cycle) == again
    actions = list(session.scalars(select(AuditLogEntry.action).where(AuditLogEntry.action.like("result.%"))))
    assert actions == ["result.drafted", "result.drafted", "result.published"]


def test_a_published_result_is_corrected_only_by_a_new_result_with_a_public_reason(session, staff, closed):
    cycle, projects, after = closed
    first = results.publish_result(session, staff, results.draft_result(session, staff, cycle, after), after)
    session.commit()
    with pytest.raises(DomainError, match="cannot be undone"):
        results.draft_result(session, staff, cycle, after)
    with pytest.raises(DomainError, match="Only a draft"):
        results.publish_result(session, staff, first, after)
    with pytest.raises(DomainError, match="public reason"):
        results.draft_result(session, staff, cycle, after, corrects=first, reason=" ")
    correction = results.draft_result(session, staff, cycle, after, corrects=first, reason="A district budget was wrong")
    results.publish_result(session, staff, correction, after + timedelta(minutes=5))
    session.commit()
    assert results.current_result(session, cycle) == correction
    assert correction.corrects == first and first.status is ResultStatus.PUBLISHED
    assert results.published_results(session, cycle) == [correction, first]


def test_only_staff_count_and_publish(session, staff, closed, make_user):
    cycle, _, after = closed
    resident = make_user("resident@example.org")
    with pytest.raises(DomainError, match="Only staff"):
        results.draft_result(session, resident, cycle, after)
    draft = results.draft_result(session, staff, cycle, after)
    with pytest.raises(DomainError, match="Only staff"):
        results.publish_result(session, resident, draft, after)
