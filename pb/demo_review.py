"""The reviews behind the demo's decided proposals: each drafted and confirmed by staff, with the
public reason of its decision as the review's public summary (and, when not feasible, its reason)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pb.models import Cycle, Feasibility, Proposal, ProposalStatus, Review, User


def load_reviews(session: Session, cycle: Cycle, staff: User) -> int:
    """Reviews for the cycle's feasible and not feasible proposals (none if it has reviews already)."""
    has_reviews = session.scalar(
        select(func.count(Review.id))
        .join(Proposal, Review.proposal_id == Proposal.id)
        .where(Proposal.cycle_id == cycle.id)
    )
    if has_reviews:
        return 0
    decided = session.scalars(
        select(Proposal)
        .where(Proposal.cycle_id == cycle.id)
        .where(Proposal.status.in_((ProposalStatus.FEASIBLE, ProposalStatus.NOT_FEASIBLE)))
        .options(selectinload(Proposal.history))
    ).all()
    for proposal in decided:
        decision = proposal.history[-1]
        feasible = proposal.status is ProposalStatus.FEASIBLE
        session.add(
            Review(
                proposal_id=proposal.id,
                feasibility=Feasibility.FEASIBLE if feasible else Feasibility.NOT_FEASIBLE,
                public_reason="" if feasible else decision.public_reason,
                cost_estimate_cents=proposal.estimated_cost_cents if feasible else None,
                public_summary=decision.public_reason,
                drafted_by_id=staff.id,
                drafted_by_role="staff",
                drafted_at=decision.at,
                updated_by_id=staff.id,
                updated_at=decision.at,
                confirmed_by_id=staff.id,
                confirmed_at=decision.at,
            )
        )
    session.flush()
    return len(decided)
