"""Sequential Phragmén for approval ballots (as pabutools computes it).

Voters earn virtual money continuously at the same rate, starting from a load of 0. A
project is bought at the first moment its supporters together have earned its cost; its
supporters then spend everything they have, so each of their loads becomes that moment:
``load(p) = (cost(p) + sum of the supporters' loads) / number of supporters``. Each round the
project with the least new load is bought (ties go to the tie-break). Counting stops at the
first round whose cheapest-load projects include one that does not fit in what is left of the
budget (pabutools checks every project tied for the least load). Projects that cost more
than the whole budget are left out from the start; projects nobody approves have an infinite
load and come last (bought, in tie-break order, if counting has not stopped).

Utilities play no part: the rule counts approvals.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

from pb.tally._gc import gc_paused
from pb.tally.election import Election
from pb.tally.outcome import Outcome, PassedOver, PassReason, Round
from pb.tally.tiebreak import TieBreak, TieBreakMethod, UnresolvedTie
from pb.tally.utility import prepare


@gc_paused
def phragmen(
    election: Election,
    *,
    utility: str = "cost",
    tie_break: TieBreak = TieBreak(),
    scores: tuple[int, ...] | None = None,
) -> Outcome:
    prep = prepare(election, "cardinality")
    ids, costs, sup = prep.ids, prep.costs, prep.supporters
    m = len(ids)
    cost_of = dict(zip(ids, costs, strict=True))
    sup_of = dict(zip(ids, sup, strict=True))
    key = tie_break.sort_key(cost_of.__getitem__, sup_of.__getitem__)
    rank = {j: r for r, j in enumerate(sorted(range(m), key=lambda j: key(ids[j])))}
    supp_groups: list[list[int]] = [[] for _ in range(m)]
    ballot_of: list[list[int]] = []
    for g, (_mult, items) in enumerate(prep.groups):
        ballot_of.append([j for j, _sc, _u in items])
        for j, _sc, _u in items:
            supp_groups[j].append(g)
    mult = [g[0] for g in prep.groups]
    # Exact integers: every load is an integer over the common denominator ``den``; ``total[j]`` is
    # the sum of the loads of project j's supporters (times den).
    den = 1
    load = [0] * len(mult)
    total = [0] * m
    remaining = election.budget
    alive = [j for j in range(m) if costs[j] <= election.budget]
    too_costly = [j for j in range(m) if costs[j] > election.budget]
    cden = 1
    for c in costs:
        cden = cden * c.denominator // gcd(cden, c.denominator) if isinstance(c, Fraction) else cden
    icost = [int(c * cden) for c in costs]  # costs times cden; loads are in these units
    rounds: list[Round] = []
    passed: list[PassedOver] = []
    stopped_at: list[int] = []
    while alive:
        best = None  # (numerator, denominator) of the least new load, times den; None = infinite
        tied: list[int] = []
        for j in alive:
            new = None if sup[j] == 0 else (total[j] + icost[j] * den, sup[j])
            if not tied:
                best, tied = new, [j]
                continue
            c = _cmp(new, best)
            if c < 0:
                best, tied = new, [j]
            elif c == 0:
                tied.append(j)
        if any(costs[j] > remaining for j in tied):
            stopped_at = [j for j in tied if costs[j] > remaining]
            break
        if len(tied) > 1 and tie_break.method is TieBreakMethod.REFUSE:
            raise UnresolvedTie([ids[j] for j in tied])
        chosen = min(tied, key=rank.__getitem__)
        time = None
        if best is not None:
            num, dv = best
            factor = dv // gcd(num, dv)
            if factor > 1:
                den *= factor
                load = [x * factor for x in load]
                total = [x * factor for x in total]
                num *= factor
            t = num // dv
            for g in supp_groups[chosen]:
                delta = (t - load[g]) * mult[g]
                if delta:
                    for q in ballot_of[g]:
                        total[q] += delta
                load[g] = t
            time = Fraction(t, den * cden)
            time = time.numerator if time.denominator == 1 else time
        remaining -= costs[chosen]
        alive.remove(chosen)
        rounds.append(
            Round(
                len(rounds) + 1,
                ids[chosen],
                costs[chosen],
                sup[chosen],
                prep.score[chosen],
                tied_with=tuple(ids[j] for j in tied if j != chosen),
                load=time,
            )
        )
    for j in alive:
        reason = PassReason.DID_NOT_FIT if j in stopped_at else PassReason.STOPPED
        passed.append(PassedOver(ids[j], reason, costs[j], sup[j], prep.score[j], budget_left=remaining))
    for j in too_costly:
        passed.append(
            PassedOver(
                ids[j], PassReason.DID_NOT_FIT, costs[j], sup[j], prep.score[j], budget_left=election.budget
            )
        )
    selected = tuple(r.project_id for r in rounds)
    chosen_set = {ids.index(p) for p in selected}
    return Outcome(
        rule="phragmen",
        utility="cardinality",
        completion="none",
        tie_break=tie_break,
        budget=election.budget,
        selected=selected,
        total_cost=election.budget - remaining,
        exhaustive=all(costs[j] > remaining for j in range(m) if j not in chosen_set),
        rounds=tuple(rounds),
        passed_over=tuple(passed),
    )


def _cmp(a: tuple[int, int] | None, b: tuple[int, int] | None) -> int:
    """Compare two fractions given as (numerator, positive denominator); None is infinity."""
    if a is None:
        return 0 if b is None else 1
    if b is None:
        return -1
    x, y = a[0] * b[1], b[0] * a[1]
    return (x > y) - (x < y)
