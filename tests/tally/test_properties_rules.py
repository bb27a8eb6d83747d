"""Properties of the rules on small random elections (hypothesis).

Every rule and utility: the outcome fits the budget, is deterministic, does not depend on the
order of the voters, and commutes with relabelling the projects (when the tie-break follows the
relabelling); each rule equals the slow reference implementation in ``reference_impl``; greedy
(skip) is exhaustive and monotone in support; every MES certificate verifies; Add1 equals
stepping the share one unit at a time; MES with approval ballots and the cost utility satisfies
EJR up to one project.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pb.tally import (
    ApprovalBallot,
    BallotKind,
    CumulativeBallot,
    Election,
    Project,
    RankedBallot,
    TieBreak,
    Vote,
    tally,
)
from pb.tally.certificate import verify_certificate
from pb.tally.rules.mes import MESContext, _add1
from pb.tally.utility import prepare
from tests.strategies import approval_elections, elections
from tests.tally import reference_impl as ref

UTILITIES = ["cost", "cardinality", "score", "score-cost"]
TIE_BREAKS = [TieBreak.parse("id"), TieBreak.parse("cost", 7)]
RULE_CALLS = [
    ("greedy", {}),
    ("greedy", {"skip": False}),
    ("mes", {}),
    ("mes", {"completion": "greedy"}),
    ("mes", {"completion": "add1"}),
    ("mes", {"completion": "add1-greedy"}),
    ("phragmen", {}),
]
# No max_examples here: the hypothesis profile (dev or ci, see conftest.py) decides how many.
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def calls(e: Election):
    for rule, kw in RULE_CALLS:
        if rule == "phragmen" and e.kind is not BallotKind.APPROVAL:
            continue
        for utility in UTILITIES if rule != "phragmen" else ["cost"]:
            yield rule, {"utility": utility, **kw}


def relabel(e: Election, mapping: dict[str, str]) -> Election:
    def ballot(b):
        if isinstance(b, ApprovalBallot):
            return ApprovalBallot(frozenset(mapping[p] for p in b.projects))
        if isinstance(b, RankedBallot):
            return RankedBallot(tuple(mapping[p] for p in b.ranking))
        return CumulativeBallot(tuple((mapping[p], x) for p, x in b.points))

    projects = tuple(Project(mapping[p.id], p.cost, p.name) for p in e.projects)
    votes = tuple(Vote(v.voter_id, ballot(v.ballot)) for v in e.votes)
    return Election(e.budget, projects, votes, e.kind, e.limits, e.meta)


@FAST
@given(elections(fractions=True), st.sampled_from(TIE_BREAKS))
def test_feasible_deterministic_and_voter_order_invariant(e, tb):
    reversed_e = Election(e.budget, e.projects, tuple(reversed(e.votes)), e.kind, e.limits, e.meta)
    for rule, kw in calls(e):
        if "add1" in kw.get("completion", "") and e.budget > 60:
            continue
        a = tally(e, rule, tie_break=tb, **kw)
        assert a.total_cost <= e.budget
        assert a.total_cost == sum(p.cost for p in e.projects if p.id in a.selected)
        assert len(set(a.selected)) == len(a.selected)
        assert tally(e, rule, tie_break=tb, **kw) == a
        assert tally(reversed_e, rule, tie_break=tb, **kw).selected == a.selected
        if rule == "mes":
            assert verify_certificate(e, a) == []


@FAST
@given(elections(), st.randoms(use_true_random=False))
def test_relabelling_commutes(e, rnd):
    """The ``id`` tie-break relabelled too: new ids that sort like the old ones."""
    ids = sorted(p.id for p in e.projects)
    fresh = sorted(f"p{rnd.randrange(10**6):06d}" for _ in ids)
    assume(len(set(fresh)) == len(fresh))
    mapping = dict(zip(ids, fresh, strict=True))
    e2 = relabel(e, mapping)
    tb = TieBreak.parse("id")
    for rule, kw in calls(e):
        if "add1" in kw.get("completion", "") and e.budget > 60:
            continue
        a = tally(e, rule, tie_break=tb, **kw)
        b = tally(e2, rule, tie_break=tb, **kw)
        assert b.selected == tuple(mapping[p] for p in a.selected)


@FAST
@given(
    elections(fractions=True),
    st.sampled_from(UTILITIES),
    st.sampled_from(TIE_BREAKS),
    st.booleans(),
    st.integers(0, 3),
)
def test_greedy_matches_reference(e, utility, tb, skip, threshold):
    out = tally(e, "greedy", utility=utility, tie_break=tb, skip=skip, threshold=threshold)
    assert list(out.selected) == ref.greedy(e, utility, tb, skip, threshold)


@FAST
@given(elections(fractions=True), st.sampled_from(UTILITIES), st.sampled_from(TIE_BREAKS))
def test_mes_matches_reference(e, utility, tb):
    out = tally(e, "mes", utility=utility, tie_break=tb)
    assert list(out.selected) == ref.mes(e, utility, tb)
    assert verify_certificate(e, out) == []
    done = tally(e, "mes", utility=utility, tie_break=tb, completion="greedy")
    assert list(done.selected) == ref.greedy(e, "cost", tb, start=ref.mes(e, utility, tb))


@FAST
@given(elections(kind=BallotKind.RANKED), st.lists(st.integers(0, 5), max_size=4))
def test_score_vectors_match_reference(e, vector):
    vector = tuple(sorted(vector, reverse=True))
    tb = TieBreak.parse("id")
    for utility in ("score", "score-cost"):
        g = tally(e, "greedy", utility=utility, scores=vector, tie_break=tb)
        assert list(g.selected) == ref.greedy(e, utility, tb, scores=vector)
        m = tally(e, "mes", utility=utility, scores=vector, tie_break=tb)
        assert list(m.selected) == ref.mes(e, utility, tb, scores=vector)


@FAST
@given(approval_elections(), st.sampled_from(TIE_BREAKS))
def test_phragmen_matches_reference(e, tb):
    assert list(tally(e, "phragmen", tie_break=tb).selected) == ref.phragmen(e, tb)


@FAST
@given(
    elections(min_voters=1), st.sampled_from(["cost", "cardinality", "score"]), st.sampled_from(TIE_BREAKS)
)
def test_add1_is_stepping_one_unit_at_a_time(e, utility, tb):
    assume(e.budget <= 30)
    ctx = MESContext(prepare(e, utility), tb)
    fast, k_fast = _add1(ctx)
    slow, k_slow = ref.add1_naive(ctx)
    assert k_fast == k_slow
    assert (fast.order if fast else None) == (slow.order if slow else None)
    out = tally(e, "mes", utility=utility, tie_break=tb, completion="add1")
    expected = ref.mes_add1(e, utility, tb)
    assert sorted(out.selected) == sorted(expected or ref.mes(e, utility, tb, share=0))
    assert out.total_cost <= e.budget
    assert verify_certificate(e, out) == []


@FAST
@given(elections(), st.sampled_from(UTILITIES))
def test_greedy_skip_is_exhaustive(e, utility):
    out = tally(e, "greedy", utility=utility)
    left = e.budget - out.total_cost
    assert all(p.cost > left for p in e.projects if p.id not in out.selected)
    assert out.exhaustive


@FAST
@given(elections(min_voters=1), st.sampled_from(UTILITIES), st.data())
def test_greedy_monotone_in_support(e, utility, data):
    """A funded project that one more voter puts on their ballot stays funded."""
    out = tally(e, "greedy", utility=utility, tie_break=TieBreak.parse("id"))
    assume(out.selected)
    pid = data.draw(st.sampled_from(out.selected))
    i = data.draw(st.integers(0, len(e.votes) - 1))
    b = e.votes[i].ballot
    assume(pid not in b.project_ids())
    if isinstance(b, ApprovalBallot):
        nb = ApprovalBallot(b.projects | {pid})
    elif isinstance(b, RankedBallot):
        nb = RankedBallot((pid, *b.ranking))  # first place: every other score rises only for pid
        if utility in ("score", "score-cost"):
            assume(False)  # Borda: lengthening a ranking raises the other projects' scores too
    else:
        nb = CumulativeBallot(((pid, 1), *b.points))
    votes = list(e.votes)
    votes[i] = Vote(e.votes[i].voter_id, nb)
    e2 = Election(e.budget, e.projects, tuple(votes), e.kind, e.limits, e.meta)
    assert pid in tally(e2, "greedy", utility=utility, tie_break=TieBreak.parse("id")).selected


def _ejr_up_to_one_violation(e: Election, selected: tuple[str, ...]) -> str | None:
    """EJR up to one project for the cost utility (Peters, Pierczyński, Skowron 2021).

    A group S of voters is T-cohesive (T a set of projects every voter in S approves) when
    |S| / n * budget >= cost(T). EJR up to one: for every T-cohesive S some voter i in S has
    u_i(W) + u_i(p) > u_i(T) for some p in T \\ W, or u_i(W) >= u_i(T); with the cost utility
    u_i(X) is the cost of the projects of X that i approves. (Checked by brute force.)
    """
    n = len(e.votes)
    cost = {p.id: p.cost for p in e.projects}
    W = set(selected)
    ballots = [v.ballot.project_ids() for v in e.votes]
    ids = [p.id for p in e.projects]
    for size in range(1, len(ids) + 1):
        for T in combinations(ids, size):
            T = set(T)
            S = [i for i in range(n) if ballots[i] >= T]
            if not S or Fraction(len(S), n) * e.budget < sum(cost[p] for p in T):
                continue
            uT = sum(cost[p] for p in T)
            ok = False
            for i in S:
                uW = sum(cost[p] for p in W if p in ballots[i])
                if uW >= uT or any(uW + cost[p] > uT for p in T - W):
                    ok = True
                    break
            if not ok:
                return f"group {S} cohesive for {sorted(T)} but under-represented"
    return None


@settings(deadline=None)
@given(approval_elections(min_voters=1, max_voters=8))
def test_mes_cost_satisfies_ejr_up_to_one(e):
    assume(len(e.projects) <= 6)
    out = tally(e, "mes", utility="cost", tie_break=TieBreak.parse("id"))
    assert _ejr_up_to_one_violation(e, out.selected) is None
