"""The one bridge between pb's database rows and :mod:`pb.tally` (no other web or service module imports it).

It lists the counting rules on offer (with the utilities, completions and tie-breaks each takes),
turns a cycle's :class:`~pb.ballot.BallotConfig` into the tally's ballot limits and rule, and
voters' :class:`~pb.ballot.Choices` into the tally's ballots and election.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from pb import permissions
from pb.ballot import BallotConfig, BallotType, Choices
from pb.ballot_tally import TallyRule as TallyRule  # re-exported with the other conversions
from pb.ballot_tally import ballot_kind, tally_ballot, tally_limits, tally_rule
from pb.hashchain import canonical_json
from pb.models import Ballot as BallotRow
from pb.models import BallotLogHead, BallotProject, BallotStatus, Cycle, Result, ResultStatus, User
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.transitions import frozen_ballot_config
from pb.tally import (
    RULES,
    Ballot,
    BallotKind,
    Election,
    Outcome,
    Project,
    TieBreakMethod,
    Vote,
)
from pb.tally.report import outcome_json, pb_version

# The tie-breaks on offer, the default first.
TIE_BREAKS: tuple[str, ...] = (
    TieBreakMethod.COST.value,
    *(method.value for method in TieBreakMethod if method is not TieBreakMethod.COST),
)

@dataclass(frozen=True)
class RuleChoice:
    """A counting rule of the registry, with what it can be combined with."""

    name: str
    ballot_kinds: frozenset[BallotKind]
    utilities: tuple[str, ...]
    completions: tuple[str, ...]

    def counts(self, ballot_type: BallotType) -> bool:
        """Whether the rule counts ballots of this type."""
        return ballot_kind(ballot_type) in self.ballot_kinds


RULE_CHOICES: dict[str, RuleChoice] = {
    name: RuleChoice(
        name=info.name,
        ballot_kinds=frozenset(info.ballot_kinds),
        utilities=tuple(info.utilities),
        completions=tuple(info.completions),
    )
    for name, info in RULES.items()
}


def all_utilities() -> list[str]:
    """Every utility some rule takes, in registry order."""
    return list(dict.fromkeys(name for rule in RULE_CHOICES.values() for name in rule.utilities))


def all_completions() -> list[str]:
    """Every completion some rule takes, ``none`` first."""
    return list(
        dict.fromkeys(["none", *(name for rule in RULE_CHOICES.values() for name in rule.completions)])
    )


def tally_election(
    config: BallotConfig, budget_cents: int, costs: Mapping[int, int], ballots: Iterable[Choices]
) -> Election:
    """The election to count: the projects (id -> cost in cents), the budget, and one vote for each
    ballot, numbered in order (ballots carry no voter), with the cycle's ballot kind and limits.

    Every ballot must be of the cycle's type and name only projects of ``costs``.
    """
    projects = tuple(Project(str(pid), cost) for pid, cost in sorted(costs.items()))
    votes = []
    kind = BallotType(config.ballot_type)
    checked: dict[Choices, Ballot] = {}  # equal choices are checked and converted once
    for number, choices in enumerate(ballots, start=1):
        ballot = checked.get(choices)
        if ballot is None:
            if choices.ballot_type is not kind:
                raise ValueError(f"ballot {number} is {choices.ballot_type.value}, not {config.ballot_type}")
            if not set(choices.projects) <= costs.keys():
                raise ValueError(f"ballot {number} names a project that is not counted")
            ballot = checked[choices] = tally_ballot(choices)
        votes.append(Vote(str(number), ballot))
    return Election(
        budget_cents,
        projects,
        tuple(votes),
        ballot_kind(config.ballot_type),
        tally_limits(config, budget_cents),
    )


@dataclass(frozen=True)
class CountedElection:
    """One count of a cycle: the whole city's (``district_id`` None) or one district budget's."""

    district_id: int | None
    election: Election
    outcome: Outcome


def tally_cycle(session: Session, cycle: Cycle) -> list[CountedElection]:
    """Count a cycle's counted ballots with the configuration frozen when its voting opened.

    A cycle with one budget is one election: every confirmed project, every counted ballot. A cycle whose
    budget is divided between districts is one election per district: the projects its voters could
    choose (the district's and the city-wide ones), its budget and its voters' counted ballots.
    """
    config = frozen_ballot_config(session, cycle)
    if config is None:
        raise ValueError(f"voting has not opened in cycle {cycle.slug}: there is nothing to count")
    rule = tally_rule(config)
    projects = session.execute(
        select(BallotProject.id, BallotProject.cost_cents, BallotProject.district_id).where(
            BallotProject.cycle_id == cycle.id, BallotProject.confirmed_at.is_not(None)
        )
    ).all()
    ballots: dict[int | None, list[Choices]] = {}
    rows = session.execute(
        select(BallotRow.district_id, BallotRow.choices).where(
            BallotRow.cycle_id == cycle.id, BallotRow.status == BallotStatus.COUNTED
        )
    )
    divided = cycle.has_district_budgets
    read: dict[str, Choices] = {}  # many voters make the same choices: each text is read once
    for district_id, text in rows:
        choices = read.get(text)
        if choices is None:
            choices = read[text] = Choices.from_json(text)
        ballots.setdefault(district_id if divided else None, []).append(choices)
    if not divided:
        budgets: dict[int | None, int] = {None: cycle.total_budget_cents}
    else:
        budgets = {district.id: district.budget_cents or 0 for district in cycle.districts}
    counts = []
    for district_id, budget in budgets.items():
        costs = {pid: cost for pid, cost, where in projects if not divided or where in (None, district_id)}
        election = tally_election(config, budget, costs, ballots.get(district_id, ()))
        counts.append(CountedElection(district_id, election, rule.count(election)))
    return counts


# --- Drafting and publishing a result ------------------------------------------------------------


def _require_counter(actor: User) -> None:
    if not permissions.can_manage_voters(actor):
        raise DomainError(_l("Only staff can count and publish results."))


def _require_sealed(session: Session, cycle: Cycle, now: datetime) -> BallotLogHead:
    from pb.services.voting import seal_ballot_log

    if not cycle.voting_is_over(now):
        raise DomainError(_l("Voting is not over yet: the count starts once it has closed."))
    seal_ballot_log(session, cycle, now)  # when no worker ran since the end
    head = session.get(BallotLogHead, cycle.id)
    if head is None or head.closed_at is None:
        raise DomainError(_l("This cycle has no ballot log to count."))
    return head


def count_outcome_json(session: Session, cycle: Cycle) -> str:
    """The counts of ``cycle`` as the canonical JSON a result keeps (and the election record publishes)."""
    slugs = {d.id: d.slug for d in cycle.districts}
    counts = []
    for count in tally_cycle(session, cycle):
        counts.append(
            {
                "district": slugs.get(count.district_id) if count.district_id is not None else None,
                "budget_cents": int(count.election.budget),
                "outcome": outcome_json(count.election, count.outcome),
            }
        )
    return canonical_json({"counts": counts}).decode()


def draft_result(
    session: Session, actor: User, cycle: Cycle, now: datetime, *, corrects: Result | None = None, reason: str = ""
) -> Result:
    """Count the sealed ballots now, as a draft only staff see (an earlier draft is discarded).

    A count after publication is a correction: it names the published result and needs a public reason.
    """
    _require_counter(actor)
    head = _require_sealed(session, cycle, now)
    published = current_result(session, cycle)
    reason = (reason or "").strip()
    if published is not None and corrects is None:
        raise DomainError(
            _l("The result is published and cannot be undone; a new count is a correction with a public reason.")
        )
    if corrects is not None:
        if published is None or corrects.id != published.id:
            raise DomainError(_l("Only the published result can be corrected."))
        if not reason:
            raise DomainError(_l("Give the public reason for the correction."), field="reason")
    config = frozen_ballot_config(session, cycle)
    for old in session.scalars(
        select(Result).where(Result.cycle_id == cycle.id, Result.status == ResultStatus.DRAFT)
    ):
        old.status = ResultStatus.DISCARDED
    result = Result(
        cycle_id=cycle.id,
        status=ResultStatus.DRAFT,
        ballot_config=config.to_json(),
        log_head=f"{head.count}:{head.hash}",
        counted=head.counted,
        outcome=count_outcome_json(session, cycle),
        software_version=pb_version(),
        created_by_id=actor.id,
        created_at=now,
        corrects_id=corrects.id if corrects is not None else None,
        correction_reason=reason,
    )
    session.add(result)
    session.flush()
    record_change(
        session, actor, "result.drafted", "cycle", cycle.id, None,
        {"result": result.id, "log_head": result.log_head, "corrects": result.corrects_id}, now=now,
    )
    return result


def publish_result(session: Session, actor: User, result: Result, now: datetime) -> Result:
    """Publish a draft, for good (recorded in the admin audit log); a correction replaces the one it corrects."""
    _require_counter(actor)
    if result.status is not ResultStatus.DRAFT:
        raise DomainError(_l("Only a draft result can be published."))
    published = current_result(session, result.cycle)
    if published is not None and result.corrects_id != published.id:
        raise DomainError(_l("Another result was published meanwhile; count again as a correction of it."))
    result.status = ResultStatus.PUBLISHED
    result.published_by_id, result.published_at = actor.id, now
    session.flush()
    record_change(
        session, actor, "result.published", "cycle", result.cycle_id, None,
        {"result": result.id, "log_head": result.log_head, "corrects": result.corrects_id,
         "reason": result.correction_reason or None},
        now=now,
    )
    return result


def current_result(session: Session, cycle: Cycle) -> Result | None:
    """The published result that stands: the latest published (a correction supersedes what it corrects)."""
    return session.scalar(
        select(Result)
        .where(Result.cycle_id == cycle.id, Result.status == ResultStatus.PUBLISHED)
        .order_by(Result.published_at.desc(), Result.id.desc())
        .limit(1)
    )


def pending_draft(session: Session, cycle: Cycle) -> Result | None:
    """The draft waiting for staff (never shown publicly)."""
    return session.scalar(
        select(Result).where(Result.cycle_id == cycle.id, Result.status == ResultStatus.DRAFT).limit(1)
    )


def published_results(session: Session, cycle: Cycle) -> list[Result]:
    """Every published result of the cycle, newest first (corrections and what they corrected)."""
    return list(
        session.scalars(
            select(Result)
            .where(Result.cycle_id == cycle.id, Result.status == ResultStatus.PUBLISHED)
            .order_by(Result.published_at.desc(), Result.id.desc())
        )
    )
