"""Ballot projects: what residents vote on, made from feasible proposals or directly.

A project has a title and a short description in both official languages, a cost in cents that
fits its district's budget (or the cycle's), a district (none: city-wide) and a category.

Staff make confirmed projects: their proposals go "on the ballot" at once. A budget delegate makes
a *draft*: its proposals stay feasible (publicly, nothing is on the ballot yet) until staff confirm
the draft, which puts them on the ballot; delegates may change a draft until then, never a
confirmed project, and never remove or confirm one. Removing a draft leaves its proposals as they
are. Only confirmed projects are the ballot (``list_projects(..., confirmed_only=True)``).

Once voting has opened the list is frozen, drafts included: every change is refused with a clear
message and changes nothing. Every change goes to the admin audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session, joinedload, selectinload

from pb import permissions
from pb.models import (
    BallotProject,
    Cycle,
    Proposal,
    ProposalStatus,
    Role,
    User,
    ballot_project_proposals,
)
from pb.services import phases
from pb.services.audit import record_change
from pb.services.errors import DomainError, Money
from pb.services.proposals import change_status


@dataclass(frozen=True)
class ProjectInput:
    """What a reviewer writes; the cycle, position, who made it and whether it is confirmed never come
    from a form."""

    title_en: str
    title_fr: str
    description_en: str
    description_fr: str
    cost_cents: int | None
    district_id: int | None = None  # None: city-wide
    category_id: int | None = None


def _require_staff(actor: User, cycle: Cycle, now: datetime) -> None:
    if not permissions.is_moderator(actor):
        raise DomainError(_l("Only staff can remove or confirm ballot projects."))
    phases.require_ballot_projects_open(cycle, now)


def _require_drafter(actor: User, cycle: Cycle, now: datetime) -> None:
    if not permissions.is_reviewer(actor):
        raise DomainError(_l("Only staff and budget delegates can make ballot projects."))
    phases.require_ballot_projects_open(cycle, now)


def budget_limit(cycle: Cycle, district_id: int | None) -> int | None:
    """The most a project of this district may cost: its district's budget, or the cycle's."""
    if cycle.has_district_budgets and district_id is not None:
        district = next((d for d in cycle.districts if d.id == district_id), None)
        return district.budget_cents if district is not None else None
    return cycle.total_budget_cents


def _clean(cycle: Cycle, data: ProjectInput) -> ProjectInput:
    data = ProjectInput(
        title_en=(data.title_en or "").strip(),
        title_fr=(data.title_fr or "").strip(),
        description_en=(data.description_en or "").strip(),
        description_fr=(data.description_fr or "").strip(),
        cost_cents=data.cost_cents,
        district_id=data.district_id,
        category_id=data.category_id,
    )
    errors: dict[str, list] = {}
    for name, message in (
        ("title_en", _l("Give the project a title in English.")),
        ("title_fr", _l("Give the project a title in French.")),
        ("description_en", _l("Describe the project in English.")),
        ("description_fr", _l("Describe the project in French.")),
    ):
        if not getattr(data, name):
            errors[name] = [message]
    district_ok = data.district_id is None or data.district_id in {d.id for d in cycle.districts}
    if not district_ok:
        errors["district"] = [_l("Choose one of this cycle's districts.")]
    if data.category_id is not None and data.category_id not in {c.id for c in cycle.categories}:
        errors["category"] = [_l("Choose one of this cycle's categories.")]
    if data.cost_cents is None or data.cost_cents <= 0:
        errors["cost"] = [_l("Give the project's cost, above zero.")]
    elif district_ok:
        limit = budget_limit(cycle, data.district_id)
        if limit is not None and data.cost_cents > limit:
            errors["cost"] = [
                _l("The cost is more than the budget it draws on (%(budget)s).", budget=Money(limit, cycle.currency))
            ]
    if errors:
        raise DomainError(errors=errors)
    return data


def _snapshot(project: BallotProject) -> dict:
    return {
        **{f.name: getattr(project, f.name) for f in fields(ProjectInput)},
        "proposals": [p.id for p in project.proposals],
        "confirmed": project.is_confirmed,
    }


def _take_proposals(session: Session, cycle: Cycle, proposal_ids: Sequence[int]) -> list[Proposal]:
    """The feasible proposals of this cycle that are on no project (nor draft) yet, or an error naming
    the others."""
    ids = sorted(set(proposal_ids))
    found = list(
        session.scalars(select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.id.in_(ids)))
    ) if ids else []
    if len(found) != len(ids):
        raise DomainError(_l("Choose proposals of this cycle."), field="proposals")
    taken = set(
        session.scalars(
            select(ballot_project_proposals.c.proposal_id).where(ballot_project_proposals.c.proposal_id.in_(ids))
        )
    ) if ids else set()
    unfit = [p.id for p in found if p.status is not ProposalStatus.FEASIBLE or p.id in taken]
    if unfit:
        raise DomainError(
            _l(
                "Only proposals confirmed feasible and on no other project can become ballot projects "
                "(not proposal %(numbers)s).",
                numbers=", ".join(f"#{number}" for number in unfit),
            ),
            field="proposals",
        )
    return found


def create_project(
    session: Session,
    actor: User,
    cycle: Cycle,
    data: ProjectInput,
    now: datetime,
    proposal_ids: Sequence[int] = (),
) -> BallotProject:
    """A new ballot project, from the given feasible proposals or directly.

    Staff's project is confirmed at once and its proposals go "on the ballot"; a budget delegate's is
    a draft, its proposals staying feasible until staff confirm it (:func:`confirm_project`).
    """
    _require_drafter(actor, cycle, now)
    data = _clean(cycle, data)
    proposals = _take_proposals(session, cycle, proposal_ids)
    position = session.scalar(
        select(func.coalesce(func.max(BallotProject.position), 0)).where(BallotProject.cycle_id == cycle.id)
    )
    staff = permissions.can_confirm_ballot_project(actor)
    project = BallotProject(
        cycle=cycle,
        position=position + 1,
        created_by_id=actor.id,
        drafted_by_role=Role.STAFF.value if staff else Role.DELEGATE.value,
        created_at=now,
        updated_at=now,
        confirmed_by_id=actor.id if staff else None,
        confirmed_at=now if staff else None,
        **vars(data),
    )
    project.proposals = proposals
    session.add(project)
    session.flush()
    if staff:
        _put_on_ballot(session, actor, project, now)
    action = "project.create" if staff else "project.drafted"
    record_change(session, actor, action, "ballot_project", project.id, None, _snapshot(project), now=now)
    return project


def _put_on_ballot(session: Session, actor: User, project: BallotProject, now: datetime) -> None:
    for proposal in project.proposals:
        change_status(session, actor, proposal, ProposalStatus.ON_BALLOT, now)


def confirm_project(session: Session, actor: User, project: BallotProject, now: datetime) -> BallotProject:
    """Staff confirm a delegate's draft: it is on the ballot, and so are its proposals."""
    _require_staff(actor, project.cycle, now)
    if project.is_confirmed:
        raise DomainError(_l("This ballot project is already confirmed."))
    # Reviewed again or merged since the draft was made: it cannot go on the ballot as it is.
    unfit = [p.id for p in project.proposals if p.status is not ProposalStatus.FEASIBLE]
    if unfit:
        raise DomainError(
            _l(
                "Proposal %(numbers)s is no longer feasible, so this draft cannot be confirmed: "
                "remove it and make the project again.",
                numbers=", ".join(f"#{number}" for number in unfit),
            )
        )
    before = _snapshot(project)
    project.confirmed_by_id = actor.id
    project.confirmed_at = now
    project.updated_at = now
    session.flush()
    _put_on_ballot(session, actor, project, now)
    record_change(session, actor, "project.confirmed", "ballot_project", project.id, before, _snapshot(project), now=now)
    return project


def update_project(
    session: Session, actor: User, project: BallotProject, data: ProjectInput, now: datetime
) -> bool:
    """Change a project's texts, cost, district or category; False when nothing changed.

    Staff may change any project (a confirmed one stays confirmed, a draft stays a draft); a budget
    delegate only a draft.
    """
    _require_drafter(actor, project.cycle, now)
    if project.is_confirmed and not permissions.can_confirm_ballot_project(actor):
        raise DomainError(_l("Staff have confirmed this ballot project; only staff can change it now."))
    data = _clean(project.cycle, data)
    before = _snapshot(project)
    for name, value in vars(data).items():
        setattr(project, name, value)
    after = _snapshot(project)
    if after == before:
        return False
    project.updated_at = now
    session.flush()
    record_change(session, actor, "project.update", "ballot_project", project.id, before, after, now=now)
    return True


def delete_project(session: Session, actor: User, project: BallotProject, now: datetime) -> None:
    """Remove a project (staff): a confirmed one's proposals are feasible again; a draft's stay as they are."""
    _require_staff(actor, project.cycle, now)
    before = _snapshot(project)
    proposals = list(project.proposals) if project.is_confirmed else []
    project_id = project.id
    session.delete(project)
    session.flush()
    for proposal in proposals:
        change_status(session, actor, proposal, ProposalStatus.FEASIBLE, now)
    record_change(session, actor, "project.delete", "ballot_project", project_id, before, None, now=now)


# --- Reading ------------------------------------------------------------------------------------


def list_projects(session: Session, cycle: Cycle, confirmed_only: bool = False) -> list[BallotProject]:
    """The cycle's projects in ballot order, with their districts, categories and proposals (two queries).

    ``confirmed_only``: the ballot itself, without the drafts waiting for staff.
    """
    statement = select(BallotProject).where(BallotProject.cycle_id == cycle.id)
    if confirmed_only:
        statement = statement.where(BallotProject.confirmed_at.is_not(None))
    return list(
        session.scalars(
            statement
            .order_by(BallotProject.position, BallotProject.id)
            .options(
                joinedload(BallotProject.district),
                joinedload(BallotProject.category),
                selectinload(BallotProject.proposals),
            )
        )
    )


def get_project(session: Session, cycle: Cycle, project_id: int) -> BallotProject | None:
    return session.scalar(
        select(BallotProject)
        .where(BallotProject.cycle_id == cycle.id, BallotProject.id == project_id)
        .options(selectinload(BallotProject.proposals))
    )


def feasible_proposals(session: Session, cycle: Cycle) -> list[Proposal]:
    """The cycle's proposals confirmed feasible and on no project (nor draft) yet: what a project can be
    made from."""
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.cycle_id == cycle.id, Proposal.status == ProposalStatus.FEASIBLE)
            .where(~Proposal.id.in_(select(ballot_project_proposals.c.proposal_id)))
            .order_by(Proposal.id)
            .options(selectinload(Proposal.review))
        )
    )


def cycle_references(session: Session, cycle: Cycle) -> tuple[set[int], set[int]]:
    """The ids of the cycle's districts and categories that a proposal or a ballot project uses
    (so the cycle editor can refuse to remove them). Two queries."""
    districts = union(
        select(Proposal.district_id).where(Proposal.cycle_id == cycle.id, Proposal.district_id.is_not(None)),
        select(BallotProject.district_id).where(
            BallotProject.cycle_id == cycle.id, BallotProject.district_id.is_not(None)
        ),
    )
    categories = union(
        select(Proposal.category_id).where(Proposal.cycle_id == cycle.id, Proposal.category_id.is_not(None)),
        select(BallotProject.category_id).where(
            BallotProject.cycle_id == cycle.id, BallotProject.category_id.is_not(None)
        ),
    )
    return set(session.scalars(districts)), set(session.scalars(categories))
