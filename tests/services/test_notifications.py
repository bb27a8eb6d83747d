"""Mail to followers: built from comments and status changes, daily digests or each time, in the
reader's language, never about one's own action; delivered through a local SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb.db import utcnow
from pb.models import OutboxMail, ProposalStatus, User
from pb.services import deliberation, notifications
from pb.services.errors import DomainError
from pb.services.proposals import change_status
from tests.factories import make_cycle, make_proposal
from tests.services.test_outbox import inbox, transport  # noqa: F401  (the local SMTP server)

LATER = notifications.SETTLE + timedelta(seconds=1)


def link(proposal) -> str:
    return f"https://pb.example.org/p/{proposal.id}"


@pytest.fixture
def now():
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author@example.org", display_name="Amina"),
        "resident": make_user("resident@example.org", display_name="Rémi", locale="fr_CA"),
        "staff": make_user("staff@example.org", roles=["staff"]),
    }


@pytest.fixture
def proposal(session, people, now):
    cycle = make_cycle(session, now=now, phase="proposals")
    cycle.deliberation_during_proposals = True
    session.commit()
    return make_proposal(session, people["author"], cycle, now=now - timedelta(hours=1))


def run(app, session, at) -> list[OutboxMail]:
    """One worker round at ``at``; the mails it queued."""
    with app.test_request_context():
        before = {m.id for m in session.scalars(select(OutboxMail))}
        notifications.send_notifications(session, at, link)
        session.commit()
    return [m for m in session.scalars(select(OutboxMail).order_by(OutboxMail.id)) if m.id not in before]


def test_the_author_hears_of_a_comment_but_nobody_of_their_own(app, session, people, proposal, now):
    deliberation.add_comment(session, people["resident"], proposal, "Good idea", "en", now)
    deliberation.add_comment(session, people["author"], proposal, "Thanks", "en", now)
    session.commit()
    assert run(app, session, now) == [], "too recent: a request may still be committing"
    mails = run(app, session, now + LATER)
    assert [m.recipient for m in mails] == ["author@example.org"]
    assert mails[0].subject == "News about “Better lighting on the river path”"
    assert "A new comment." in mails[0].body and link(proposal) in mails[0].body
    assert mails[0].body.count("- ") == 1, "the author's own reply is not news to them"
    assert run(app, session, now + 2 * LATER) == [], "each piece of news is mailed once"


def test_followers_get_the_mail_in_their_language(app, session, people, proposal, now):
    deliberation.follow_proposal(session, people["resident"], proposal, now)
    deliberation.add_comment(session, people["staff"], proposal, "We will look at it", "en", now + timedelta(seconds=1))
    session.commit()
    mails = {m.recipient: m for m in run(app, session, now + LATER)}
    assert set(mails) == {"author@example.org", "resident@example.org"}
    french = mails["resident@example.org"]
    assert french.subject.startswith("Nouvelles") and "Bonjour Rémi" in french.body


def test_status_changes_reach_followers_with_the_public_reason(app, session, people, proposal, now):
    change_status(session, people["staff"], proposal, ProposalStatus.NOT_FEASIBLE, now, "Outside city land")
    session.commit()
    (mail,) = run(app, session, now + LATER)
    assert mail.recipient == "author@example.org"
    assert "Submitted → Not feasible" in mail.body and "Outside city land" in mail.body


def test_a_daily_digest_at_most_once_a_day_unless_each_time_is_chosen(app, session, people, proposal, now):
    resident = people["resident"]
    deliberation.add_comment(session, resident, proposal, "One", "en", now)
    session.commit()
    assert len(run(app, session, now + LATER)) == 1
    deliberation.add_comment(session, resident, proposal, "Two", "en", now + timedelta(hours=1))
    deliberation.add_comment(session, resident, proposal, "Three", "en", now + timedelta(hours=2))
    session.commit()
    assert run(app, session, now + timedelta(hours=3)) == [], "the day's digest has gone"
    (digest,) = run(app, session, now + timedelta(days=1, minutes=5))
    assert digest.body.count("- A new comment.") == 2

    author = session.get(User, people["author"].id)
    notifications.set_notify_mode(session, author, notifications.IMMEDIATE, now)
    deliberation.add_comment(session, resident, proposal, "Four", "en", now + timedelta(days=1, hours=1))
    session.commit()
    assert len(run(app, session, now + timedelta(days=1, hours=2))) == 1
    deliberation.add_comment(session, resident, proposal, "Five", "en", now + timedelta(days=1, hours=3))
    session.commit()
    assert len(run(app, session, now + timedelta(days=1, hours=4))) == 1, "each time, not daily"


def test_off_means_no_mail_and_turning_it_on_starts_afresh(app, session, people, proposal, now):
    author = people["author"]
    notifications.set_notify_mode(session, author, notifications.OFF, now)
    deliberation.add_comment(session, people["resident"], proposal, "One", "en", now)
    session.commit()
    assert run(app, session, now + LATER) == []
    notifications.set_notify_mode(session, author, notifications.DAILY, now + LATER)
    session.commit()
    assert run(app, session, now + 2 * LATER) == [], "what happened while mail was off is not sent later"
    with pytest.raises(DomainError):
        notifications.set_notify_mode(session, author, "hourly", now)


def test_hidden_comments_and_unfollowed_proposals_are_not_news(app, session, people, proposal, now):
    from pb.services.moderation import hide_comment

    comment = deliberation.add_comment(session, people["resident"], proposal, "Rude", "en", now)
    hide_comment(session, people["staff"], comment, "Insults", now)
    deliberation.unfollow_proposal(session, people["author"], proposal)
    deliberation.add_comment(session, people["resident"], proposal, "Hi", "en", now)
    session.commit()
    assert run(app, session, now + LATER) == []


@pytest.fixture
def smtp_app(app, inbox):  # noqa: F811
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, MAIL_USE_TLS=False)
    app.config.update(PUBLIC_URL="https://pb.example.org")
    return app


def test_the_worker_round_queues_and_delivers_through_smtp(smtp_app, session, people, proposal, now, inbox):  # noqa: F811
    from pb.mail import deliver_now

    deliberation.add_comment(session, people["resident"], proposal, "Good idea", "en", now)
    session.commit()
    smtp_app.extensions["pb.clock"] = lambda: now + LATER
    report = deliver_now(smtp_app)
    assert report.sent == 1
    (message,) = inbox.messages
    assert message["To"] == "author@example.org"
    body = message.get_content()
    assert f"https://pb.example.org/cycles/test-cycle/proposals/{proposal.id}" in body
