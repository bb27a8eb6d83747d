"""Mail to followers: built from comments and status changes, daily digests or each time, in the
reader's language, never about one's own action; delivered through a local SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb.db import utcnow
from pb.models import NotificationBookmark, OutboxMail, PendingNotification, ProposalStatus, User
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


# --- Rounds read the news since a shared bookmark, not every follow -------------------------------


def round_statements(app, session, at) -> tuple[int, list[tuple[str, object]]]:
    """One round at ``at`` (committed): how many mails it queued, and the SQL it ran."""
    from sqlalchemy import event

    engine = app.extensions["pb.db"].engine
    statements: list[tuple[str, object]] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.test_request_context():
        event.listen(engine, "before_cursor_execute", record)
        try:
            queued = notifications.send_notifications(session, at, link)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        session.commit()
    return queued, statements


def test_a_round_does_not_grow_with_follows_of_proposals_without_news(app, session, people, proposal, now):
    from pb.models import Follow

    def comment_and_round(hours: float, at):
        when = now + timedelta(hours=hours)
        deliberation.add_comment(session, people["resident"], proposal, f"At {hours}", "en", when)
        session.commit()
        return round_statements(app, session, at)

    mailed, few = comment_and_round(0, now + LATER)
    waiting, few_waiting = comment_and_round(1, now + timedelta(hours=1) + LATER)
    assert (mailed, waiting) == (1, 0), "the author's daily digest went an hour ago"

    # Forty more proposals, each followed by its author and two others, with no news since.
    proposal.cycle.max_proposals_per_resident = 50
    quiet = [
        make_proposal(session, people["author"], proposal.cycle, now=now - timedelta(hours=1), title=f"Quiet {i}")
        for i in range(40)
    ]
    for other in quiet:
        for person in (people["resident"], people["staff"]):
            session.add(Follow(proposal_id=other.id, user_id=person.id, created_at=now - timedelta(minutes=30)))
    session.commit()
    waiting, many_waiting = comment_and_round(2, now + timedelta(hours=2) + LATER)
    mailed, many = comment_and_round(3, now + timedelta(days=1, minutes=5))
    assert (waiting, mailed) == (0, 1)
    assert len(many_waiting) == len(few_waiting), "as many statements, whatever the number of follows"
    assert len(many) == len(few)

    if session.get_bind().dialect.name == "sqlite":  # and none of them reads every follow
        for statement, parameters in many_waiting + many:
            if statement.lstrip().upper().startswith(("SELECT", "INSERT INTO PENDING", "DELETE")):
                plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                details = [row[-1] for row in plan]
                assert not any(d.startswith("SCAN follows") for d in details), (statement, details)


def test_a_round_run_again_or_failing_midway_mails_each_piece_of_news_once(
    app, session, people, proposal, now, monkeypatch
):
    deliberation.follow_proposal(session, people["resident"], proposal, now)
    deliberation.add_comment(session, people["staff"], proposal, "We will look at it", "en", now + timedelta(seconds=1))
    session.commit()
    queue_mail = notifications.queue_mail
    calls = []

    def fail_on_the_second(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return queue_mail(*args, **kwargs)

    monkeypatch.setattr(notifications, "queue_mail", fail_on_the_second)
    with pytest.raises(RuntimeError), app.test_request_context():
        notifications.send_notifications(session, now + LATER, link)
    session.rollback()
    assert session.scalars(select(OutboxMail)).all() == [], "nothing of the failed round is kept"
    assert session.get(NotificationBookmark, 1) is None

    monkeypatch.setattr(notifications, "queue_mail", queue_mail)
    mails = run(app, session, now + LATER)
    assert sorted(m.recipient for m in mails) == ["author@example.org", "resident@example.org"]
    assert run(app, session, now + LATER) == [], "the same round again"
    assert run(app, session, now + 2 * LATER) == [], "a later round"
    assert session.scalars(select(PendingNotification)).all() == []


def test_the_bookmark_survives_across_rounds_and_pending_news_waits_for_the_digest(
    app, session, people, proposal, now
):
    deliberation.add_comment(session, people["resident"], proposal, "One", "en", now)
    session.commit()
    assert len(run(app, session, now + LATER)) == 1
    with app.extensions["pb.db"].session_factory() as fresh:
        assert fresh.get(NotificationBookmark, 1).read_until == now + LATER - notifications.SETTLE

    # A comment stamped before the bookmark (its request committed after the round) is past news;
    # one after it is read by the next round and waits for the author's next daily digest.
    deliberation.add_comment(session, people["resident"], proposal, "Late", "en", now - timedelta(seconds=1))
    deliberation.add_comment(session, people["resident"], proposal, "Two", "en", now + timedelta(hours=1))
    session.commit()
    assert run(app, session, now + timedelta(hours=2)) == []
    (waiting,) = session.scalars(select(PendingNotification)).all()
    assert session.get(NotificationBookmark, 1).read_until == now + timedelta(hours=2) - notifications.SETTLE

    assert run(app, session, now + timedelta(hours=1)) == [], "a worker whose clock is behind does nothing"
    assert session.get(NotificationBookmark, 1).read_until == now + timedelta(hours=2) - notifications.SETTLE

    (digest,) = run(app, session, now + timedelta(days=1, minutes=5))
    assert digest.body.count("- A new comment.") == 1
    assert session.scalars(select(PendingNotification)).all() == []


def test_turning_mail_off_drops_the_news_waiting(app, session, people, proposal, now):
    deliberation.add_comment(session, people["resident"], proposal, "One", "en", now)
    session.commit()
    assert len(run(app, session, now + LATER)) == 1
    deliberation.add_comment(session, people["resident"], proposal, "Two", "en", now + timedelta(hours=1))
    session.commit()
    assert run(app, session, now + timedelta(hours=2)) == []
    assert len(session.scalars(select(PendingNotification)).all()) == 1
    author = session.get(User, people["author"].id)
    notifications.set_notify_mode(session, author, notifications.OFF, now + timedelta(hours=3))
    session.commit()
    assert session.scalars(select(PendingNotification)).all() == []
    notifications.set_notify_mode(session, author, notifications.DAILY, now + timedelta(hours=4))
    session.commit()
    assert run(app, session, now + timedelta(days=2)) == []
