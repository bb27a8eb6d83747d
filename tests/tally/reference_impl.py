"""Slow, obviously-correct reference implementations of the rules, straight from the definitions.

One voter at a time (no grouping), plain ``Fraction`` arithmetic, simple loops. The tests
compare :mod:`pb.tally` with these on tiny elections. Ties are broken with the same
:class:`~pb.tally.tiebreak.TieBreak` key (``refuse`` is not modelled here).
"""

from __future__ import annotations

from fractions import Fraction

from pb.tally.election import ApprovalBallot, CumulativeBallot, Election, RankedBallot
from pb.tally.tiebreak import TieBreak


def utilities(election: Election, utility: str, scores=None) -> list[dict[str, Fraction]]:
    """For every voter, their utility for each project on their ballot."""
    cost = {p.id: Fraction(p.cost) for p in election.projects}
    out = []
    for vote in election.votes:
        b = vote.ballot
        if isinstance(b, ApprovalBallot):
            base = {pid: Fraction(1) for pid in b.projects}
        elif isinstance(b, CumulativeBallot):
            base = {}
            for pid, pts in b.points:
                base.setdefault(pid, Fraction(pts))
        else:
            assert isinstance(b, RankedBallot)
            ranking = list(dict.fromkeys(b.ranking))
            base = {}
            for pos, pid in enumerate(ranking):
                if scores is None:
                    base[pid] = Fraction(len(ranking) - 1 - pos)
                else:
                    base[pid] = Fraction(scores[pos] if pos < len(scores) else 0)
        if utility == "cost":
            u = {pid: cost[pid] for pid in base}
        elif utility == "cardinality":
            u = {pid: Fraction(1) for pid in base}
        elif utility == "score":
            u = dict(base)
        else:
            u = {pid: base[pid] * cost[pid] for pid in base}
        out.append(u)
    return out


def supporters(election: Election, pid: str) -> int:
    return sum(1 for v in election.votes if pid in v.ballot.project_ids())


def project_score(election: Election, utility: str, pid: str, scores=None) -> Fraction:
    """Supporters for cost/cardinality, total score for score/score-cost."""
    if utility in ("cost", "cardinality"):
        return Fraction(supporters(election, pid))
    return sum((u.get(pid, Fraction(0)) for u in utilities(election, "score", scores)), Fraction(0))


def _tb_key(election: Election, tie_break: TieBreak):
    cost = {p.id: p.cost for p in election.projects}
    return tie_break.sort_key(lambda pid: cost[pid], lambda pid: supporters(election, pid))


def greedy(
    election: Election,
    utility="cost",
    tie_break=TieBreak(),
    skip=True,
    threshold=0,
    scores=None,
    start: list[str] | None = None,
) -> list[str]:
    """Sort by total utility per unit of cost (zero cost with positive utility first, zero utility
    last), then take each project that fits."""
    us = utilities(election, utility, scores)
    cost = {p.id: Fraction(p.cost) for p in election.projects}
    chosen = list(start or [])
    left = Fraction(election.budget) - sum(cost[p] for p in chosen)
    key = _tb_key(election, tie_break)

    def density(pid):
        total = sum(u.get(pid, Fraction(0)) for u in us)
        if total > 0:
            return (2, 0) if cost[pid] == 0 else (1, total / cost[pid])
        return (0, 0)

    rest = [p.id for p in election.projects if p.id not in chosen]
    rest = [p for p in rest if project_score(election, utility, p, scores) >= threshold]
    rest.sort(key=key)
    rest.sort(key=density, reverse=True)
    for pid in rest:
        if cost[pid] <= left:
            chosen.append(pid)
            left -= cost[pid]
        elif not skip:
            break
    return chosen


def mes(election: Election, utility="cost", tie_break=TieBreak(), scores=None, share=None) -> list[str]:
    """Equal Shares, voter by voter. The price of a project is found by walking up the
    piecewise-linear function f(rho) = sum_i min(b_i, rho * u_i) over its breakpoints."""
    us = utilities(election, utility, scores)
    n = len(us)
    cost = {p.id: Fraction(p.cost) for p in election.projects}
    if share is None:
        share = Fraction(election.budget) / n if n else Fraction(0)
    budget = [Fraction(share)] * n
    key = _tb_key(election, tie_break)
    total = {pid: sum((u.get(pid, Fraction(0)) for u in us), Fraction(0)) for pid in cost}
    chosen = sorted((pid for pid in cost if cost[pid] == 0 and total[pid] > 0), key=key)
    candidates = [pid for pid in cost if cost[pid] > 0 and total[pid] > 0]

    def price(pid):
        supp = [i for i in range(n) if us[i].get(pid, 0) > 0]
        if sum(budget[i] for i in supp) < cost[pid]:
            return None

        def f(rho):
            return sum(min(budget[i], rho * us[i][pid]) for i in supp)

        points = sorted({budget[i] / us[i][pid] for i in supp} | {Fraction(0)})
        for lo, hi in zip(points, points[1:], strict=False):
            if f(hi) >= cost[pid]:
                # f is linear on [lo, hi]: slope = utilities of voters not yet capped at lo
                slope = sum(us[i][pid] for i in supp if budget[i] > lo * us[i][pid])
                return lo + (cost[pid] - f(lo)) / slope
        raise AssertionError

    while True:
        prices = {pid: price(pid) for pid in candidates if pid not in chosen}
        prices = {pid: r for pid, r in prices.items() if r is not None}
        if not prices:
            return chosen
        best = min(prices.values())
        pid = min((p for p, r in prices.items() if r == best), key=key)
        for i in range(n):
            if us[i].get(pid, 0) > 0:
                budget[i] -= min(budget[i], best * us[i][pid])
        chosen.append(pid)


def mes_add1(election: Election, utility="cost", tie_break=TieBreak(), scores=None) -> list[str]:
    """Raise the share by one unit at a time: stop before the first outcome over budget, or at
    the first exhaustive one (exhaustive among projects with positive cost and utility)."""
    n = election.voter_count
    cost = {p.id: Fraction(p.cost) for p in election.projects}
    us = utilities(election, utility, scores)
    total = {pid: sum((u.get(pid, Fraction(0)) for u in us), Fraction(0)) for pid in cost}
    cand = [pid for pid in cost if cost[pid] > 0 and total[pid] > 0]
    share = Fraction(election.budget) / n
    previous = None
    while True:
        out = mes(election, utility, tie_break, scores, share)
        spent = sum(cost[p] for p in out)
        if spent > election.budget:
            return previous
        if all(spent + cost[p] > election.budget for p in cand if p not in out):
            return out
        previous = out
        share += 1


def phragmen(election: Election, tie_break=TieBreak()) -> list[str]:
    """Sequential Phragmén, voter by voter (pabutools: stop when a least-load project does not fit)."""
    cost = {p.id: Fraction(p.cost) for p in election.projects}
    ballots = [v.ballot.project_ids() for v in election.votes]
    load = [Fraction(0)] * len(ballots)
    key = _tb_key(election, tie_break)
    left = Fraction(election.budget)
    rest = [pid for pid in cost if cost[pid] <= election.budget]
    chosen = []
    while rest:
        new = {}
        for pid in rest:
            supp = [i for i, b in enumerate(ballots) if pid in b]
            new[pid] = (cost[pid] + sum(load[i] for i in supp)) / len(supp) if supp else None
        finite = [x for x in new.values() if x is not None]
        best = min(finite) if finite else None
        tied = [pid for pid in rest if new[pid] == best]
        if any(cost[pid] > left for pid in tied):
            return chosen
        pid = min(tied, key=key)
        for i, b in enumerate(ballots):
            if pid in b and best is not None:
                load[i] = best
        chosen.append(pid)
        left -= cost[pid]
        rest.remove(pid)
    return chosen


def add1_naive(ctx):
    """Add1 by stepping one currency unit at a time, straight from the definition.

    ``ctx`` is a :class:`pb.tally.rules.mes.MESContext`; returns ``(run, k)`` like
    :func:`pb.tally.rules.mes._add1`, whose skipping search it checks.
    """
    k = 0
    previous = None
    while True:
        run = ctx.run(ctx.share0 + k * ctx.step)
        if ctx.selected_cost(run) > ctx.prep.budget:
            return previous, k - 1
        if ctx.exhaustive_for_add1(run):
            return run, k
        previous = run
        k += 1
