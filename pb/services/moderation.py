"""Moderation: staff hide a proposal or a comment with a public reason, restore it, settle reports.

Moderation happens on the page where the problem is; the queue only lists open reports. Every
action goes to the admin audit log, and for a proposal also to its public history, so what was
hidden stays findable with the moderators' reason. Acting on a subject settles the open reports
on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from pb import permissions
from pb.models import Comment, Flag, Proposal, User
from pb.services import proposals
from pb.services.audit import record_change
from pb.services.deliberation import bump_counter
from pb.services.errors import DomainError

REASON_MAX_LENGTH = 500


def _require_moderator(actor: User | None) -> None:
    if not permissions.can_moderate(actor):
        raise DomainError(_l("Only staff can moderate."))


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(
            _l("Give the public reason: everyone will see why it was hidden."), field="reason"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(_l("Use at most %(max)d characters.", max=REASON_MAX_LENGTH), field="reason")
    return reason


def _resolve_flags(session: Session, actor: User, now: datetime, subject: Proposal | Comment) -> int:
    column = Flag.proposal_id if isinstance(subject, Proposal) else Flag.comment_id
    return session.execute(
        update(Flag)
        .where(column == subject.id, Flag.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount


def hide_proposal(session: Session, actor: User, proposal: Proposal, reason: str, now: datetime) -> None:
    """The proposal stays in lists; its page shows its title, that moderators hid it, and why."""
    _require_moderator(actor)
    reason = _clean_reason(reason, required=True)
    if proposal.is_hidden:
        raise DomainError(_l("This proposal is already hidden."))
    proposals.record_step(
        session, proposal, actor, now, to_status=proposal.status, event="hidden", public_reason=reason
    )
    proposal.hidden_at = now
    proposal.hidden_reason = reason
    session.flush()
    settled = _resolve_flags(session, actor, now, proposal)
    record_change(
        session, actor, "proposal.hide", "proposal", proposal.id,
        {"hidden": False}, {"hidden": True, "reason": reason, "reports_settled": settled}, now=now,
    )


def restore_proposal(session: Session, actor: User, proposal: Proposal, now: datetime, reason: str = "") -> None:
    """Show the proposal again; the history keeps that it was hidden, and why."""
    _require_moderator(actor)
    reason = _clean_reason(reason, required=False)
    if not proposal.is_hidden:
        raise DomainError(_l("This proposal is not hidden."))
    before = {"hidden": True, "reason": proposal.hidden_reason}
    proposals.record_step(
        session, proposal, actor, now, to_status=proposal.status, event="restored", public_reason=reason
    )
    proposal.hidden_at = None
    proposal.hidden_reason = ""
    session.flush()
    record_change(
        session, actor, "proposal.restore", "proposal", proposal.id, before, {"hidden": False, "reason": reason},
        now=now,
    )


def hide_comment(session: Session, actor: User, comment: Comment, reason: str, now: datetime) -> None:
    """The page shows "Hidden by moderators: <reason>" in place of the comment's text."""
    _require_moderator(actor)
    reason = _clean_reason(reason, required=True)
    if comment.is_hidden:
        raise DomainError(_l("This comment is already hidden."))
    comment.hidden_at = now
    comment.hidden_reason = reason
    comment.hidden_by_id = actor.id
    session.flush()
    bump_counter(session, comment.proposal, "comment_count", -1)
    settled = _resolve_flags(session, actor, now, comment)
    record_change(
        session, actor, "comment.hide", "comment", comment.id,
        {"hidden": False, "proposal": comment.proposal_id},
        {"hidden": True, "reason": reason, "reports_settled": settled}, now=now,
    )


def restore_comment(session: Session, actor: User, comment: Comment, now: datetime) -> None:
    _require_moderator(actor)
    if not comment.is_hidden:
        raise DomainError(_l("This comment is not hidden."))
    before = {"hidden": True, "reason": comment.hidden_reason, "proposal": comment.proposal_id}
    comment.hidden_at = None
    comment.hidden_reason = ""
    comment.hidden_by_id = None
    session.flush()
    bump_counter(session, comment.proposal, "comment_count", +1)
    record_change(session, actor, "comment.restore", "comment", comment.id, before, {"hidden": False}, now=now)


def dismiss_flags(session: Session, actor: User, subject: Proposal | Comment, now: datetime) -> int:
    """Keep the subject as it is and settle its open reports; returns how many were settled."""
    _require_moderator(actor)
    settled = _resolve_flags(session, actor, now, subject)
    if not settled:
        raise DomainError(_l("There are no open reports on this."))
    kind = "proposal" if isinstance(subject, Proposal) else "comment"
    record_change(
        session, actor, f"{kind}.keep", kind, subject.id, {"open_reports": settled}, {"open_reports": 0}, now=now
    )
    return settled


# --- The queue ------------------------------------------------------------------------------------


@dataclass
class FlagPage:
    items: list[Flag]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def open_flags(session: Session, *, number: int, per_page: int) -> FlagPage | None:
    """Open reports, oldest first, with their subject, proposal and cycle (two queries; None past the end)."""
    total = session.scalar(select(func.count(Flag.id)).where(Flag.resolved_at.is_(None)))
    page = FlagPage([], total, number, per_page)
    if number > page.pages:
        return None
    page.items = list(
        session.scalars(
            select(Flag)
            .where(Flag.resolved_at.is_(None))
            .order_by(Flag.created_at, Flag.id)
            .offset((number - 1) * per_page)
            .limit(per_page)
            .options(
                joinedload(Flag.user),
                joinedload(Flag.proposal).joinedload(Proposal.cycle),
                joinedload(Flag.comment).joinedload(Comment.proposal).joinedload(Proposal.cycle),
            )
        )
    )
    return page

