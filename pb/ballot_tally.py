"""A cycle's ballot configuration and voters' choices as :mod:`pb.tally`'s types (standard library only).

Shared by :mod:`pb.services.results` (counting a cycle from its database rows) and the offline
auditor ``pb audit`` (re-counting an election record), so that both read a
:class:`~pb.ballot.BallotConfig` the same way: the ballot kind, the limits of a valid ballot, the
rule with its options and tie-break, and one :class:`~pb.ballot.Choices` as a tally ballot.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from pb.ballot import BallotConfig, BallotType, Choices
from pb.tally import (
    ApprovalBallot,
    Ballot,
    BallotKind,
    BallotLimits,
    CumulativeBallot,
    Election,
    Outcome,
    RankedBallot,
    TieBreak,
    tally,
)

# Knapsack and k-approval ballots are approval ballots with limits for the counting rules.
_BALLOT_KIND = {
    BallotType.APPROVAL: BallotKind.APPROVAL,
    BallotType.K_APPROVAL: BallotKind.APPROVAL,
    BallotType.KNAPSACK: BallotKind.APPROVAL,
    BallotType.RANKED: BallotKind.RANKED,
    BallotType.CUMULATIVE: BallotKind.CUMULATIVE,
}


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
