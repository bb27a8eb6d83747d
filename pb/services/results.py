"""The one bridge between pb's database rows and :mod:`pb.tally` (no other web or service module imports it).

It lists the counting rules on offer (with the utilities, completions and tie-breaks each takes),
turns a cycle's :class:`~pb.ballot.BallotConfig` into the tally's ballot limits and rule, and
voters' :class:`~pb.ballot.Choices` into the tally's ballots and election.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb.ballot import BallotConfig, BallotType, Choices
from pb.models import Ballot as BallotRow
from pb.models import BallotProject, BallotStatus, Cycle
from pb.services.transitions import frozen_ballot_config
from pb.tally import (
    RULES,
    ApprovalBallot,
    Ballot,
    BallotKind,
    BallotLimits,
    CumulativeBallot,
    Election,
    Outcome,
    Project,
    RankedBallot,
    TieBreak,
    TieBreakMethod,
    Vote,
    tally,
)

# The tie-breaks on offer, the default first.
TIE_BREAKS: tuple[str, ...] = (
    TieBreakMethod.COST.value,
    *(method.value for method in TieBreakMethod if method is not TieBreakMethod.COST),
)

# Knapsack and k-approval ballots are approval ballots with limits for the counting rules.
_BALLOT_KIND = {
    BallotType.APPROVAL: BallotKind.APPROVAL,
    BallotType.K_APPROVAL: BallotKind.APPROVAL,
    BallotType.KNAPSACK: BallotKind.APPROVAL,
    BallotType.RANKED: BallotKind.RANKED,
    BallotType.CUMULATIVE: BallotKind.CUMULATIVE,
}


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


def ballot_kind(ballot_type: BallotType) -> BallotKind:
    return _BALLOT_KIND[BallotType(ballot_type)]


def tally_limits(config: BallotConfig, budget: int | Fraction) -> BallotLimits:
    """What a valid ballot looks like for the tally, in the units of ``budget`` (e.g. cents).

    A knapsack ballot must fit in ``budget`` (and fill its least share of it); a ranked ballot has
    at most ``ranking_length`` projects; a cumulative ballot spreads at most ``points_per_voter``.
    """
    kind = BallotType(config.ballot_type)
    if kind is BallotType.CUMULATIVE:
        return BallotLimits(max_points=config.max_points_per_project, max_sum_points=config.points_per_voter)
    high = config.ranking_length if kind is BallotType.RANKED else config.max_projects
    if kind is not BallotType.KNAPSACK:
        return BallotLimits(min_length=config.min_projects, max_length=high)
    share = config.min_budget_share_percent
    return BallotLimits(
        min_length=config.min_projects,
        max_length=high,
        min_sum_cost=None if not share else Fraction(budget) * share / 100,
        max_sum_cost=budget,
    )


def tally_ballot(choices: Choices) -> Ballot:
    """The tally's ballot for a voter's choices (project ids become the tally's text ids)."""
    ids = tuple(str(pid) for pid in choices.projects)
    kind = ballot_kind(choices.ballot_type)
    if kind is BallotKind.RANKED:
        return RankedBallot(ids)
    if kind is BallotKind.CUMULATIVE:
        return CumulativeBallot(tuple(zip(ids, choices.points, strict=True)))
    return ApprovalBallot(frozenset(ids))


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
class TallyRule:
    """A counting rule with its options, ready to count an election."""

    rule: str
    utility: str
    completion: str
    tie_break: TieBreak

    def count(self, election: Election) -> Outcome:
        return tally(
            election, self.rule, utility=self.utility, completion=self.completion, tie_break=self.tie_break
        )


def tally_rule(config: BallotConfig) -> TallyRule:
    """The counting rule, its options and the tie-break (with the cycle's seed) of ``config``."""
    return TallyRule(
        rule=config.tally_rule,
        utility=config.tally_utility,
        completion=config.tally_completion,
        tie_break=TieBreak.parse(config.tie_break, config.tie_break_seed),
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
