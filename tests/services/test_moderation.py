"""Moderation: hiding and restoring with a public reason, reports settled, audit log and public history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pb import permissions
from pb.db import utcnow
from pb.models import AuditLogEntry, Flag, Proposal
from pb.services import deliberation, moderation
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal


@pytest.fixture
def now():
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author@example.org"),
        "resident": make_user("resident@example.org"),
        "staff": make_user("staff@example.org", roles=["staff"]),
    }


@pytest.fixture
def proposal(session, people, now):
    cycle = make_cycle(session, now=now, phase="proposals")
    cycle.deliberation_during_proposals = True
    session.commit()
    return make_proposal(session, people["author"], cycle, now=now)


def actions(session) -> list[tuple[str, str]]:
    return [(e.action, e.subject_type) for e in session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))]


def test_staff_hide_a_proposal_with_a_public_reason_and_restore_it(session, proposal, people, now):
    staff, resident = people["staff"], people["resident"]
    flag = deliberation.flag_proposal(session, resident, proposal, "Names a neighbour", now)
    with pytest.raises(DomainError) as caught:
        moderation.hide_proposal(session, staff, proposal, "   ", now)
    assert caught.value.field == "reason"
    moderation.hide_proposal(session, staff, proposal, " Personal information ", now)
    session.commit()
    assert proposal.is_hidden and proposal.hidden_reason == "Personal information"
    session.expire_all()
    assert session.get(Flag, flag.id).resolved_by_id == staff.id
    assert [(s.event, s.public_reason) for s in proposal.history][-1] == ("hidden", "Personal information")
    with pytest.raises(DomainError, match="already hidden"):
        moderation.hide_proposal(session, staff, proposal, "Again", now)

    moderation.restore_proposal(session, staff, proposal, now, "Edited by the author")
    session.commit()
    assert not proposal.is_hidden and proposal.hidden_reason == ""
    assert [s.event for s in proposal.history][-2:] == ["hidden", "restored"]
    assert actions(session)[-2:] == [("proposal.hide", "proposal"), ("proposal.restore", "proposal")]
    with pytest.raises(DomainError, match="not hidden"):
        moderation.restore_proposal(session, staff, proposal, now)


def test_a_hidden_proposal_is_readable_by_its_author_and_staff_only(session, proposal, people, now):
    moderation.hide_proposal(session, people["staff"], proposal, "Spam", now)
    assert permissions.can_read_hidden(people["author"], proposal)
    assert permissions.can_read_hidden(people["staff"], proposal)
    assert not permissions.can_read_hidden(people["resident"], proposal)
    assert not permissions.can_read_hidden(None, proposal)


def test_staff_hide_and_restore_a_comment_and_the_count_follows(session, proposal, people, now):
    staff, resident, author = people["staff"], people["resident"], people["author"]
    comment = deliberation.add_comment(session, resident, proposal, "Rude words", "en", now)
    deliberation.flag_comment(session, author, comment, "Rude", now)
    moderation.hide_comment(session, staff, comment, "Insults", now)
    session.commit()
    session.expire_all()
    assert comment.is_hidden and comment.hidden_reason == "Insults" and comment.hidden_by_id == staff.id
    assert session.get(Proposal, proposal.id).comment_count == 0
    assert session.scalars(select(Flag.resolved_by_id)).all() == [staff.id]
    # The text stays for its author and staff; others read the moderators' reason.
    assert permissions.can_read_comment(resident, comment) and permissions.can_read_comment(staff, comment)
    assert not permissions.can_read_comment(author, comment) and not permissions.can_read_comment(None, comment)
    moderation.restore_comment(session, staff, comment, now)
    session.commit()
    session.expire_all()
    assert not comment.is_hidden and session.get(Proposal, proposal.id).comment_count == 1
    assert actions(session)[-2:] == [("comment.hide", "comment"), ("comment.restore", "comment")]
    entry = session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "comment.hide")).one()
    assert entry.actor_id == staff.id and str(comment.id) == str(entry.subject_id)


def test_residents_cannot_moderate(session, proposal, people, now):
    comment = deliberation.add_comment(session, people["resident"], proposal, "Hi", "en", now)
    for person in (people["author"], people["resident"], None):
        with pytest.raises(DomainError, match="Only staff"):
            moderation.hide_proposal(session, person, proposal, "Spam", now)
        with pytest.raises(DomainError, match="Only staff"):
            moderation.hide_comment(session, person, comment, "Spam", now)
    assert not proposal.is_hidden and not comment.is_hidden


def test_keeping_a_subject_settles_its_reports_and_is_logged(session, proposal, people, now):
    staff = people["staff"]
    deliberation.flag_proposal(session, people["resident"], proposal, "I disagree", now)
    assert moderation.dismiss_flags(session, staff, proposal, now) == 1
    assert not proposal.is_hidden
    assert actions(session)[-1] == ("proposal.keep", "proposal")
    with pytest.raises(DomainError, match="no open reports"):
        moderation.dismiss_flags(session, staff, proposal, now)


def test_the_queue_lists_open_reports_oldest_first(session, proposal, people, now):
    comment = deliberation.add_comment(session, people["author"], proposal, "Hi", "en", now)
    deliberation.flag_proposal(session, people["resident"], proposal, "First", now)
    deliberation.flag_comment(session, people["resident"], comment, "Second", now)
    session.commit()
    page = moderation.open_flags(session, number=1, per_page=10)
    assert [f.reason for f in page.items] == ["First", "Second"] and page.total == 2
    assert page.items[1].comment.proposal.cycle.slug == "test-cycle"
    assert moderation.open_flags(session, number=2, per_page=10) is None
    moderation.hide_comment(session, people["staff"], comment, "Rude", now)
    assert [f.reason for f in moderation.open_flags(session, number=1, per_page=10).items] == ["First"]
