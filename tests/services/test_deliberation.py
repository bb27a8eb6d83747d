"""Deliberation services: comments and replies, 15-minute edits, supports, follows, flags, phases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.db import utcnow
from pb.models import Comment, Flag, Follow, Proposal, Support
from pb.services import deliberation as service
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal


@pytest.fixture
def now():
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def cycle(session, now):
    # Proposals are submitted in the proposal phase; deliberation is tested in the review phase.
    cycle = make_cycle(session, now=now, phase="proposals")
    cycle.deliberation_during_proposals = True
    session.commit()
    return cycle


@pytest.fixture
def resident(make_user):
    return make_user("resident@example.org", display_name="Rémi Resident")


@pytest.fixture
def proposal(session, author, cycle, now):
    return make_proposal(session, author, cycle, now=now)


def counts(session, proposal):
    session.expire_all()
    fresh = session.get(Proposal, proposal.id)
    return fresh.support_count, fresh.comment_count


def test_a_comment_and_a_reply_count_and_replies_stay_one_level(session, proposal, resident, author, now):
    comment = service.add_comment(session, resident, proposal, "  Good idea.  ", "en", now)
    reply = service.add_comment(session, author, proposal, "Thanks!", "en", now, parent=comment)
    # Answering a reply joins the thread of the comment it answers.
    answer = service.add_comment(session, resident, proposal, "You are welcome.", "fr", now, parent=reply)
    session.commit()
    assert comment.body == "Good idea." and comment.parent_id is None
    assert reply.parent_id == comment.id and answer.parent_id == comment.id and answer.language == "fr"
    assert counts(session, proposal) == (0, 3)
    thread = service.load_deliberation(session, proposal, None).comments
    assert [c.id for c in thread] == [comment.id]
    assert [r.id for r in thread[0].replies] == [reply.id, answer.id]


def test_a_comment_needs_text_a_language_and_a_confirmed_address(session, proposal, resident, make_user, now):
    with pytest.raises(DomainError) as caught:
        service.add_comment(session, resident, proposal, "   ", "en", now)
    assert caught.value.field == "body"
    with pytest.raises(DomainError) as caught:
        service.add_comment(session, resident, proposal, "x" * (service.COMMENT_MAX_LENGTH + 1), "en", now)
    assert caught.value.field == "body"
    with pytest.raises(DomainError) as caught:
        service.add_comment(session, resident, proposal, "Hallo", "de", now)
    assert caught.value.field == "language"
    unconfirmed = make_user("new@example.org", confirmed=False)
    with pytest.raises(DomainError, match="Confirm your e-mail"):
        service.add_comment(session, unconfirmed, proposal, "Hi", "en", now)
    with pytest.raises(DomainError, match="Confirm your e-mail"):
        service.support_proposal(session, unconfirmed, proposal, now)
    assert counts(session, proposal) == (0, 0)


def test_a_reply_must_answer_a_comment_of_the_same_proposal(session, proposal, author, cycle, resident, now):
    other = make_proposal(session, author, cycle, now=now, title="Another one")
    elsewhere = service.add_comment(session, resident, other, "Elsewhere", "en", now)
    with pytest.raises(DomainError, match="not on this proposal"):
        service.add_comment(session, resident, proposal, "Hi", "en", now, parent=elsewhere)


@pytest.mark.parametrize("phase", [None, "proposals", "voting", "results"])
def test_comments_and_supports_outside_deliberation_are_refused(session, make_user, now, phase):
    author = make_user("a@example.org")
    submitted = make_cycle(session, now=now - timedelta(days=30), phase="proposals", slug="older")
    proposal = make_proposal(session, author, submitted, now=now - timedelta(days=30))
    # Move the clock instead of the cycle: the same cycle seen at another moment.
    start = submitted.proposals_start_at
    moment = {
        None: start - timedelta(days=1),
        "proposals": start + timedelta(days=1),
        "voting": submitted.voting_start_at + timedelta(days=1),
        "results": submitted.results_start_at + timedelta(days=1),
    }[phase]
    for action in (
        lambda: service.add_comment(session, author, proposal, "Hi", "en", moment),
        lambda: service.support_proposal(session, author, proposal, moment),
        lambda: service.withdraw_support(session, author, proposal, moment),
    ):
        with pytest.raises(DomainError, match="Comments and supports"):
            action()
    review = submitted.review_start_at + timedelta(days=1)
    service.add_comment(session, author, proposal, "Now it works", "en", review)
    assert service.support_proposal(session, author, proposal, review)


def test_deliberation_during_submission_only_when_the_cycle_allows_it(session, make_user, now):
    author = make_user("a@example.org")
    cycle = make_cycle(session, now=now, phase="proposals", slug="strict")
    proposal = make_proposal(session, author, cycle, now=now)
    with pytest.raises(DomainError, match="open when the review phase starts"):
        service.add_comment(session, author, proposal, "Hi", "en", now)


def test_withdrawn_or_hidden_proposals_take_no_comments(session, proposal, author, resident, now):
    from pb.services.proposals import withdraw_proposal

    proposal.hidden_at = now
    session.flush()
    with pytest.raises(DomainError, match="hidden by moderators"):
        service.add_comment(session, resident, proposal, "Hi", "en", now)
    proposal.hidden_at = None
    withdraw_proposal(session, author, proposal, now)
    with pytest.raises(DomainError, match="withdrawn or merged"):
        service.support_proposal(session, resident, proposal, now)


def test_a_comment_can_be_edited_by_its_author_for_15_minutes(session, proposal, resident, author, now):
    comment = service.add_comment(session, resident, proposal, "Teh lights", "en", now)
    service.edit_comment(session, resident, comment, "The lights", now + timedelta(minutes=14, seconds=59))
    assert comment.body == "The lights" and comment.edited_at == now + timedelta(minutes=14, seconds=59)
    with pytest.raises(DomainError, match="15 minutes"):
        service.edit_comment(session, resident, comment, "Too late", now + timedelta(minutes=15))
    with pytest.raises(DomainError, match="Only its author"):
        service.edit_comment(session, author, comment, "Not mine", now)
    with pytest.raises(DomainError) as caught:
        service.edit_comment(session, resident, comment, " ", now)
    assert caught.value.field == "body"
    comment.hidden_at = now
    with pytest.raises(DomainError, match="hidden by moderators"):
        service.edit_comment(session, resident, comment, "Again", now)
    assert comment.body == "The lights"


def test_one_support_per_resident_which_can_be_withdrawn(session, proposal, resident, author, now):
    assert service.support_proposal(session, resident, proposal, now) is True
    assert service.support_proposal(session, resident, proposal, now) is False  # a double click
    assert service.support_proposal(session, author, proposal, now) is True
    session.commit()
    assert counts(session, proposal) == (2, 0)
    assert service.withdraw_support(session, resident, proposal, now) is True
    assert service.withdraw_support(session, resident, proposal, now) is False
    session.commit()
    assert counts(session, proposal) == (1, 0)
    assert session.scalar(select(func.count()).select_from(Support)) == 1
    state = service.load_deliberation(session, proposal, author)
    assert state.supported and not service.load_deliberation(session, proposal, resident).supported


def test_authors_follow_their_proposals_and_anyone_may_follow_and_unfollow(session, proposal, author, resident, now):
    assert service.load_deliberation(session, proposal, author).following
    assert service.follow_proposal(session, resident, proposal, now) is True
    assert service.follow_proposal(session, resident, proposal, now) is False
    assert service.load_deliberation(session, proposal, resident).following
    assert service.unfollow_proposal(session, resident, proposal) is True
    assert service.unfollow_proposal(session, resident, proposal) is False
    assert session.scalar(select(func.count()).select_from(Follow)) == 1


def test_a_draft_cannot_be_followed_or_flagged(session, author, cycle, resident, now):
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    assert service.load_deliberation(session, draft, author).following is False
    with pytest.raises(DomainError, match="cannot be followed"):
        service.follow_proposal(session, resident, draft, now)
    with pytest.raises(DomainError, match="cannot be reported"):
        service.flag_proposal(session, resident, draft, "Spam", now)


def test_one_open_flag_per_person_and_subject(session, proposal, resident, author, make_user, now):
    comment = service.add_comment(session, author, proposal, "Rude words", "en", now)
    flag = service.flag_comment(session, resident, comment, "  Insulting  ", now)
    assert flag.reason == "Insulting" and flag.comment_id == comment.id and flag.proposal_id is None
    with pytest.raises(DomainError, match="already reported"):
        service.flag_comment(session, resident, comment, "Again", now)
    service.flag_proposal(session, resident, proposal, "Off topic", now)
    service.flag_comment(session, make_user("other@example.org"), comment, "Rude", now)
    with pytest.raises(DomainError) as caught:
        service.flag_proposal(session, author, proposal, "  ", now)
    assert caught.value.field == "reason"
    session.commit()
    assert session.scalar(select(func.count()).select_from(Flag)) == 3
    state = service.load_deliberation(session, proposal, resident)
    assert state.flagged_proposal and state.flagged_comments == {comment.id}
    # Once moderators have acted on it, the same person may report it again.
    flag.resolved_at = now
    session.flush()
    service.flag_comment(session, resident, comment, "It is back", now)


def test_what_is_hidden_cannot_be_flagged(session, proposal, resident, author, now):
    comment = service.add_comment(session, author, proposal, "Rude words", "en", now)
    comment.hidden_at = now
    with pytest.raises(DomainError, match="already hidden"):
        service.flag_comment(session, resident, comment, "Rude", now)


def test_staff_see_the_open_reports_on_the_page(session, proposal, resident, author, make_user, now):
    staff = make_user("staff@example.org", roles=["staff"])
    comment = service.add_comment(session, author, proposal, "Rude words", "en", now)
    service.flag_comment(session, resident, comment, "Rude", now)
    service.flag_proposal(session, resident, proposal, "Spam", now)
    session.commit()
    reports = service.load_deliberation(session, proposal, staff).open_flags
    assert {key: [f.reason for f in flags] for key, flags in reports.items()} == {
        comment.id: ["Rude"], None: ["Spam"]
    }
    assert service.load_deliberation(session, proposal, resident).open_flags == {}


def test_a_comment_of_another_proposal_is_not_found(session, proposal, author, cycle, resident, now):
    other = make_proposal(session, author, cycle, now=now, title="Another one")
    comment = service.add_comment(session, resident, other, "Elsewhere", "en", now)
    assert service.get_comment(session, proposal, comment.id) is None
    assert service.get_comment(session, other, comment.id).id == comment.id


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers need PostgreSQL (SQLite has one writer at a time)")


def test_simultaneous_supports_and_withdrawals_keep_the_count_exact(
    app, session, postgres_only, proposal, make_user, now
):
    """Each resident double-clicks: two requests at once; the count ends exact and nothing fails."""
    factory = app.extensions["pb.db"].session_factory
    residents = [make_user(f"r{n}@example.org").id for n in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(residents) * 2)

    def click(user_id: int, action) -> None:
        try:
            with factory() as db:
                user = db.get(service.User, user_id)
                target = db.get(Proposal, proposal.id)
                start.wait()
                action(db, user, target, now)
                db.commit()
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    def run(action) -> None:
        threads = [threading.Thread(target=click, args=(u, action)) for u in residents for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(service.support_proposal)
    assert errors == []
    assert counts(session, proposal)[0] == 6 == session.scalar(select(func.count()).select_from(Support))
    start.reset()
    run(service.withdraw_support)
    assert errors == []
    assert counts(session, proposal)[0] == 0 == session.scalar(select(func.count()).select_from(Support))


def test_counters_match_the_rows_after_a_mix_of_actions(session, proposal, make_user, now):
    people = [make_user(f"p{n}@example.org") for n in range(4)]
    first = service.add_comment(session, people[0], proposal, "One", "en", now)
    for person in people:
        service.support_proposal(session, person, proposal, now)
        service.add_comment(session, person, proposal, "Reply", "en", now, parent=first)
    service.withdraw_support(session, people[1], proposal, now)
    session.commit()
    supports = session.scalar(select(func.count()).select_from(Support))
    comments = session.scalar(select(func.count()).select_from(Comment).where(Comment.hidden_at.is_(None)))
    assert counts(session, proposal) == (supports, comments) == (3, 5)
