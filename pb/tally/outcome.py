"""The result of a tally and its explanation, round by round."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pb.tally.election import Amount
from pb.tally.tiebreak import TieBreak


class Phase(StrEnum):
    MAIN = "main"
    COMPLETION = "completion"


class PassReason(StrEnum):
    DID_NOT_FIT = "did_not_fit"  # cost above the budget left when its turn came
    BELOW_THRESHOLD = "below_threshold"  # score under the minimum the rule requires
    NOT_AFFORDABLE = "not_affordable"  # MES: its supporters' remaining shares could not pay for it
    STOPPED = "stopped"  # the rule stopped (no-skip greedy, Phragmén) before reaching it
    NO_SUPPORT = "no_support"  # nobody supported it


@dataclass(frozen=True, slots=True)
class Round:
    """One project funded, with the numbers that justified it."""

    number: int  # 1-based order of selection
    project_id: str
    cost: Amount
    supporters: int  # voters whose ballot contains the project
    score: Amount  # the rule's total utility for the project (supporters, points, Borda score ...)
    phase: Phase = Phase.MAIN
    price_per_voter: Amount | None = None  # MES: rho, the most any supporter paid per unit of utility
    payers: int | None = None  # MES: how many voters paid something
    tied_with: tuple[str, ...] = ()  # other projects it tied with, resolved by the tie-break
    # Phragmén: the load (time) at which the project was bought.
    load: Amount | None = None
    # MES with Add1: the per-voter share in force when the project was bought.
    voter_share: Amount | None = None


@dataclass(frozen=True, slots=True)
class PassedOver:
    project_id: str
    reason: PassReason
    cost: Amount
    supporters: int
    score: Amount
    budget_left: Amount | None = None  # what was left when the project was considered, where relevant


@dataclass(frozen=True)
class Outcome:
    rule: str
    utility: str
    completion: str
    tie_break: TieBreak
    budget: Amount
    selected: tuple[str, ...]  # in order of selection
    total_cost: Amount
    exhaustive: bool  # no unselected project fits in what is left
    rounds: tuple[Round, ...]
    passed_over: tuple[PassedOver, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()  # every other option the rule ran with
    certificate: Any = None  # pb.tally.certificate.PaymentCertificate for MES outcomes
    notes: tuple[str, ...] = field(default=())  # e.g. "Add1 raised each voter's share to 1234"
