"""Equal Shares and Phragmén on hand-made elections; certificates."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from pb.tally import ApprovalBallot, Election, PassReason, TieBreak, tally
from pb.tally.certificate import GroupPayment, ProjectPayments, verify_certificate


def election(budget, costs, ballots):
    return Election.build(budget, costs, [ApprovalBallot(frozenset(b)) for b in ballots])


# 4 voters, budget 8 (share 2): three like a (cost 6), one likes b (cost 2), two like c (cost 3).
E = election(8, {"a": 6, "b": 2, "c": 3}, [["a", "c"], ["a", "c"], ["a"], ["b"]])


def test_mes_rounds_and_certificate():
    out = tally(E, "mes", tie_break=TieBreak.parse("id"))
    assert out.selected == ("a", "b")
    first = out.rounds[0]
    assert (first.project_id, first.payers, first.price_per_voter) == ("a", 3, Fraction(1, 3))  # 2 each
    assert out.total_cost == 8 and out.exhaustive
    assert [(p.project_id, p.reason) for p in out.passed_over] == [("c", PassReason.NOT_AFFORDABLE)]
    assert verify_certificate(E, out) == []


def test_tampered_certificate_is_rejected():
    out = tally(E, "mes", tie_break=TieBreak.parse("id"))
    cert = out.certificate
    bad_project = dataclasses.replace(cert.projects[0], payments=cert.projects[0].payments[:-1])
    bad = dataclasses.replace(
        out, certificate=dataclasses.replace(cert, projects=(bad_project, *cert.projects[1:]))
    )
    assert any("paid" in p for p in verify_certificate(E, bad))
    b_group = next(i for i, (ballot, _) in enumerate(cert.groups) if ballot.project_ids() == {"b"})
    a_pp = cert.projects[0]
    stolen = ProjectPayments(a_pp.project_id, a_pp.cost, (*a_pp.payments, GroupPayment(b_group, Fraction(1))))
    bad = dataclasses.replace(
        out, certificate=dataclasses.replace(cert, projects=(stolen, *cert.projects[1:]))
    )
    assert any("does not support" in p for p in verify_certificate(E, bad))


def test_completions():
    e = election(10, {"a": 6, "b": 3, "c": 4}, [["a"], ["a"], ["b"], ["c"], ["c"]])
    plain = tally(e, "mes", tie_break=TieBreak.parse("id"))
    assert plain.selected == ("c",)  # share 2: a needs 6 from 2 voters with 2 each
    greedy = tally(e, "mes", completion="greedy", tie_break=TieBreak.parse("id"))
    assert greedy.selected == ("c", "a") and greedy.rounds[1].phase == "completion"
    add1 = tally(e, "mes", completion="add1", tie_break=TieBreak.parse("id"))
    # share 3 would fund a, b and c (13 > 10), so Add1 keeps the outcome at share 2
    assert add1.selected == ("c",) and add1.certificate.share == 2
    assert verify_certificate(e, add1) == []


def test_phragmen_stops_at_first_misfit():
    e = election(5, {"a": 4, "b": 2, "c": 1}, [["a"], ["a"], ["a"], ["b"], ["c"]])
    out = tally(e, "phragmen", tie_break=TieBreak.parse("id"))
    assert out.selected == ("c", "a")  # loads: c 1, a 4/3, b 2 -> b does not fit: stop
    assert [(p.project_id, p.reason) for p in out.passed_over] == [("b", PassReason.DID_NOT_FIT)]
