"""Greedy: fund projects in order of total utility per unit of cost while they fit.

Order: the project with the highest *density* (total utility divided by cost) first. A
project with positive total utility and cost 0 has infinite density and comes before every
other project; a project with total utility 0 has density 0 and comes last (it is still
funded if it fits and passes the threshold, as pabutools does; pass ``threshold=1`` to
leave unsupported projects out). Projects of equal density are ordered by the tie-break.

* ``skip=True`` (default): a project that does not fit in what is left is passed over
  (``DID_NOT_FIT``) and counting goes on with the next one.
* ``skip=False`` ("no-skip"): counting stops at the first project that does not fit; it and
  every later project are passed over (``DID_NOT_FIT`` for it, ``STOPPED`` for the rest).
* ``threshold``: a project whose *score* (number of voters who have it on their ballot under
  the ``cost`` and ``cardinality`` utilities; total points or positional score under
  ``score`` and ``score-cost``) is below the threshold is passed over (``BELOW_THRESHOLD``)
  whatever its density, and does not stop a no-skip count.

With the ``cost`` utility the density is the number of supporters ("fund by number of
supporters"); with ``score-cost`` it is the total score ("fund by total points").

Ties under ``refuse``: a group of projects with equal density raises
:class:`~pb.tally.tiebreak.UnresolvedTie` only when the order inside the group could change
which projects are funded, i.e. when the members that fit on their own do not all fit
together (with ``skip=False``: when some but not all of the group fits together).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import groupby

from pb.tally._gc import gc_paused
from pb.tally.election import Amount, Election
from pb.tally.outcome import Outcome, PassedOver, PassReason, Phase, Round
from pb.tally.tiebreak import TieBreak, TieBreakMethod, UnresolvedTie
from pb.tally.utility import Prepared, prepare

_INF = (2, 0)


def _density_key(total: Amount, cost: Amount) -> tuple:
    """A sort key, larger = better: (2, 0) infinite, (1, density) positive, (0, 0) zero."""
    if total > 0:
        if cost > 0:
            return (1, Fraction(total) / cost)
        return _INF
    return (0, 0)


def greedy_order(prep: Prepared, tie_break: TieBreak, candidates: list[int]) -> list[list[int]]:
    """Candidates in greedy order, as groups of equal density (each group in tie-break order)."""
    costs, sup = prep.costs, prep.supporters
    ids = prep.ids
    index = {pid: i for i, pid in enumerate(ids)}
    tb_key = tie_break.sort_key(lambda pid: costs[index[pid]], lambda pid: sup[index[pid]])
    dens = {j: _density_key(prep.total_utility[j], costs[j]) for j in candidates}
    ordered = sorted(candidates, key=lambda j: tb_key(ids[j]))
    ordered.sort(key=lambda j: dens[j], reverse=True)  # stable: ties keep the tie-break order
    return [list(g) for _, g in groupby(ordered, key=lambda j: dens[j])]


def run_greedy(
    prep: Prepared,
    tie_break: TieBreak,
    *,
    remaining: Amount,
    exclude: set[int],
    skip: bool = True,
    threshold: Amount = 0,
    phase: Phase = Phase.MAIN,
    first_round: int = 1,
) -> tuple[list[Round], list[PassedOver], Amount]:
    """The greedy pass on the projects not in ``exclude``; returns rounds, passed over, budget left."""
    costs, ids = prep.costs, prep.ids
    candidates = [j for j in range(len(ids)) if j not in exclude]
    rounds: list[Round] = []
    passed: list[PassedOver] = []

    def pass_over(j: int, reason: PassReason, left: Amount | None) -> None:
        passed.append(
            PassedOver(ids[j], reason, costs[j], prep.supporters[j], prep.score[j], budget_left=left)
        )

    below = [j for j in candidates if prep.score[j] < threshold]
    eligible = [j for j in candidates if prep.score[j] >= threshold]
    stopped = False
    for group in greedy_order(prep, tie_break, eligible):
        if stopped:
            for j in group:
                pass_over(j, PassReason.STOPPED, remaining)
            continue
        tied = tuple(ids[j] for j in group) if len(group) > 1 else ()
        if len(group) > 1 and tie_break.method is TieBreakMethod.REFUSE:
            fitting = [j for j in group if costs[j] <= remaining]
            together = sum(costs[j] for j in fitting)
            if skip:
                if together > remaining:
                    raise UnresolvedTie([ids[j] for j in fitting])
            elif fitting and sum(costs[j] for j in group) > remaining:
                raise UnresolvedTie([ids[j] for j in group])
        for j in group:
            if stopped:
                pass_over(j, PassReason.STOPPED, remaining)
            elif costs[j] <= remaining:
                remaining -= costs[j]
                rounds.append(
                    Round(
                        number=first_round + len(rounds),
                        project_id=ids[j],
                        cost=costs[j],
                        supporters=prep.supporters[j],
                        score=prep.score[j],
                        phase=phase,
                        tied_with=tuple(t for t in tied if t != ids[j]),
                    )
                )
            else:
                pass_over(j, PassReason.DID_NOT_FIT, remaining)
                if not skip:
                    stopped = True
    for j in below:
        pass_over(j, PassReason.BELOW_THRESHOLD, None)
    return rounds, passed, remaining


def is_exhaustive(costs: tuple[Amount, ...], selected: set[int], remaining: Amount) -> bool:
    return all(costs[j] > remaining for j in range(len(costs)) if j not in selected)


@gc_paused
def greedy(
    election: Election,
    *,
    utility: str = "cost",
    tie_break: TieBreak = TieBreak(),
    skip: bool = True,
    threshold: Amount = 0,
    scores: tuple[int, ...] | None = None,
) -> Outcome:
    prep = prepare(election, utility, scores)
    rounds, passed, remaining = run_greedy(
        prep, tie_break, remaining=election.budget, exclude=set(), skip=skip, threshold=threshold
    )
    selected = tuple(r.project_id for r in rounds)
    index = {pid: i for i, pid in enumerate(prep.ids)}
    options: list[tuple[str, object]] = [("skip", skip), ("threshold", threshold)]
    if scores is not None:
        options.append(("scores", tuple(scores)))
    return Outcome(
        rule="greedy",
        utility=utility,
        completion="none",
        tie_break=tie_break,
        budget=election.budget,
        selected=selected,
        total_cost=election.budget - remaining,
        exhaustive=is_exhaustive(prep.costs, {index[p] for p in selected}, remaining),
        rounds=tuple(rounds),
        passed_over=tuple(passed),
        options=tuple(options),
    )
