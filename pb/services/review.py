"""Review of proposals by staff and resident budget delegates.

Staff assign proposals to reviewers (staff or budget delegates). A reviewer (an assigned delegate,
or any staff) drafts the proposal's one review: feasibility, a cost estimate, the community-safety
fields, a public summary and internal notes; drafting moves a submitted proposal to "under review".
Staff confirm the review, which decides the proposal (feasible, or not feasible with its public
reason) through :func:`pb.services.proposals.change_status`, so the public history, the admin audit
log and the author's notification all follow. Reviewers suggest merging duplicates; staff merge.

Internal notes are for reviewers only: :func:`public_review` is what public pages may show, and it
has no field for them; the audit log records that they changed, never what they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, configure_mappers, joinedload, object_session, selectinload

from pb import permissions
from pb.models import (
    BallotProject,
    Cycle,
    District,
    Feasibility,
    Proposal,
    ProposalStatus,
    Review,
    ReviewAssignment,
    Role,
    RoleGrant,
    User,
    ballot_project_proposals,
)
from pb.services import phases
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.proposals import MAX_COST_CENTS, ProposalPage, change_status, record_step

configure_mappers()  # the review's back-references on Proposal (``review``, ``review_assignments``)

QUEUE_ASSIGNMENTS = ("", "unassigned", "mine")
NOT_REVIEWER = _l("Only staff and budget delegates review proposals.")
NOT_REVIEWABLE = _l("This proposal is no longer being reviewed: it was withdrawn, merged or put on the ballot.")


@dataclass(frozen=True)
class ReviewInput:
    """What a reviewer writes; who drafted and who confirmed are never taken from a form."""

    feasibility: str = ""  # "", "feasible" or "not_feasible"
    public_reason: str = ""
    cost_estimate_cents: int | None = None
    civil_liberties: str = ""
    equity: str = ""
    partner_capacity: str = ""
    public_summary: str = ""
    internal_notes: str = ""


TEXT_FIELDS = ("public_reason", "civil_liberties", "equity", "partner_capacity", "public_summary", "internal_notes")


def _role_of(user: User) -> str:
    return Role.STAFF.value if permissions.is_moderator(user) else Role.DELEGATE.value


def _snapshot(review: Review | None) -> dict | None:
    """The review for the audit log: internal notes by length only (the log can be exported)."""
    if review is None:
        return None
    return {
        "feasibility": review.feasibility.value if review.feasibility else None,
        "public_reason": review.public_reason,
        "cost_estimate_cents": review.cost_estimate_cents,
        "civil_liberties": review.civil_liberties,
        "equity": review.equity,
        "partner_capacity": review.partner_capacity,
        "public_summary": review.public_summary,
        "internal_notes_length": len(review.internal_notes),
        "confirmed": review.is_confirmed,
    }


IN_DRAFT_PROJECT = _l(
    "This proposal is part of a draft ballot project: take it out of the draft (or remove the draft) first."
)


def draft_project_of(session: Session, proposal: Proposal) -> BallotProject | None:
    """The draft ballot project (waiting for staff) that holds ``proposal``, if any."""
    return session.scalar(
        select(BallotProject)
        .join(ballot_project_proposals, ballot_project_proposals.c.project_id == BallotProject.id)
        .where(ballot_project_proposals.c.proposal_id == proposal.id, BallotProject.confirmed_at.is_(None))
    )


def _require_reviewable(actor: User, proposal: Proposal, now: datetime) -> None:
    if not permissions.is_reviewer(actor):
        raise DomainError(NOT_REVIEWER)
    phases.require_review_open(proposal.cycle, now)
    if proposal.status not in permissions.REVIEWABLE_STATUSES:
        raise DomainError(NOT_REVIEWABLE)
    if draft_project_of(object_session(proposal), proposal) is not None:
        raise DomainError(IN_DRAFT_PROJECT)
    if not permissions.can_review(actor, proposal, now):
        raise DomainError(_l("Staff have not asked you to review this proposal."))


def _validate(data: ReviewInput) -> ReviewInput:
    cleaned = ReviewInput(
        feasibility=data.feasibility or "",
        cost_estimate_cents=data.cost_estimate_cents,
        **{name: (getattr(data, name) or "").strip() for name in TEXT_FIELDS},
    )
    errors: dict[str, list] = {}
    if cleaned.feasibility not in ("", *(f.value for f in Feasibility)):
        errors["feasibility"] = [_l("Choose feasible or not feasible.")]
    if cleaned.feasibility == Feasibility.NOT_FEASIBLE and not cleaned.public_reason:
        errors["public_reason"] = [
            _l("Say publicly why the proposal is not feasible: residents have a right to know.")
        ]
    cost = cleaned.cost_estimate_cents
    if cost is not None and not 0 < cost <= MAX_COST_CENTS:
        errors["cost_estimate"] = [_l("Give a cost above zero, or leave it blank.")]
    if errors:
        raise DomainError(errors=errors)
    return cleaned


def _ensure_review(proposal: Proposal, actor: User, now: datetime) -> Review:
    review = proposal.review
    if review is None:
        review = Review(
            proposal=proposal,
            drafted_by_id=actor.id,
            drafted_by_role=_role_of(actor),
            drafted_at=now,
            updated_by_id=actor.id,
            updated_at=now,
        )
    return review


def draft_review(session: Session, actor: User, proposal: Proposal, data: ReviewInput, now: datetime) -> Review:
    """Write or change the proposal's review; a submitted proposal is then "under review".

    Changing a confirmed review (staff only) withdraws the confirmation: the proposal is under
    review again until staff confirm the new version.
    """
    _require_reviewable(actor, proposal, now)
    data = _validate(data)
    review = proposal.review
    if review is not None and review.is_confirmed and not permissions.can_confirm_review(actor):
        raise DomainError(_l("Staff have confirmed this review; only staff can change it now."))
    before = _snapshot(review)
    review = _ensure_review(proposal, actor, now)
    review.feasibility = Feasibility(data.feasibility) if data.feasibility else None
    review.cost_estimate_cents = data.cost_estimate_cents
    for name in TEXT_FIELDS:
        setattr(review, name, getattr(data, name))
    review.updated_by_id = actor.id
    review.updated_at = now
    review.confirmed_by_id = None
    review.confirmed_at = None
    session.add(review)
    session.flush()
    if proposal.status is not ProposalStatus.UNDER_REVIEW:
        change_status(session, actor, proposal, ProposalStatus.UNDER_REVIEW, now)
    record_change(session, actor, "review.drafted", "proposal", proposal.id, before, _snapshot(review), now=now)
    return review


def confirm_review(session: Session, actor: User, proposal: Proposal, now: datetime) -> Review:
    """Staff confirm the drafted review: the proposal becomes feasible or not feasible (with the reason)."""
    if not permissions.can_confirm_review(actor):
        raise DomainError(_l("Only staff can confirm a review; a budget delegate's review is a draft."))
    phases.require_review_open(proposal.cycle, now)
    if proposal.status not in permissions.REVIEWABLE_STATUSES:
        raise DomainError(NOT_REVIEWABLE)
    review = proposal.review
    if review is None or review.feasibility is None:
        raise DomainError(_l("Draft the review and choose feasible or not feasible before confirming it."))
    if review.feasibility is Feasibility.NOT_FEASIBLE and not review.public_reason:
        raise DomainError(
            _l("Say publicly why the proposal is not feasible: residents have a right to know."),
            field="public_reason",
        )
    if review.feasibility is Feasibility.FEASIBLE and review.cost_estimate_cents is None:
        raise DomainError(_l("Give a cost estimate before confirming that the proposal is feasible."))
    review.confirmed_by_id = actor.id
    review.confirmed_at = now
    session.flush()
    status = ProposalStatus(review.feasibility.value)
    reason = review.public_reason if status is ProposalStatus.NOT_FEASIBLE else ""
    change_status(session, actor, proposal, status, now, public_reason=reason)
    record_change(session, actor, "review.confirmed", "proposal", proposal.id, None, _snapshot(review), now=now)
    return review


# --- Assignments --------------------------------------------------------------------------------


def assign_reviewer(session: Session, actor: User, proposal: Proposal, reviewer: User | None, now: datetime) -> None:
    if not permissions.can_assign_reviewers(actor):
        raise DomainError(_l("Only staff assign reviewers."))
    phases.require_review_open(proposal.cycle, now)
    if proposal.status not in permissions.REVIEWABLE_STATUSES:
        raise DomainError(NOT_REVIEWABLE)
    if reviewer is None or not permissions.is_reviewer(reviewer):
        raise DomainError(_l("Choose a staff member or a budget delegate."), field="reviewer")
    if any(a.reviewer_id == reviewer.id for a in proposal.review_assignments):
        raise DomainError(
            _l("%(name)s is already reviewing this proposal.", name=reviewer.display_name), field="reviewer"
        )
    proposal.review_assignments.append(
        ReviewAssignment(reviewer_id=reviewer.id, assigned_by_id=actor.id, assigned_at=now)
    )
    session.flush()
    record_change(
        session, actor, "review.assigned", "proposal", proposal.id, None, {"reviewer": reviewer.email}, now=now
    )


def unassign_reviewer(
    session: Session, actor: User, proposal: Proposal, reviewer_id: int | None, now: datetime
) -> None:
    if not permissions.can_assign_reviewers(actor):
        raise DomainError(_l("Only staff assign reviewers."))
    assignment = next((a for a in proposal.review_assignments if a.reviewer_id == reviewer_id), None)
    if assignment is None:
        raise DomainError(_l("This person is not reviewing this proposal."))
    email = assignment.reviewer.email
    proposal.review_assignments.remove(assignment)
    session.flush()
    record_change(
        session, actor, "review.unassigned", "proposal", proposal.id, {"reviewer": email}, None, now=now
    )


def list_reviewers(session: Session) -> list[User]:
    """Active accounts that may review: staff, admins and budget delegates, by name."""
    roles = (Role.STAFF, Role.ADMIN, Role.DELEGATE)
    return list(
        session.scalars(
            select(User)
            .where(User.is_active, exists().where(RoleGrant.user_id == User.id, RoleGrant.role.in_(roles)))
            .order_by(User.display_name, User.id)
        )
    )


def get_reviewer(session: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    return session.get(User, user_id, options=[selectinload(User.role_grants)])


# --- Merging duplicates -------------------------------------------------------------------------


def _merge_target(session: Session, proposal: Proposal, target_id: int | None) -> Proposal:
    target = None
    if target_id is not None:
        target = session.scalar(
            select(Proposal).where(Proposal.cycle_id == proposal.cycle_id, Proposal.id == target_id)
        )
    if target is None or target.status is ProposalStatus.DRAFT:
        raise DomainError(_l("Give the number of another proposal of this cycle."), field="target")
    if target.id == proposal.id:
        raise DomainError(_l("A proposal cannot be merged into itself."), field="target")
    if target.status in (ProposalStatus.MERGED, ProposalStatus.WITHDRAWN):
        raise DomainError(
            _l("That proposal was merged or withdrawn: merge into the proposal it went to."), field="target"
        )
    return target


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say publicly why these proposals are merged."), field="reason")
    return reason


def suggest_merge(
    session: Session, actor: User, proposal: Proposal, target_id: int | None, reason: str, now: datetime
) -> Review:
    """A reviewer suggests that ``proposal`` duplicates another; staff confirm (``merge_proposal``)."""
    _require_reviewable(actor, proposal, now)
    target = _merge_target(session, proposal, target_id)
    reason = _require_reason(reason)
    review = _ensure_review(proposal, actor, now)
    review.merge_into_id = target.id
    review.merge_reason = reason
    review.merge_suggested_by_id = actor.id
    session.add(review)
    session.flush()
    _record_merge(session, actor, "review.merge_suggested", proposal, target, reason, now)
    return review


def _record_merge(session, actor, action: str, proposal: Proposal, target: Proposal, reason: str, now) -> None:
    after = {"merge_into": target.id, "reason": reason}
    record_change(session, actor, action, "proposal", proposal.id, None, after, now=now)


def _require_merger(actor: User) -> None:
    if not permissions.can_merge_proposals(actor):
        raise DomainError(_l("Only staff can merge proposals; suggest the merge and staff will confirm it."))


def merge_proposal(
    session: Session, actor: User, proposal: Proposal, target_id: int | None, reason: str, now: datetime
) -> Proposal:
    """Staff merge ``proposal`` into another: it is "merged", links to it, and its author is credited there.

    Proposals merged into ``proposal`` earlier follow it to the new target.
    """
    _require_merger(actor)
    phases.require_review_open(proposal.cycle, now)
    if proposal.status not in permissions.REVIEWABLE_STATUSES:
        raise DomainError(NOT_REVIEWABLE)
    if draft_project_of(session, proposal) is not None:
        raise DomainError(IN_DRAFT_PROJECT)
    target = _merge_target(session, proposal, target_id)
    reason = _require_reason(reason)
    for earlier in session.scalars(select(Proposal).where(Proposal.merged_into_id == proposal.id)):
        earlier.merged_into_id = target.id
    proposal.merged_into_id = target.id
    review = proposal.review
    if review is not None:
        review.merge_into_id, review.merge_reason, review.merge_suggested_by_id = None, "", None
    change_status(session, actor, proposal, ProposalStatus.MERGED, now, public_reason=reason)
    record_step(session, target, actor, now, to_status=target.status, event="merged", public_reason=reason)
    session.flush()
    _record_merge(session, actor, "proposal.merged", proposal, target, reason, now)
    return target


def decline_merge(session: Session, actor: User, proposal: Proposal, now: datetime) -> None:
    """Staff turn down a reviewer's suggested merge."""
    _require_merger(actor)
    review = proposal.review
    if review is None or review.merge_into_id is None:
        raise DomainError(_l("No merge was suggested for this proposal."))
    before = {"merge_into": review.merge_into_id, "reason": review.merge_reason}
    review.merge_into_id, review.merge_reason, review.merge_suggested_by_id = None, "", None
    session.flush()
    record_change(session, actor, "review.merge_declined", "proposal", proposal.id, before, None, now=now)


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    assignment: str = ""  # "", "unassigned" or "mine"
    status: str = ""  # a proposal status other than draft, or ""


def review_queue(
    session: Session, cycle: Cycle, viewer: User, filters: QueueFilters, *, number: int, per_page: int
) -> ProposalPage | None:
    """One page of the cycle's submitted proposals for reviewers (None past the last page): two queries
    for the page plus one each for its reviews and its assignments, whatever the page holds."""
    statement = select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.status != ProposalStatus.DRAFT)
    assigned = exists().where(ReviewAssignment.proposal_id == Proposal.id)
    if filters.assignment == "unassigned":
        statement = statement.where(~assigned)
    elif filters.assignment == "mine":
        statement = statement.where(assigned.where(ReviewAssignment.reviewer_id == viewer.id))
    if filters.status:
        statement = statement.where(Proposal.status == ProposalStatus(filters.status))
    total = session.scalar(statement.with_only_columns(func.count(Proposal.id)).order_by(None))
    page = ProposalPage([], total, number, per_page)
    if number > page.pages:
        return None
    page.items = list(
        session.scalars(
            statement.order_by(Proposal.submitted_at, Proposal.id)
            .offset((number - 1) * per_page)
            .limit(per_page)
            .options(
                joinedload(Proposal.district),
                joinedload(Proposal.category),
                selectinload(Proposal.review),
                selectinload(Proposal.review_assignments).joinedload(ReviewAssignment.reviewer),
            )
        )
    )
    return page


def queue_statuses() -> tuple[str, ...]:
    return tuple(s.value for s in ProposalStatus if s is not ProposalStatus.DRAFT)


def load_review_page(session: Session, proposal: Proposal) -> list[Proposal]:
    """Load what the review page shows (review, assignments, reviewers) and return the proposals
    merged into this one: a fixed number of queries."""
    session.scalars(
        select(Proposal)
        .where(Proposal.id == proposal.id)
        .options(
            selectinload(Proposal.review).options(
                joinedload(Review.drafted_by),
                joinedload(Review.updated_by),
                joinedload(Review.confirmed_by),
                joinedload(Review.merge_into),
            ),
            selectinload(Proposal.review_assignments).joinedload(ReviewAssignment.reviewer),
        )
    ).all()
    return merged_into(session, proposal)


def merged_into(session: Session, proposal: Proposal) -> list[Proposal]:
    """The proposals merged into ``proposal``, with their authors and districts (one query)."""
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.merged_into_id == proposal.id, Proposal.status == ProposalStatus.MERGED)
            .order_by(Proposal.id)
            .options(joinedload(Proposal.author), joinedload(Proposal.district))
        )
    )


@dataclass(frozen=True)
class Credit:
    """An author credited on the proposal their merged proposal went into."""

    proposal_id: int
    title: str
    language: str
    author_name: str | None  # None: shown as a resident of ``district`` (the author chose so)
    district: District | None


@dataclass(frozen=True)
class PublicReview:
    """What public pages show of a review: never its internal notes or who exactly drafted it.

    ``feasibility`` and the fields are there only once staff have confirmed the review.
    """

    confirmed: bool
    feasibility: Feasibility | None = None
    public_reason: str = ""
    cost_estimate_cents: int | None = None
    civil_liberties: str = ""
    equity: str = ""
    partner_capacity: str = ""
    public_summary: str = ""
    drafted_by_role: str = ""  # "delegate" or "staff"
    confirmed_at: datetime | None = None
    credits: tuple[Credit, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.confirmed and not self.credits


# Only these statuses can follow a confirmed review (staff confirm, then the project or a merge).
DECIDED_STATUSES = (
    ProposalStatus.FEASIBLE,
    ProposalStatus.NOT_FEASIBLE,
    ProposalStatus.ON_BALLOT,
    ProposalStatus.MERGED,
)


def public_review(session: Session, proposal: Proposal) -> PublicReview:
    """The public part of the proposal's review and the authors of the proposals merged into it.

    At most two queries, and none for a proposal not decided yet that nothing was merged into (its
    loaded history says so), so a proposal page costs nothing more before review.
    """
    review = None
    if proposal.status in DECIDED_STATUSES:
        review = session.scalar(select(Review).where(Review.proposal_id == proposal.id))
    merged = any(step.event == "merged" for step in proposal.history)
    credits = () if not merged else tuple(
        Credit(
            proposal_id=p.id,
            title=p.title,
            language=p.language,
            author_name=p.author.display_name if p.show_author_name else None,
            district=p.district,
        )
        for p in merged_into(session, proposal)
    )
    if review is None or not review.is_confirmed:
        return PublicReview(confirmed=False, credits=credits)
    return PublicReview(
        confirmed=True,
        feasibility=review.feasibility,
        public_reason=review.public_reason,
        cost_estimate_cents=review.cost_estimate_cents,
        civil_liberties=review.civil_liberties,
        equity=review.equity,
        partner_capacity=review.partner_capacity,
        public_summary=review.public_summary,
        drafted_by_role=review.drafted_by_role,
        confirmed_at=review.confirmed_at,
        credits=credits,
    )

