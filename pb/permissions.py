"""Who may do what to which object, asked the same way by services, views and templates.

Role decorators on views say who may open a page; these functions say what a person may do to
*this* proposal or comment *now*. Services call them before changing anything (and raise), and
templates call them to decide which buttons to offer, so a page never offers an action that the
service would refuse. They take ``None`` for an anonymous visitor.
"""

from __future__ import annotations

from datetime import datetime

from pb.models import Comment, Proposal, ProposalStatus, Role, User
from pb.services import phases
from pb.services.accounts import can_take_part  # an active account with a confirmed address

__all__ = ["can_take_part"]

# A comment's author may fix it for this long after posting.
COMMENT_EDIT_MINUTES = 15
EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def is_moderator(user: User | None) -> bool:
    return _signed_in(user) and user.has_role(Role.STAFF)


def is_reviewer(user: User | None) -> bool:
    """Staff and budget delegates review proposals; only staff confirm."""
    return _signed_in(user) and (user.has_role(Role.STAFF) or user.has_role(Role.DELEGATE))


def is_author(user: User | None, proposal: Proposal) -> bool:
    return _signed_in(user) and proposal.author_id == user.id


def can_see_proposal(user: User | None, proposal: Proposal) -> bool:
    """Whether the proposal's page exists for this person (a draft is its author's alone)."""
    if proposal.status is ProposalStatus.DRAFT:
        return is_author(user, proposal)
    return True


def can_read_hidden(user: User | None, proposal: Proposal) -> bool:
    """A hidden proposal shows only its title and the moderators' reason, except to its author and staff."""
    return is_author(user, proposal) or is_moderator(user)


def can_see_author(user: User | None, proposal: Proposal) -> bool:
    return proposal.show_author_name or is_author(user, proposal) or is_moderator(user)


def can_edit_proposal(user: User | None, proposal: Proposal, now: datetime) -> bool:
    return (
        is_author(user, proposal)
        and can_take_part(user)
        and proposal.status in EDITABLE_STATUSES
        and not proposal.is_hidden
        and phases.submission_open(proposal.cycle, now)
    )


def can_withdraw_proposal(user: User | None, proposal: Proposal, now: datetime) -> bool:
    return can_edit_proposal(user, proposal, now)


def can_translate_proposal(user: User | None, proposal: Proposal) -> bool:
    return is_moderator(user) and proposal.status is not ProposalStatus.DRAFT


def can_deliberate(user: User | None, proposal: Proposal, now: datetime) -> bool:
    """Comment on, reply to and support this proposal now."""
    return (
        can_take_part(user)
        and proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN, ProposalStatus.MERGED)
        and not proposal.is_hidden
        and phases.deliberation_open(proposal.cycle, now)
    )


def can_edit_comment(user: User | None, comment: Comment, now: datetime) -> bool:
    return (
        _signed_in(user)
        and comment.author_id == user.id
        and not comment.is_hidden
        and (now - comment.created_at).total_seconds() < COMMENT_EDIT_MINUTES * 60
    )


# --- Review and ballot projects ---------------------------------------------------------------------

REVIEWABLE_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.UNDER_REVIEW,
    ProposalStatus.FEASIBLE,
    ProposalStatus.NOT_FEASIBLE,
)


def is_assigned(user: User | None, proposal: Proposal) -> bool:
    """Whether staff asked ``user`` to review this proposal (loads the proposal's assignments)."""
    return _signed_in(user) and any(a.reviewer_id == user.id for a in proposal.review_assignments)


def can_review(user: User | None, proposal: Proposal, now: datetime) -> bool:
    """Draft or change this proposal's review, or suggest a merge: any staff, or an assigned delegate,
    from submission until voting opens, while the proposal is still being decided."""
    return (
        is_reviewer(user)
        and (is_moderator(user) or is_assigned(user, proposal))
        and proposal.status in REVIEWABLE_STATUSES
        and phases.review_open(proposal.cycle, now)
    )


def can_confirm_review(user: User | None) -> bool:
    """Only staff confirm feasibility and cost (a delegate's draft is a recommendation)."""
    return is_moderator(user)


def can_assign_reviewers(user: User | None) -> bool:
    return is_moderator(user)


def can_merge_proposals(user: User | None) -> bool:
    """Staff merge duplicates (themselves, or confirming a reviewer's suggestion)."""
    return is_moderator(user)


def can_manage_ballot_projects(user: User | None, cycle, now: datetime) -> bool:
    """Create confirmed projects, and remove projects: staff, until voting opens."""
    return is_moderator(user) and phases.ballot_projects_open(cycle, now)


def can_draft_ballot_projects(user: User | None, cycle, now: datetime) -> bool:
    """Make a ballot project: staff (confirmed at once) or a budget delegate (a draft), until voting opens."""
    return is_reviewer(user) and phases.ballot_projects_open(cycle, now)


def can_edit_ballot_project(user: User | None, project, now: datetime) -> bool:
    """Change a project: staff any, a budget delegate only a draft that staff have not confirmed yet."""
    return (
        is_reviewer(user)
        and (is_moderator(user) or not project.is_confirmed)
        and phases.ballot_projects_open(project.cycle, now)
    )


def can_confirm_ballot_project(user: User | None) -> bool:
    """Only staff confirm a delegate's draft project, which puts it (and its proposals) on the ballot."""
    return is_moderator(user)


def can_read_comment(user: User | None, comment: Comment) -> bool:
    """A hidden comment's text is for its author and staff; others see the moderators' reason."""
    return not comment.is_hidden or (_signed_in(user) and comment.author_id == user.id) or is_moderator(user)


def can_follow(user: User | None, proposal: Proposal) -> bool:
    """Get mail about the proposal: a confirmed address (we only mail those), a proposal others can see."""
    return can_take_part(user) and proposal.status is not ProposalStatus.DRAFT


def can_flag(user: User | None, subject: Proposal | Comment) -> bool:
    """Report a proposal or a comment to the moderators (at any time; not what they have already hidden)."""
    if isinstance(subject, Proposal) and subject.status is ProposalStatus.DRAFT:
        return False
    return can_take_part(user) and not subject.is_hidden


def can_manage_voters(user: User | None) -> bool:
    """Issue voter codes, confirm voters, void a misused ballot, close voting: staff."""
    return is_moderator(user)


def can_moderate(user: User | None) -> bool:
    """Hide and restore proposals and comments, and settle flags: staff."""
    return is_moderator(user)
