"""The Method of Equal Shares (MES) for additive utilities, with completions.

Definition (as pabutools and equalshares.net compute it). Every voter starts with the same
share ``s`` of the budget (``budget / voters``). A project ``p`` that some voters value
(utility ``u_i(p) > 0``) is *affordable* while those supporters together still hold at least
its cost. Its price ``rho(p)`` is the least ``rho`` with ``sum_i min(b_i, rho * u_i(p)) =
cost(p)``, ``b_i`` being what voter ``i`` has left. Repeatedly, the affordable project with the
least ``rho`` is funded (ties go to the tie-break) and each supporter pays
``min(b_i, rho * u_i(p))``. Counting stops when no project is affordable. Projects of cost 0
that someone values are funded first; projects nobody values are never funded by MES.

Completions: ``greedy`` runs greedy with the cost utility on what is left; ``add1`` is
described in :func:`_add1`; ``add1-greedy`` is Add1 followed by greedy.

Implementation notes (none of them changes the result):

* Money is scaled by ``F = voters * D`` (``D`` the common denominator of the budget and the
  costs) so that the initial share ``budget * D`` is an integer; ``Fraction`` appears only once
  a price has been divided out.
* Voters are handled as groups of identical ballots, and groups as members of *classes*: a
  class is a remaining budget, and paying for a project moves the payers of each class to a
  new class. A project's price is computed from how many of its supporters (per utility) sit
  in each class: counted at C speed, then only the poorest classes are looked at in budget
  order (the price is reached as soon as a class can pay in full).
* Integers only in the hot loops: every budget is an integer over one common denominator
  ``den``, which grows when a price does not divide evenly; budgets are rescaled to a new
  ``den`` lazily, when their class is next looked at. Prices are compared through
  :func:`_key`, whose integer part settles almost every comparison.
* Add1 computes the per-project supporter lists once and re-runs only the counting (see
  :func:`_add1`); the cyclic garbage collector is paused during a count (:mod:`._gc`).
* Lazy evaluation: a project's price can only rise as budgets shrink, so the price computed in
  an earlier round is a lower bound. Projects sit in a heap keyed by that bound; a round
  evaluates projects until the next bound is strictly above the best price found, so every
  project tying for the least price is seen.
"""

from __future__ import annotations

import heapq
from collections import _count_elements  # type: ignore[attr-defined]  # Counter's C helper
from fractions import Fraction
from itertools import compress
from math import gcd, lcm

from pb.tally._gc import gc_paused
from pb.tally.certificate import GroupPayment, PaymentCertificate, ProjectPayments
from pb.tally.election import Amount, Election
from pb.tally.outcome import Outcome, PassedOver, PassReason, Phase, Round
from pb.tally.report import show
from pb.tally.rules.greedy import is_exhaustive, run_greedy
from pb.tally.tiebreak import TieBreak, TieBreakMethod, UnresolvedTie
from pb.tally.utility import Prepared, prepare

COMPLETION_NAMES = ("none", "greedy", "add1", "add1-greedy")


def _denominator(x: Amount) -> int:
    return x.denominator if isinstance(x, Fraction) else 1


def _key(num: Amount, den: Amount) -> tuple[int, Fraction]:
    """A sort key for the number ``num / den`` that compares fast and exactly.

    ``(floor(x * 2**64), x)``: tuples compare their first items (plain integers, in the same
    order as ``x``) and only fall back to the exact ``Fraction`` when those are equal.
    """
    x = Fraction(num, den)
    return (x.numerator << 64) // x.denominator, x


def _norm(x: Amount) -> Amount:
    if isinstance(x, Fraction) and x.denominator == 1:
        return x.numerator
    return x


class _Run:
    __slots__ = ("share", "order", "rho", "payers", "payments", "unaffordable", "certified")

    def __init__(self, share: int):
        self.share = share  # scaled
        self.order: list[int] = []  # selected candidates in order (zero-cost ones excluded)
        self.rho: list[tuple[int, Fraction]] = []  # _key of the scaled price per unit of utility
        self.payers: list[int] = []
        self.payments: list[list[tuple[int, Amount]]] = []  # per selected: (group, real pay per voter)
        self.unaffordable: set[int] = set()
        self.certified = False  # see MESContext.run(reference=...)


_REPEAT = 3  # groups of at most this many voters are counted by repeating them (see MESContext)


class MESContext:
    """Everything about an election that does not depend on the share, computed once."""

    def __init__(self, prep: Prepared, tie_break: TieBreak):
        self.prep = prep
        self.tie_break = tie_break
        n = prep.n_voters
        d = lcm(_denominator(prep.budget), *(_denominator(c) for c in prep.costs))
        self.scale = max(n, 1) * d  # F
        self.step = self.scale  # one currency unit, scaled
        self.share0 = _norm(prep.budget * d)  # budget / n, scaled by F
        m = len(prep.ids)
        self.costs = [_norm(c * self.scale) for c in prep.costs]
        self.pre = [j for j in range(m) if prep.costs[j] == 0 and prep.total_utility[j] > 0]
        self.cand = [j for j in range(m) if prep.costs[j] > 0 and prep.total_utility[j] > 0]
        iscand = [False] * m
        for j in self.cand:
            iscand[j] = True
        self.mult = [g[0] for g in prep.groups]
        # Per project, its distinct positive utilities get small ids ("uid"); per (project, uid)
        # the supporting groups, once each (``groups``), and for counting: ``rep`` lists every
        # small group once per voter (so that ``Counter`` counts voters at C speed) and ``big``
        # holds (group, voters) for the larger groups.
        self.uval: list[list[Amount]] = [[] for _ in range(m)]
        uid_of: list[dict[Amount, int]] = [{} for _ in range(m)]
        groups: list[list[list[int]]] = [[] for _ in range(m)]
        rep: list[list[list[int]]] = [[] for _ in range(m)]
        big: list[list[list[tuple[int, int]]]] = [[] for _ in range(m)]
        agg: list[list[int]] = [[] for _ in range(m)]
        for g, (c, items) in enumerate(prep.groups):
            small = c <= _REPEAT
            for j, _sc, u in items:
                if u > 0 and iscand[j]:
                    uid = uid_of[j].get(u)
                    if uid is None:
                        uid = uid_of[j][u] = len(self.uval[j])
                        self.uval[j].append(u)
                        groups[j].append([])
                        rep[j].append([])
                        big[j].append([])
                        agg[j].append(0)
                    groups[j][uid].append(g)
                    agg[j][uid] += c
                    if small:
                        if c == 1:
                            rep[j][uid].append(g)
                        else:
                            rep[j][uid].extend([g] * c)
                    else:
                        big[j][uid].append((g, c))
        self.groups = groups
        self.rep = rep
        self.big = big
        self.agg = agg
        self.nvot = [sum(a) for a in agg]  # voters who value the project
        self.uniform = [len(self.uval[j]) <= 1 for j in range(m)]
        # Integer utilities per project (MES does not change if a project's utilities are all
        # multiplied by the same positive number): uint = u * ulcm.
        self.ulcm = [lcm(*(_denominator(u) for u in self.uval[j])) if self.uval[j] else 1 for j in range(m)]
        self.uint = [[_norm(u * self.ulcm[j]) for u in self.uval[j]] for j in range(m)]
        self.kmul = [
            [lcm(*self.uint[j]) // u for u in self.uint[j]] if self.uint[j] else [] for j in range(m)
        ]
        self.total_u = [sum(u * c for u, c in zip(self.uval[j], self.agg[j], strict=True)) for j in range(m)]
        ids = prep.ids
        cost_of = dict(zip(ids, prep.costs, strict=True))
        sup_of = dict(zip(ids, prep.supporters, strict=True))
        key = tie_break.sort_key(cost_of.__getitem__, sup_of.__getitem__)
        self.rank = [0] * m
        for r, j in enumerate(sorted(range(m), key=lambda j: key(ids[j]))):
            self.rank[j] = r
        self.pre.sort(key=lambda j: self.rank[j])
        # The heap's first lower bound, cost / total utility (in real utility units).
        self.heap0 = [(_key(self.costs[j], self.total_u[j]), self.rank[j], j) for j in self.cand]
        heapq.heapify(self.heap0)

    # -- one run of MES at a given (scaled) share -------------------------------------------------

    def run(self, share: int, record: bool = False, reference: _Run | None = None) -> _Run:
        """MES with every voter starting from ``share`` (scaled).

        Exact integer arithmetic: every remaining budget is an integer over one common
        denominator ``den``; when a price does not divide evenly, all budgets are multiplied by
        the missing factor. With a ``reference`` run at a smaller share, the run also decides
        whether every share between the two provably gives the same outcome (``certified``);
        see :func:`_add1`.

        Voters with the same remaining budget are interchangeable, so a group of identical
        ballots only records its *class* (an index into the list of budget values ``cb``; class
        0 is "nothing left"). Paying for a project moves the payers of each class to a new class
        (classes are not merged by value: equal budgets in two classes change nothing). A
        project's price is computed from how many of its supporters sit in each class.
        """
        res = _Run(share)
        costs, mult = self.costs, self.mult
        uniform, uint, kmul, ulcm = self.uniform, self.uint, self.kmul, self.ulcm
        refuse = self.tie_break.method is TieBreakMethod.REFUSE
        scale = self.scale
        # Budgets are rescaled lazily: class c's budget is cb[c] / (den at epoch cep[c]), and
        # mul[e] = den / (den at epoch e); ``fresh`` brings classes to the current epoch.
        cb: list[int] = [0, share]  # class id -> budget (times den of its epoch)
        cep: list[int] = [0, 0]
        mul: list[int] = [1]
        ep = 0
        compact_at = 64  # renumber the classes once there are more than this
        den = 1
        heap = self.heap0.copy()
        rep = self.rep.copy()  # pruned per run (broke groups dropped) when it pays
        big = self.big.copy()
        nvot = self.nvot.copy()
        gcls = [1] * len(mult)
        getc = gcls.__getitem__
        certified = reference is not None and share >= reference.share

        def fresh(classes) -> None:
            for cid in list(compress(classes, map(ep.__ne__, map(cep.__getitem__, classes)))):
                cb[cid] *= mul[cep[cid]]
                cep[cid] = ep

        def price(j: int):
            """(rest, util, counts) with price rest/util (utility in integer units), or None.

            ``counts[uid]`` maps a class to the number of supporters (with that utility) in it.
            """
            counts = []
            broke = 0
            for uid, lst in enumerate(rep[j]):
                cnt: dict[int, int] = {}
                _count_elements(cnt, map(getc, lst))
                for g, c in big[j][uid]:
                    k = gcls[g]
                    cnt[k] = cnt.get(k, 0) + c
                broke += cnt.pop(0, 0)
                counts.append(cnt)
            if broke * 2 > nvot[j]:
                rep[j] = [[g for g in lst if gcls[g]] for lst in rep[j]]
                big[j] = [[gc for gc in lst if gcls[gc[0]]] for lst in big[j]]
                nvot[j] -= broke
            rest = costs[j] * den
            for cnt in counts:
                fresh(cnt)
            if uniform[j]:
                cnt = counts[0]
                if not cnt:
                    return None
                u = uint[j][0]
                n = sum(cnt.values())
                cbget = cb.__getitem__
                if min(map(cbget, cnt)) * n >= rest:
                    return rest, u * n, counts
                for cid in sorted(cnt, key=cbget):
                    b = cb[cid]
                    if rest <= b * n:
                        return rest, u * n, counts
                    c = cnt[cid]
                    rest -= b * c
                    n -= c
                return None  # its supporters hold less than its cost
            uv, km = uint[j], kmul[j]
            entries = sorted(
                (cb[cid] * km[uid], cb[cid], uv[uid], c)
                for uid, cnt in enumerate(counts)
                for cid, c in cnt.items()
            )
            util = 0
            for _k, _b, u, c in entries:
                util += u * c
            for _k, b, u, c in entries:
                if rest * u <= b * util:
                    return rest, util, counts
                rest -= b * c
                util -= u * c
            return None

        rnd = 0
        while heap:
            ref_rho = None
            if certified and rnd < len(reference.order):
                ref_rho = reference.rho[rnd]
            best = None
            evaluated: list[tuple[Amount, int, int, tuple]] = []
            while heap:
                bound = best if ref_rho is None or (best is not None and best > ref_rho) else ref_rho
                if bound is not None and heap[0][0] > bound:
                    break
                _lb, r, j = heapq.heappop(heap)
                ru = price(j)
                if ru is None:
                    res.unaffordable.add(j)
                    continue
                rho = _key(ru[0] * ulcm[j], ru[1] * den)  # scaled money per unit of utility
                evaluated.append((rho, r, j, ru))
                if best is None or rho < best:
                    best = rho
            if best is None:
                break
            tied = [e for e in evaluated if e[0] == best]
            if len(tied) > 1 and refuse:
                raise UnresolvedTie([self.prep.ids[e[2]] for e in tied])
            chosen = min(tied, key=lambda e: e[1])
            p = chosen[2]
            if certified:
                # Sandwich: the reference winner's price at the smaller share bounds its price at
                # every share in between from above; each rival's price here bounds its price there
                # from below (heap keys are lower bounds; unaffordable means an infinite price).
                if rnd >= len(reference.order) or p != reference.order[rnd]:
                    certified = False
                else:
                    for e in evaluated:
                        if e is not chosen and (
                            e[0] < ref_rho or (e[0] == ref_rho and (refuse or e[1] < chosen[1]))
                        ):
                            certified = False
                            break
            for e in evaluated:
                if e is not chosen:
                    heapq.heappush(heap, e[:3])
            rest, util, counts = chosen[3]
            # Payment of a rich voter with integer utility u: rest * u / util (times den).
            factor = util // gcd(rest, util)
            if factor > 1:
                den *= factor
                mul[:] = map(factor.__mul__, mul)
                mul.append(1)
                ep += 1
                for cnt in counts:
                    fresh(cnt)
                rest *= factor
            unit = rest // util  # payment per unit of (integer) utility, times den
            payers = 0
            uv = uint[p]
            pays: list[tuple[int, Amount]] = []
            for uid, cnt in enumerate(counts):
                if not cnt:  # every supporter with this utility has nothing left
                    continue
                pay_u = unit * uv[uid]
                rich = _norm(Fraction(pay_u, den * scale)) if record else 0
                payers += sum(cnt.values())
                olds = list(cnt)
                budgets = list(map(cb.__getitem__, olds))
                if min(budgets) > pay_u:
                    # Everyone pays pay_u: each class moves to a new class pay_u lower.
                    base = len(cb)
                    cb.extend(map((-pay_u).__add__, budgets))
                    cep.extend([ep] * len(olds))
                    newcls = dict(zip(olds, range(base, len(cb)), strict=True))
                    newcls[0] = 0
                    amount = dict.fromkeys(olds, rich)
                else:
                    newcls = {0: 0}
                    amount = {}
                    for cid, b in zip(olds, budgets, strict=True):
                        if b > pay_u:
                            newcls[cid] = len(cb)
                            cb.append(b - pay_u)
                            cep.append(ep)
                            if record:
                                amount[cid] = rich
                        else:
                            newcls[cid] = 0
                            if record:
                                amount[cid] = _norm(Fraction(b, den * scale))
                lst = self.groups[p][uid]
                if record:
                    for g in lst:
                        cid = gcls[g]
                        if cid:
                            pays.append((g, amount[cid]))
                            gcls[g] = newcls[cid]
                else:
                    for g in lst:
                        gcls[g] = newcls[gcls[g]]
            if record and len(counts) > 1:
                pays.sort()
            if len(cb) > compact_at:
                # Renumber the classes that still hold voters, so that rescaling stays cheap.
                keep = sorted(set(gcls) | {0})
                renum = [0] * len(cb)
                for new, cid in enumerate(keep):
                    renum[cid] = new
                gcls[:] = map(renum.__getitem__, gcls)
                cb[:] = map(cb.__getitem__, keep)
                cep[:] = map(cep.__getitem__, keep)
                compact_at = 2 * len(cb) + 64
            res.order.append(p)
            res.rho.append(chosen[0])
            res.payers.append(payers)
            res.payments.append(pays)
            rnd += 1
        res.certified = certified and rnd == len(reference.order)
        return res

    def selected_cost(self, run: _Run) -> Amount:
        return sum(self.prep.costs[j] for j in run.order)

    def exhaustive_for_add1(self, run: _Run) -> bool:
        """pabutools' test: no MES candidate (positive cost and utility) left out fits."""
        chosen = set(run.order)
        left = self.prep.budget - self.selected_cost(run)
        return all(self.prep.costs[j] > left for j in self.cand if j not in chosen)


def _add1(ctx: MESContext) -> tuple[_Run | None, int]:
    """Add1: the outcome pabutools computes with ``voter_budget_increment=1``, found fast.

    Definition. Let ``out(k)`` be the MES outcome when each voter's share is raised to
    ``budget/voters + k`` currency units. Add1 takes the least ``k >= 0`` at which ``out(k)``
    costs more than the budget (the answer is then ``out(k-1)``) or is exhaustive (the answer is
    ``out(k)``). ``out`` is not monotone in ``k``, so a binary search for that ``k`` would not be
    equivalent. Instead we skip only shares whose outcome is *proved* equal to a known
    non-terminating outcome.

    Why a skip is sound. Fix shares ``s0 < s1`` whose runs select the same projects in the same
    order. By induction over the rounds, for every share ``s`` in ``[s0, s1]`` that follows the
    same sequence up to round ``r``, every remaining budget at round ``r`` is non-decreasing in
    ``s``: initially the budgets are ``s``; larger budgets make ``sum_i min(b_i, rho * u_i)``
    larger for every ``rho``, so every price ``rho_q(s)`` is non-increasing in ``s`` (and an
    affordable project stays affordable), and what is left after paying, ``max(0, b_i - rho *
    u_i)``, is again non-decreasing. Hence at round ``r`` the winner ``p`` of both runs satisfies
    ``rho_p(s) <= rho_p(s0)`` and every rival ``q`` satisfies ``rho_q(s) >= rho_q(s1) >=`` its
    lazy lower bound at ``s1`` (an unaffordable rival has an infinite price at ``s1``, hence at
    ``s``). If ``rho_p(s0) < rho_q(s1)`` for every rival (``<=`` suffices for rivals that lose
    the tie-break to ``p``; ``<`` always under ``refuse``), ``p`` wins round ``r`` at ``s`` too, and
    if no project is affordable after the last round at ``s1``, none is at ``s``. So
    ``out(s) = out(s0)`` on the whole interval, and every integer step in between would have
    continued (same selection, so neither over budget nor exhaustive). :meth:`MESContext.run`
    checks this "sandwich" condition while running at ``s1`` against the run at ``s0``.

    Search. From the current non-terminating step ``k`` we probe ``k + J`` (``J`` doubling after
    a certified probe, halving after a failed one). A failed probe with ``J = 1`` is just the
    next step of the definition and is judged as such. Every step is therefore either
    evaluated exactly as stepping one unit at a time would, or proved to repeat the previous
    outcome; a long constant stretch costs a logarithmic number of runs.
    """
    k = 0
    current = ctx.run(ctx.share0)
    if ctx.selected_cost(current) > ctx.prep.budget:  # pragma: no cover - MES never overspends
        return None, -1
    if ctx.exhaustive_for_add1(current):
        return current, 0
    jump = 1
    while True:
        probe = ctx.run(ctx.share0 + (k + jump) * ctx.step, reference=current)
        if probe.certified:
            k += jump
            current = probe
            jump *= 2
            continue
        if jump > 1:
            jump //= 2
            continue
        k += 1
        if ctx.selected_cost(probe) > ctx.prep.budget:
            return current, k - 1
        if ctx.exhaustive_for_add1(probe):
            return probe, k
        current = probe


@gc_paused
def mes(
    election: Election,
    *,
    utility: str = "cost",
    completion: str = "none",
    tie_break: TieBreak = TieBreak(),
    scores: tuple[int, ...] | None = None,
) -> Outcome:
    if completion not in COMPLETION_NAMES:
        raise ValueError(f"unknown completion {completion!r}; known: {', '.join(COMPLETION_NAMES)}")
    prep = prepare(election, utility, scores)
    ctx = MESContext(prep, tie_break)
    notes: list[str] = []
    steps = 0
    if completion.startswith("add1"):
        found, steps = _add1(ctx)
        share = found.share if found is not None else ctx.share0 + max(steps, 0) * ctx.step
        run = ctx.run(share, record=True) if found is not None else None
        share_real = Fraction(share, ctx.scale)
        notes.append(
            f"Add1 raised each voter's share from {show(_norm(Fraction(ctx.share0, ctx.scale)))} "
            f"to {show(_norm(share_real))} ({steps} steps of one currency unit)"
        )
    else:
        share = ctx.share0
        run = ctx.run(share, record=True)
    share_real = _norm(Fraction(share, ctx.scale))
    ids, costs = prep.ids, prep.costs
    rounds: list[Round] = []
    cert_projects: list[ProjectPayments] = []
    for j in ctx.pre:
        rounds.append(
            Round(
                len(rounds) + 1,
                ids[j],
                costs[j],
                prep.supporters[j],
                prep.score[j],
                price_per_voter=0,
                payers=0,
                voter_share=share_real,
            )
        )
        cert_projects.append(ProjectPayments(ids[j], costs[j], ()))
    if run is not None:
        for i, j in enumerate(run.order):
            rounds.append(
                Round(
                    len(rounds) + 1,
                    ids[j],
                    costs[j],
                    prep.supporters[j],
                    prep.score[j],
                    price_per_voter=_norm(run.rho[i][1] / ctx.scale),
                    payers=run.payers[i],
                    voter_share=share_real,
                )
            )
            cert_projects.append(
                ProjectPayments(
                    ids[j],
                    costs[j],
                    tuple(GroupPayment(g, a) for g, a in run.payments[i]),
                )
            )
    selected_idx = {prep.ids.index(r.project_id) for r in rounds}
    remaining = election.budget - sum(costs[j] for j in selected_idx)
    passed: list[PassedOver] = []
    if completion in ("greedy", "add1-greedy"):
        cprep = prep if utility == "cost" else prepare(election, "cost", None)
        grounds, passed, remaining = run_greedy(
            cprep,
            tie_break,
            remaining=remaining,
            exclude=selected_idx,
            phase=Phase.COMPLETION,
            first_round=len(rounds) + 1,
        )
        rounds.extend(grounds)
        selected_idx |= {prep.ids.index(r.project_id) for r in grounds}
    else:
        for j in range(len(ids)):
            if j in selected_idx:
                continue
            reason = PassReason.NOT_AFFORDABLE if prep.total_utility[j] > 0 else PassReason.NO_SUPPORT
            passed.append(
                PassedOver(ids[j], reason, costs[j], prep.supporters[j], prep.score[j], budget_left=remaining)
            )
    options: list[tuple[str, object]] = []
    if scores is not None:
        options.append(("scores", tuple(scores)))
    if completion.startswith("add1"):
        options.append(("add1_steps", steps))
    return Outcome(
        rule="mes",
        utility=utility,
        completion=completion,
        tie_break=tie_break,
        budget=election.budget,
        selected=tuple(r.project_id for r in rounds),
        total_cost=election.budget - remaining,
        exhaustive=is_exhaustive(costs, selected_idx, remaining),
        rounds=tuple(rounds),
        passed_over=tuple(passed),
        options=tuple(options),
        certificate=PaymentCertificate(
            share=share_real,
            groups=tuple(zip(prep.ballots, ctx.mult, strict=True)),
            projects=tuple(cert_projects),
        ),
        notes=tuple(notes),
    )
