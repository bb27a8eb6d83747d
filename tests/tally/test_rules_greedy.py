"""Greedy and the tally() entry point on hand-made elections."""

from __future__ import annotations

import pytest

from pb.tally import RULES, ApprovalBallot, Election, PassReason, RankedBallot, TieBreak, UnresolvedTie, tally

A = ApprovalBallot


def election(budget, costs, ballots):
    return Election.build(budget, costs, [A(frozenset(b)) for b in ballots])


def test_fund_by_supporters_with_skip_and_no_skip():
    e = election(10, {"a": 6, "b": 5, "c": 4}, ["abc", "ab", "a", "b", "bc"])
    assert tally(e, "greedy").selected == ("b", "c")  # b (4 votes) first, then a (3) does not fit
    no_skip = tally(e, "greedy", skip=False)
    assert no_skip.selected == ("b",)
    assert [(p.project_id, p.reason) for p in no_skip.passed_over] == [
        ("a", PassReason.DID_NOT_FIT),
        ("c", PassReason.STOPPED),
    ]


def test_threshold_and_zero_cost():
    e = election(10, {"a": 6, "b": 0, "z": 1}, ["a", "ab", "a"])
    out = tally(e, "greedy", utility="cardinality", threshold=1)
    assert out.selected == ("b", "a")  # zero cost first (infinite density)
    assert {p.project_id: p.reason for p in out.passed_over} == {"z": PassReason.BELOW_THRESHOLD}
    # pabutools funds projects without utility last, if they fit (cost utility: b is worth 0)
    assert tally(e, "greedy", utility="cardinality").selected == ("b", "a", "z")


def test_tie_breaks():
    e = election(5, {"10": 5, "9": 4}, [["10"], ["9"]])
    assert tally(e, "greedy", tie_break=TieBreak.parse("id")).selected == ("10",)  # "10" < "9"
    assert tally(e, "greedy", tie_break=TieBreak.parse("cost")).selected == ("9",)  # cheaper
    with pytest.raises(UnresolvedTie) as info:
        tally(e, "greedy", tie_break=TieBreak.parse("refuse"))
    assert info.value.project_ids == ("10", "9")
    roomy = election(10, {"10": 5, "9": 4}, [["10"], ["9"]])
    assert set(tally(roomy, "greedy", tie_break=TieBreak.parse("refuse")).selected) == {"10", "9"}


def test_invalid_combinations():
    ranked = Election.build(5, {"a": 1}, [RankedBallot(("a",))])
    with pytest.raises(ValueError, match="does not accept ranked"):
        tally(ranked, "phragmen")
    with pytest.raises(ValueError, match="unknown rule"):
        tally(ranked, "borda")
    with pytest.raises(ValueError, match="unknown utility"):
        tally(ranked, "greedy", utility="joy")
    with pytest.raises(ValueError, match="takes no completion"):
        tally(ranked, "greedy", completion="add1")
    with pytest.raises(ValueError, match="no skip option"):
        tally(ranked, "mes", skip=False)
    with pytest.raises(ValueError, match="ranked ballots only"):
        tally(election(5, {"a": 1}, ["a"]), "greedy", utility="score", scores=(3, 2, 1))


def test_registry_lists_rules():
    assert set(RULES) == {"greedy", "mes", "phragmen"}
    for info in RULES.values():
        assert info.description and info.ballot_kinds


def test_score_vector_positions_beyond_score_zero():
    e = Election.build(
        3, {"a": 1, "b": 1, "c": 1, "d": 1}, [RankedBallot(("a", "b", "c", "d")), RankedBallot(("b", "d"))]
    )
    out = tally(e, "greedy", utility="score-cost", scores=(3, 2, 1), threshold=1)
    assert out.selected == ("b", "a", "d")  # scores b 2+3, a 3, d 0+2, c 1; the budget fits three
