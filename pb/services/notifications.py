"""Mail to the people who follow a proposal: its status changed, or someone commented.

Built from the rows, not from hooks. Each round of the worker reads only the status changes
(``ProposalStatusChange``) and comments newer than one shared bookmark (``NotificationBookmark``),
finds the followers of just the proposals they touch (one joined ``INSERT ... SELECT`` a kind of
event) and keeps each piece of news for each follower as a ``PendingNotification``; then it queues
one mail per person who is due, in their language, from their pending news, and deletes it. Nobody
is told about their own action. People choose ``daily`` (the default: one digest a day at most),
``immediate`` (a mail each round something happened) or ``off``. The work of a round grows with
the news and the people it concerns, not with the number of follows.

Only events older than :data:`SETTLE` are read, so a request that took its clock reading before
the round and commits after it is not skipped. Rounds take a lock (PostgreSQL advisory lock;
SQLite has one writer at a time), so two workers never mail the same news twice; a round is one
transaction (bookmark, pending news, queued mail), so a round that fails leaves nothing half done,
and a round whose clock is behind the bookmark does nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, insert, or_, select, text, update
from sqlalchemy.orm import Session, joinedload, selectinload

from pb.models import (
    Comment,
    Follow,
    NotificationBookmark,
    PendingNotification,
    Proposal,
    ProposalStatusChange,
    User,
)
from pb.models.notification import BOOKMARK_ID
from pb.services.errors import DomainError
from pb.services.outbox import queue_mail

DAILY, IMMEDIATE, OFF = "daily", "immediate", "off"
NOTIFY_MODES = {
    DAILY: _l("One summary a day at most"),
    IMMEDIATE: _l("Each time something happens"),
    OFF: _l("Never"),
}
DIGEST_INTERVAL = timedelta(days=1)
SETTLE = timedelta(minutes=2)
ADVISORY_LOCK = 7_000_001  # any constant: the notification round's PostgreSQL advisory lock
# Steps of a proposal's history that are news to its followers (the author's own edits are not).
NEWS_EVENTS = ("status", "merged", "hidden", "restored")
LOCALES = {"en": "en_CA", "fr": "fr_CA"}


def set_notify_mode(session: Session, user: User, mode: str, now: datetime) -> None:
    """The person's choice; turning mail back on starts from now, not from all that happened meanwhile."""
    if mode not in NOTIFY_MODES:
        raise DomainError(_l("Choose how often we write to you."), field="notify_mode")
    if mode != user.notify_mode:
        if user.notify_mode == OFF:
            user.notified_until = now
        if mode == OFF:  # nothing from before is told when it is turned back on
            session.execute(delete(PendingNotification).where(PendingNotification.user_id == user.id))
        user.notify_mode = mode
        session.flush()


@dataclass(frozen=True)
class News:
    proposal_id: int
    at: datetime
    step: ProposalStatusChange | None = None  # a status change, or else a comment
    is_reply: bool = False


def _due(now: datetime):
    return or_(
        User.notify_mode == IMMEDIATE,
        and_(
            User.notify_mode == DAILY,
            or_(User.last_digest_at.is_(None), User.last_digest_at <= now - DIGEST_INTERVAL),
        ),
    )


def _window(column, horizon: datetime):
    """Newer than the follow and than the person's last mail, older than the horizon."""
    return and_(
        column > Follow.created_at,
        or_(User.notified_until.is_(None), column > User.notified_until),
        column <= horizon,
    )


def _lock_round(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})


def _read_news(session: Session, since: datetime | None, horizon: datetime) -> None:
    """Keep the events in (``since``, ``horizon``] as pending news for the followers of their proposals.

    Everything that can change before a digest is due (hidden comments, unfollowing, the person's
    mode) is checked again when the mail is built; what cannot is settled here.
    """

    def followers(event, at):
        query = (
            select(Follow.user_id, event.id)
            .select_from(event)
            .join(Follow, Follow.proposal_id == event.proposal_id)
            .join(User, User.id == Follow.user_id)
            .where(_window(at, horizon), User.notify_mode != OFF)
        )
        return query if since is None else query.where(at > since)

    comments = followers(Comment, Comment.created_at).where(Comment.author_id != Follow.user_id)
    steps = followers(ProposalStatusChange, ProposalStatusChange.at).where(
        ProposalStatusChange.actor_id.is_distinct_from(Follow.user_id),
        ProposalStatusChange.event.in_(NEWS_EVENTS),
    )
    session.execute(insert(PendingNotification).from_select(["user_id", "comment_id"], comments))
    session.execute(insert(PendingNotification).from_select(["user_id", "status_change_id"], steps))


def _take_due_news(session: Session, now: datetime, horizon: datetime) -> dict[int, list[News]]:
    """The pending news of every person due a mail now that is still news to them; their pending rows go."""
    news: dict[int, list[News]] = defaultdict(list)
    due = (
        select(PendingNotification.user_id)
        .join(User, User.id == PendingNotification.user_id)
        .where(User.is_active, _due(now))
    )
    comments = session.execute(
        due.add_columns(Comment.proposal_id, Comment.created_at, Comment.parent_id)
        .join(Comment, Comment.id == PendingNotification.comment_id)
        .join(Follow, and_(Follow.proposal_id == Comment.proposal_id, Follow.user_id == User.id))
        .where(_window(Comment.created_at, horizon), Comment.hidden_at.is_(None))
    )
    for user_id, proposal_id, at, parent_id in comments:
        news[user_id].append(News(proposal_id, at, is_reply=parent_id is not None))
    steps = session.execute(
        due.add_columns(ProposalStatusChange)
        .join(ProposalStatusChange, ProposalStatusChange.id == PendingNotification.status_change_id)
        .join(Follow, and_(Follow.proposal_id == ProposalStatusChange.proposal_id, Follow.user_id == User.id))
        .where(_window(ProposalStatusChange.at, horizon))
    )
    for user_id, step in steps:
        news[user_id].append(News(step.proposal_id, step.at, step=step))
    # Told now, or no longer news (hidden since, unfollowed, ...): either way not pending any more.
    session.execute(
        delete(PendingNotification).where(
            exists().where(User.id == PendingNotification.user_id, User.is_active, _due(now))
        )
    )
    return news


def send_notifications(session: Session, now: datetime, link: Callable[[Proposal], str]) -> int:
    """One round: queue the mail every person is due (flushed, not committed); returns how many.

    ``link(proposal)`` gives the address of the proposal's page for the mail.
    """
    _lock_round(session)
    horizon = now - SETTLE
    bookmark = session.get(NotificationBookmark, BOOKMARK_ID)
    if bookmark is None:  # the first round reads every past event once
        _read_news(session, None, horizon)
        session.add(NotificationBookmark(id=BOOKMARK_ID, read_until=horizon))
    elif bookmark.read_until > horizon:  # this worker's clock is behind the last round's: wait
        return 0
    elif bookmark.read_until < horizon:
        _read_news(session, bookmark.read_until, horizon)
        bookmark.read_until = horizon
    session.flush()
    news = _take_due_news(session, now, horizon)
    if not news:
        return 0
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(news)))}
    proposal_ids = {item.proposal_id for items in news.values() for item in items}
    proposals = {
        p.id: p
        for p in session.scalars(
            select(Proposal)
            .where(Proposal.id.in_(proposal_ids))
            .options(joinedload(Proposal.cycle), selectinload(Proposal.translations))
        )
    }
    for user_id, items in sorted(news.items()):
        user = users[user_id]
        subject, body = _render(user, items, proposals, link)
        queue_mail(session, user.email, subject, body, now)
        values = {"notified_until": horizon}
        if user.notify_mode == DAILY:
            values["last_digest_at"] = now
        session.execute(
            update(User).where(User.id == user.id).values(**values).execution_options(synchronize_session=False)
        )
    session.expire_all()
    return len(news)


# --- The mail -------------------------------------------------------------------------------------


def _language(user: User) -> str:
    return "fr" if (user.locale or "").startswith("fr") else "en"


def _title(proposal: Proposal, language: str) -> str:
    translation = proposal.translation(language) if proposal.language != language else None
    return translation.title if translation is not None else proposal.title


def _status_label(status) -> str:
    from pb.proposal_labels import STATUS_NAMES

    return str(STATUS_NAMES.get(status, status))


def _describe(item: News) -> str:
    step = item.step
    if step is None:
        return _("A new reply to a comment.") if item.is_reply else _("A new comment.")
    if step.event == "hidden":
        return _("Hidden by moderators: %(reason)s", reason=step.public_reason)
    if step.event == "restored":
        return _("Shown again by moderators.")
    line = _(
        "Status: %(before)s → %(after)s.",
        before=_status_label(step.from_status) if step.from_status else "—",
        after=_status_label(step.to_status),
    )
    if step.public_reason:
        line = _("%(change)s Reason: %(reason)s", change=line, reason=step.public_reason)
    return line


def _render(
    user: User, items: list[News], proposals: dict[int, Proposal], link: Callable[[Proposal], str]
) -> tuple[str, str]:
    language = _language(user)
    by_proposal: dict[int, list[News]] = defaultdict(list)
    for item in sorted(items, key=lambda n: (n.at, n.step is None)):
        by_proposal[item.proposal_id].append(item)
    with force_locale(LOCALES[language]):
        if len(by_proposal) == 1:
            (proposal_id,) = by_proposal
            subject = _("News about “%(title)s”", title=_title(proposals[proposal_id], language))
        else:
            subject = _("News about %(count)d proposals you follow", count=len(by_proposal))
        parts = [_("Hello %(name)s,", name=user.display_name), _("Here is what happened on proposals you follow.")]
        for proposal_id, entries in by_proposal.items():
            proposal = proposals[proposal_id]
            lines = [f"“{_title(proposal, language)}”", link(proposal)]
            lines += [f"- {_describe(entry)}" for entry in entries]
            parts.append("\n".join(lines))
        parts.append(
            _(
                "You receive this because you follow these proposals. To change how often we write, "
                "or to stop, go to your account page; to stop for one proposal, unfollow it on its page."
            )
        )
    subject = " ".join(str(subject).split())[:255]
    return subject, "\n\n".join(str(part) for part in parts)
