"""Deliberation on proposals: comments with one level of replies, supports, follows and flags.

Supports and follows are guarded by their unique constraints, not by a look before the insert:
two clicks at once both try the insert in a savepoint, one wins, the other finds the row there
and changes nothing. The proposal's ``support_count`` and ``comment_count`` move by SQL
expressions (``count = count + 1``) in the same transaction as the row they count, so they stay
exact whatever runs beside them. ``comment_count`` counts the comments and replies that are not
hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from pb import permissions
from pb.models import LANGUAGES, Comment, Flag, Follow, Proposal, Support, User
from pb.services import phases
from pb.services.errors import DomainError

COMMENT_MAX_LENGTH = 5_000
FLAG_REASON_MAX_LENGTH = 500

CONFIRM_FIRST = _l("Confirm your e-mail address before taking part: follow the link we sent you.")


def _require_participant(user: User | None) -> None:
    if not permissions.can_take_part(user):
        raise DomainError(CONFIRM_FIRST)


def _require_deliberation(user: User, proposal: Proposal, now: datetime) -> None:
    """Comments, replies and supports: a confirmed resident, the right phase, an open proposal."""
    _require_participant(user)
    phases.require_deliberation_open(proposal.cycle, now)
    if proposal.is_hidden:
        raise DomainError(_l("This proposal was hidden by moderators: it takes no comments or supports."))
    if not permissions.can_deliberate(user, proposal, now):
        raise DomainError(_l("This proposal is closed to comments and supports (it was withdrawn or merged)."))


def bump_counter(session: Session, proposal: Proposal, column: str, delta: int) -> None:
    """``column = column + delta`` in SQL: exact under concurrency, unlike reading and writing back."""
    counter = getattr(Proposal, column)
    session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id)
        .values({column: counter + delta})
        .execution_options(synchronize_session=False)
    )
    session.expire(proposal, [column])


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Write your comment."), field="body")
    if len(body) > COMMENT_MAX_LENGTH:
        raise DomainError(
            _l("Use at most %(max)d characters.", max=COMMENT_MAX_LENGTH), field="body"
        )
    return body


# --- Comments -------------------------------------------------------------------------------------


def add_comment(
    session: Session,
    author: User,
    proposal: Proposal,
    body: str,
    language: str,
    now: datetime,
    *,
    parent: Comment | None = None,
) -> Comment:
    """A comment on the proposal, or with ``parent`` a reply. A reply to a reply joins its parent's thread."""
    _require_deliberation(author, proposal, now)
    body = _clean_body(body)
    if language not in LANGUAGES:
        raise DomainError(_l("Choose English or French."), field="language")
    if parent is not None:
        if parent.proposal_id != proposal.id:
            raise DomainError(_l("That comment is not on this proposal."))
        if parent.parent_id is not None:  # one level of replies: answer the thread
            parent = parent.parent
        if parent.is_hidden:
            raise DomainError(_l("This comment was hidden by moderators: it takes no replies."))
    comment = Comment(
        proposal_id=proposal.id,
        author_id=author.id,
        parent_id=parent.id if parent is not None else None,
        body=body,
        language=language,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    bump_counter(session, proposal, "comment_count", +1)
    return comment


def edit_comment(session: Session, actor: User, comment: Comment, body: str, now: datetime) -> None:
    """Its author fixes a comment within 15 minutes of posting it (while deliberation is open)."""
    if comment.author_id != getattr(actor, "id", None):
        raise DomainError(_l("Only its author can change a comment."))
    phases.require_deliberation_open(comment.proposal.cycle, now)
    if not permissions.can_edit_comment(actor, comment, now):
        if comment.is_hidden:
            raise DomainError(_l("This comment was hidden by moderators and can no longer be changed."))
        raise DomainError(
            _l(
                "A comment can be changed for %(minutes)d minutes after it is posted; that time is over.",
                minutes=permissions.COMMENT_EDIT_MINUTES,
            )
        )
    comment.body = _clean_body(body)
    comment.edited_at = now
    session.flush()


# --- Supports and follows -------------------------------------------------------------------------


def _insert_once(session: Session, row) -> bool:
    """Insert ``row`` in a savepoint; False (and nothing changed) when its unique constraint says it exists."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def support_proposal(session: Session, user: User, proposal: Proposal, now: datetime) -> bool:
    """Add the resident's support; True if it is new, False if they already supported it (a double click)."""
    _require_deliberation(user, proposal, now)
    if not _insert_once(session, Support(proposal_id=proposal.id, user_id=user.id, created_at=now)):
        return False
    bump_counter(session, proposal, "support_count", +1)
    return True


def withdraw_support(session: Session, user: User, proposal: Proposal, now: datetime) -> bool:
    """Take the support back (while supports are open); False if there was none."""
    _require_participant(user)
    phases.require_deliberation_open(proposal.cycle, now)
    removed = session.execute(
        delete(Support)
        .where(Support.proposal_id == proposal.id, Support.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed:
        bump_counter(session, proposal, "support_count", -removed)
    return bool(removed)


def follow_proposal(session: Session, user: User, proposal: Proposal, now: datetime) -> bool:
    """Get mail when the proposal changes status or gets a comment; False if already following."""
    if not permissions.can_follow(user, proposal):
        if not permissions.can_take_part(user):
            raise DomainError(CONFIRM_FIRST)
        raise DomainError(_l("This proposal cannot be followed yet."))
    return _insert_once(session, Follow(proposal_id=proposal.id, user_id=user.id, created_at=now))


def unfollow_proposal(session: Session, user: User, proposal: Proposal) -> bool:
    """No more mail about the proposal; False if not following."""
    removed = session.execute(
        delete(Follow)
        .where(Follow.proposal_id == proposal.id, Follow.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(removed)


# --- Flags ----------------------------------------------------------------------------------------


def _flag(session: Session, user: User, subject: Proposal | Comment, reason: str, now: datetime) -> Flag:
    _require_participant(user)
    if subject.is_hidden:
        raise DomainError(_l("Moderators have already hidden this."))
    if not permissions.can_flag(user, subject):
        raise DomainError(_l("This cannot be reported."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say what is wrong, so the moderators know what to look at."), field="reason")
    if len(reason) > FLAG_REASON_MAX_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=FLAG_REASON_MAX_LENGTH), field="reason")
    flag = Flag(user_id=user.id, reason=reason, created_at=now)
    if isinstance(subject, Proposal):
        flag.proposal_id = subject.id
    else:
        flag.comment_id = subject.id
    if not _insert_once(session, flag):
        raise DomainError(_l("You have already reported this; the moderators will look at it."))
    return flag


def flag_proposal(session: Session, user: User, proposal: Proposal, reason: str, now: datetime) -> Flag:
    """Report the proposal to the moderators with a reason (one open report per person)."""
    return _flag(session, user, proposal, reason, now)


def flag_comment(session: Session, user: User, comment: Comment, reason: str, now: datetime) -> Flag:
    """Report the comment to the moderators with a reason (one open report per person)."""
    return _flag(session, user, comment, reason, now)


# --- Reading --------------------------------------------------------------------------------------


def get_comment(session: Session, proposal: Proposal, comment_id: int) -> Comment | None:
    """The comment if it is on this proposal (a comment of another proposal or cycle is None)."""
    return session.scalar(
        select(Comment)
        .where(Comment.id == comment_id, Comment.proposal_id == proposal.id)
        .options(joinedload(Comment.author), joinedload(Comment.parent))
    )


@dataclass
class Deliberation:
    """What the proposal page shows of the discussion, and what the viewer has done there."""

    comments: list[Comment]  # top-level comments, oldest first, each with ``replies`` loaded
    supported: bool = False
    following: bool = False
    flagged_proposal: bool = False  # the viewer has an open report on the proposal
    flagged_comments: set[int] = field(default_factory=set)  # comments the viewer has reported
    # Staff only: the open reports on the proposal (key None) and on each comment (by id).
    open_flags: dict[int | None, list[Flag]] = field(default_factory=dict)


def load_deliberation(session: Session, proposal: Proposal, viewer: User | None) -> Deliberation:
    """The comments with their replies and authors, and the viewer's supports, follows and flags.

    A fixed number of queries whatever the number of comments: one for the thread (comments and
    replies with their authors, put together here), two for a signed-in viewer, one more for staff.
    """
    thread = session.scalars(
        select(Comment)
        .where(Comment.proposal_id == proposal.id)
        .order_by(Comment.created_at, Comment.id)
        .options(joinedload(Comment.author))
    ).all()
    replies: dict[int, list[Comment]] = {}
    for comment in thread:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)
    comments = [comment for comment in thread if comment.parent_id is None]
    for comment in comments:  # as ``Comment.replies`` orders them: by id
        set_committed_value(comment, "replies", sorted(replies.get(comment.id, ()), key=lambda r: r.id))
    result = Deliberation(comments=comments)
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return result
    on_this_proposal = or_(
        Flag.proposal_id == proposal.id,
        Flag.comment_id.in_(select(Comment.id).where(Comment.proposal_id == proposal.id)),
    )
    row = session.execute(
        select(
            exists().where(Support.proposal_id == proposal.id, Support.user_id == viewer.id),
            exists().where(Follow.proposal_id == proposal.id, Follow.user_id == viewer.id),
        )
    ).one()
    result.supported, result.following = bool(row[0]), bool(row[1])
    for proposal_id, comment_id in session.execute(
        select(Flag.proposal_id, Flag.comment_id).where(
            Flag.user_id == viewer.id, Flag.resolved_at.is_(None), on_this_proposal
        )
    ):
        if proposal_id is not None:
            result.flagged_proposal = True
        else:
            result.flagged_comments.add(comment_id)
    if permissions.is_moderator(viewer):
        for flag in session.scalars(
            select(Flag).where(Flag.resolved_at.is_(None), on_this_proposal).order_by(Flag.created_at, Flag.id)
        ):
            result.open_flags.setdefault(flag.comment_id, []).append(flag)
    return result

