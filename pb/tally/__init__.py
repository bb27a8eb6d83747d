"""Exact, explainable tallying of participatory budgeting elections (standard library only).

Entry point: :func:`tally`. The registry :data:`RULES` lists every rule with its accepted
ballot kinds, options and a description (the web app and the CLI list the same registry).
"""

from pb.tally.election import (
    Amount,
    ApprovalBallot,
    Ballot,
    BallotKind,
    BallotLimits,
    CumulativeBallot,
    Election,
    Project,
    RankedBallot,
    Vote,
    exact,
)
from pb.tally.outcome import Outcome, PassedOver, PassReason, Phase, Round
from pb.tally.rules.registry import COMPLETIONS, RULES, UTILITIES, RuleInfo, tally
from pb.tally.tiebreak import TieBreak, TieBreakMethod, UnresolvedTie

__all__ = [
    "COMPLETIONS",
    "RULES",
    "UTILITIES",
    "Amount",
    "ApprovalBallot",
    "Ballot",
    "BallotKind",
    "BallotLimits",
    "CumulativeBallot",
    "Election",
    "Outcome",
    "PassReason",
    "PassedOver",
    "Phase",
    "Project",
    "RankedBallot",
    "Round",
    "RuleInfo",
    "TieBreak",
    "TieBreakMethod",
    "UnresolvedTie",
    "Vote",
    "exact",
    "tally",
]
