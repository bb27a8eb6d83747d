"""The registry of rules and the :func:`tally` entry point.

The web app and the CLI list :data:`RULES`; :func:`tally` validates a request against the
registry, prepares the utilities and runs the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pb.tally.election import Amount, BallotKind, Election
from pb.tally.outcome import Outcome
from pb.tally.tiebreak import TieBreak

UTILITIES: dict[str, str] = {
    "cost": "a voter gains the project's cost from every project on their ballot",
    "cardinality": "a voter gains 1 from every project on their ballot",
    "score": "ranked: positional score (Borda k-1 ... 0, or a fixed vector); cumulative: the points; approval: 1",
    "score-cost": "the score multiplied by the project's cost",
}

COMPLETIONS: dict[str, str] = {
    "none": "no completion",
    "greedy": "fund what is left greedily by number of supporters (greedy with cost utility)",
    "add1": "raise every voter's share by one currency unit until the outcome is exhaustive (equalshares.net)",
    "add1-greedy": "Add1, then greedy with cost utility on what is left",
}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    name: str
    title: str
    ballot_kinds: frozenset[BallotKind]
    options: tuple[str, ...]  # keyword options of tally() that the rule reads
    utilities: tuple[str, ...]
    completions: tuple[str, ...]
    description: str
    run: Callable[..., Outcome]


def _run_greedy(election, **kwargs):
    from pb.tally.rules.greedy import greedy

    return greedy(election, **kwargs)


def _run_mes(election, **kwargs):
    from pb.tally.rules.mes import mes

    return mes(election, **kwargs)


def _run_phragmen(election, **kwargs):
    from pb.tally.rules.phragmen import phragmen

    return phragmen(election, **kwargs)


_ALL_KINDS = frozenset(BallotKind)

RULES: dict[str, RuleInfo] = {
    "greedy": RuleInfo(
        name="greedy",
        title="Greedy",
        ballot_kinds=_ALL_KINDS,
        options=("utility", "tie_break", "skip", "threshold", "scores"),
        utilities=tuple(UTILITIES),
        completions=("none",),
        description=(
            "Projects are taken in order of total utility per unit of cost, highest first, and funded while "
            "they fit in what is left of the budget. A project that does not fit is skipped (or, with "
            "skip=False, counting stops there). With the cost utility this funds projects by number of "
            "supporters; with score-cost by total points. Projects whose total utility is below the "
            "threshold are passed over. Zero-cost projects come first (infinite utility per unit of cost)."
        ),
        run=_run_greedy,
    ),
    "mes": RuleInfo(
        name="mes",
        title="Method of Equal Shares",
        ballot_kinds=_ALL_KINDS,
        options=("utility", "completion", "tie_break", "scores"),
        utilities=tuple(UTILITIES),
        completions=tuple(COMPLETIONS),
        description=(
            "Every voter receives an equal share of the budget. Repeatedly, the project that its supporters "
            "can pay for at the lowest price per unit of utility is funded, each supporter paying that price "
            "times their utility or all they have left, whichever is less. Counting stops when no project "
            "can be paid for by its supporters; a completion (greedy, or Add1: raising every share by one "
            "currency unit while the result still fits the budget) can spend the rest."
        ),
        run=_run_mes,
    ),
    "phragmen": RuleInfo(
        name="phragmen",
        title="Sequential Phragmén",
        ballot_kinds=frozenset({BallotKind.APPROVAL}),
        options=("tie_break",),
        utilities=("cost", "cardinality"),
        completions=("none",),
        description=(
            "Voters earn money continuously at the same rate; a project is bought as soon as its supporters "
            "together have earned its cost, their money being spent on it, so loads stay as even as "
            "possible. Approval ballots only; counting stops at the first project that does not fit in "
            "what is left of the budget."
        ),
        run=_run_phragmen,
    ),
}


def tally(
    election: Election,
    rule: str,
    *,
    utility: str = "cost",
    completion: str = "none",
    tie_break: TieBreak = TieBreak(),
    skip: bool = True,
    threshold: Amount = 0,
    scores: tuple[int, ...] | None = None,
) -> Outcome:
    """Count ``election`` with ``rule``; see :data:`RULES` for the rules and their options.

    Raises ``ValueError`` (with a readable message) for an unknown rule, utility or completion,
    a ballot kind the rule does not accept, or an option the rule does not take.
    """
    info = RULES.get(rule)
    if info is None:
        raise ValueError(f"unknown rule {rule!r}; known rules: {', '.join(RULES)}")
    if utility not in UTILITIES:
        raise ValueError(f"unknown utility {utility!r}; known utilities: {', '.join(UTILITIES)}")
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r}; known completions: {', '.join(COMPLETIONS)}")
    if election.kind not in info.ballot_kinds:
        kinds = ", ".join(sorted(k.value for k in info.ballot_kinds))
        raise ValueError(f"rule {rule!r} does not accept {election.kind.value} ballots (it accepts: {kinds})")
    if utility not in info.utilities:
        raise ValueError(
            f"rule {rule!r} does not take the {utility!r} utility (it takes: {', '.join(info.utilities)})"
        )
    if completion not in info.completions:
        raise ValueError(f"rule {rule!r} takes no completion (got {completion!r})")
    if not isinstance(tie_break, TieBreak):
        raise ValueError("tie_break must be a TieBreak")
    if "skip" not in info.options and skip is not True:
        raise ValueError(f"rule {rule!r} has no skip option")
    if "threshold" not in info.options and threshold != 0:
        raise ValueError(f"rule {rule!r} has no threshold option")
    if scores is not None:
        if "scores" not in info.options:
            raise ValueError(f"rule {rule!r} has no scores option")
        if election.kind is not BallotKind.RANKED:
            raise ValueError("a score vector applies to ranked ballots only")
        if utility not in ("score", "score-cost"):
            raise ValueError("a score vector applies to the score and score-cost utilities only")
        scores = tuple(scores)
        if any(isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in scores):
            raise ValueError("scores must be non-negative integers")
    kwargs: dict = {"utility": utility, "tie_break": tie_break, "scores": scores}
    if "completion" in info.options:
        kwargs["completion"] = completion
    if "skip" in info.options:
        kwargs["skip"] = skip
    if "threshold" in info.options:
        kwargs["threshold"] = threshold
    return info.run(election, **kwargs)
