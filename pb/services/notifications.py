"""Mail to the people who follow a proposal: its status changed, or someone commented.

Built from the rows, not from hooks: each round of the worker reads the status changes
(``ProposalStatusChange``) and comments newer than what each person was last mailed about,
on the proposals they follow, and queues one mail per person in the outbox, in their language.
Nobody is told about their own action. People choose ``daily`` (the default: one digest a day at
most), ``immediate`` (a mail each round something happened) or ``off``.

Only events older than :data:`SETTLE` are read, so a request that took its clock reading before
the round and commits after it is not skipped. Rounds take a lock (PostgreSQL advisory lock;
SQLite has one writer at a time), so two workers never mail the same news twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session, joinedload, selectinload

from pb.models import Comment, Follow, Proposal, ProposalStatusChange, User
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


def _collect(session: Session, now: datetime, horizon: datetime) -> dict[int, list[News]]:
    news: dict[int, list[News]] = defaultdict(list)
    followers = select(Follow).join(User, User.id == Follow.user_id).where(User.is_active, _due(now))
    comments = session.execute(
        followers.with_only_columns(Follow.user_id, Comment.proposal_id, Comment.created_at, Comment.parent_id)
        .join(Comment, Comment.proposal_id == Follow.proposal_id)
        .where(
            _window(Comment.created_at, horizon),
            Comment.author_id != Follow.user_id,
            Comment.hidden_at.is_(None),
        )
    )
    for user_id, proposal_id, at, parent_id in comments:
        news[user_id].append(News(proposal_id, at, is_reply=parent_id is not None))
    steps = session.execute(
        followers.with_only_columns(Follow.user_id, ProposalStatusChange)
        .join(ProposalStatusChange, ProposalStatusChange.proposal_id == Follow.proposal_id)
        .where(
            _window(ProposalStatusChange.at, horizon),
            ProposalStatusChange.actor_id.is_distinct_from(Follow.user_id),
            ProposalStatusChange.event.in_(NEWS_EVENTS),
        )
    )
    for user_id, step in steps:
        news[user_id].append(News(step.proposal_id, step.at, step=step))
    return news


def send_notifications(session: Session, now: datetime, link: Callable[[Proposal], str]) -> int:
    """One round: queue the mail every person is due (flushed, not committed); returns how many.

    ``link(proposal)`` gives the address of the proposal's page for the mail.
    """
    _lock_round(session)
    horizon = now - SETTLE
    news = _collect(session, now, horizon)
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
