"""What the results page reads from a result: rounds, why not funded, Equal Shares details, fairness against
greedy by number of supporters, participation. Small elections whose numbers can be checked by hand."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from pb.services import results
from pb.services.ballot_rules import RawChoices
from pb.services.cycles import DistrictInput
from tests.factories import cast_votes, make_voting_cycle

# make_voting_cycle's projects: A crisis team $40,000 (North), B youth evenings $30,000 (South),
# C street lighting $50,000 (city-wide), D justice circle $20,000 (North).


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def now():
    from pb.db import utcnow

    return utcnow().replace(second=0, microsecond=0)


def publish(session, staff, cycle):
    after = cycle.voting_end_at + timedelta(hours=1)
    result = results.publish_result(session, staff, results.draft_result(session, staff, cycle, after), after)
    session.commit()
    return results.result_report(session, cycle, result)


def by_title(count):
    return {line.project.title_en: line for line in count.projects}


def equal_shares_vote(session, staff, now, completion: str):
    """$100,000, 4 voters, a share of $25,000 each: {A, C}, {C}, {A, D}, {B}.

    A and C both have 2 supporters; the tie-break takes the cheaper A, paid $20,000 by each of its two
    supporters. Then C's supporters hold $5,000 + $25,000 = $30,000 of its $50,000 (60 %), D's $5,000 of
    $20,000 (25 %), B's $25,000 of $30,000 (83.3 %): none can be paid for.
    """
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now, ballot_type="approval", tally_rule="mes", tally_completion=completion
    )
    a, b, c, d = projects
    cast_votes(session, staff, cycle, [(a, c), (c,), (a, d)], during)
    cast_votes(session, staff, cycle, [(b,)], during, district=1, prefix="south")
    return publish(session, staff, cycle)


def test_equal_shares_effective_support_and_where_the_money_went(session, staff, now):
    report = equal_shares_vote(session, staff, now, "none")
    assert report.recounted and report.rule == "mes"
    [count] = report.counts
    lines = by_title(count)
    assert [line.project.title_en for line in count.funded] == ["Crisis response team"]
    assert count.spent_cents == 40_000_00 and count.left_cents == 60_000_00
    crisis, lighting, circle, youth = (
        lines["Crisis response team"], lines["Street lighting"], lines["Restorative justice circle"],
        lines["Youth drop-in evenings"],
    )
    assert crisis.funded and crisis.round == 1 and crisis.equal_shares.effective_support == 100
    assert lighting.equal_shares.effective_support == 60 and lighting.reason == "not_affordable"
    assert circle.equal_shares.effective_support == 25
    assert youth.equal_shares.effective_support == Fraction(250, 3)
    assert [(f.project.title_en, f.cents) for f in lighting.equal_shares.money_went] == [("Crisis response team", 20_000_00)]
    assert [(f.project.title_en, f.cents) for f in circle.equal_shares.money_went] == [("Crisis response team", 20_000_00)]
    assert youth.equal_shares.money_went == () and youth.equal_shares.unspent_cents == 25_000_00
    assert [(f.project.title_en, f.cents) for f in crisis.equal_shares.money_went] == [("Crisis response team", 40_000_00)]
    assert count.equal_shares.first_share_cents == 25_000_00 == count.equal_shares.share_cents
    assert count.equal_shares.completion_projects == ()
    # Fairness: Equal Shares gives 2 of 4 voters a project they chose; greedy by supporters funds A and C
    # ($90,000), which 3 of 4 voters chose.
    [row] = report.fairness.rows
    assert (row.voters, row.satisfied, row.spent_cents) == (4, 2, 40_000_00)
    assert (row.greedy_satisfied, row.greedy_spent_cents) == (3, 90_000_00)
    assert row.share(row.satisfied, row.voters) == 50


def test_equal_shares_with_a_greedy_completion(session, staff, now):
    report = equal_shares_vote(session, staff, now, "greedy")
    [count] = report.counts
    lines = by_title(count)
    lighting = lines["Street lighting"]
    assert lighting.funded and lighting.completion and lighting.round == 2
    assert lighting.equal_shares.effective_support == 60  # what its supporters could pay after the main phase
    assert [p.title_en for p in count.equal_shares.completion_projects] == ["Street lighting"]
    assert count.equal_shares.completion_cents == 50_000_00
    assert report.fairness.rows[0].satisfied == 3


def test_points_with_district_budgets_against_greedy_by_supporters(session, staff, now):
    """Cumulative ballots counted by total points, North $60,000 and South $40,000.

    North: {A: 10}, {C: 10}, {C: 10}, {D: 1, A: 9}: points A 19, C 20, D 1; supporters A 2, C 2, D 1.
    By points C ($50,000) is funded and nothing else fits; by supporters the tie of A and C goes to the
    cheaper A, then D fits: $60,000. Both satisfy 2 of 4 voters. South: {B: 10}, {C: 5, B: 5}: B either way.
    """
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now, ballot_type="cumulative", points_per_voter=10, tally_utility="score-cost",
        budget_cents=None, districts=[DistrictInput("North", "Nord", 60_000_00), DistrictInput("South", "Sud", 40_000_00)],
    )
    a, b, c, d = (str(p.id) for p in projects)
    north = [{a: "10"}, {c: "10"}, {c: "10"}, {d: "1", a: "9"}]
    south = [{b: "10"}, {c: "5", b: "5"}]
    cast_votes(session, staff, cycle, [RawChoices(points=p) for p in north], during, district=0, prefix="north")
    cast_votes(session, staff, cycle, [RawChoices(points=p) for p in south], during, district=1, prefix="south")
    report = publish(session, staff, cycle)
    assert report.score_based
    north_count, south_count = report.counts
    assert north_count.district.name_en == "North" and north_count.budget_cents == 60_000_00
    assert [line.project.title_en for line in north_count.funded] == ["Street lighting"]
    lines = by_title(north_count)
    assert (lines["Street lighting"].score, lines["Street lighting"].supporters) == (20, 2)
    assert lines["Crisis response team"].reason == "did_not_fit" and lines["Crisis response team"].budget_left_cents == 10_000_00
    assert [line.project.title_en for line in south_count.funded] == ["Youth drop-in evenings"]
    north_row, south_row = report.fairness.rows
    assert (north_row.satisfied, north_row.spent_cents, north_row.greedy_satisfied, north_row.greedy_spent_cents) == (
        2, 50_000_00, 2, 60_000_00,
    )
    assert (south_row.satisfied, south_row.greedy_satisfied, south_row.greedy_spent_cents) == (2, 2, 30_000_00)
    total = report.fairness.total
    assert (total.voters, total.satisfied, total.spent_cents, total.greedy_spent_cents) == (6, 4, 80_000_00, 90_000_00)
    assert [(row.district.name_en, row.online, row.paper) for row in results.participation_counts(session, cycle)] == [
        ("North", 4, 0), ("South", 2, 0),
    ]


def test_ranked_ballots_and_a_project_nobody_chose(session, staff, now):
    """Ranked ballots of 2, Borda (first 1 point, second 0), greedy by score: {C, A}, {C, D}, {A, C}.

    Scores: C 2, A 1, D 0; C ($50,000) then A ($40,000) fit in $100,000; D does not fit in the $10,000
    left; B was ranked by nobody. Greedy by supporters: C (3), A (2): the same, every voter satisfied.
    """
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now, ballot_type="ranked", ranking_length=2, tally_utility="score-cost"
    )
    a, b, c, d = (str(p.id) for p in projects)
    rankings = [{c: "1", a: "2"}, {c: "1", d: "2"}, {a: "1", c: "2"}]
    cast_votes(session, staff, cycle, [RawChoices(ranks=r) for r in rankings], during)
    report = publish(session, staff, cycle)
    [count] = report.counts
    assert [line.project.title_en for line in count.funded] == ["Street lighting", "Crisis response team"]
    lines = by_title(count)
    assert lines["Youth drop-in evenings"].reason == "no_support"
    assert lines["Restorative justice circle"].reason == "did_not_fit"
    [row] = report.fairness.rows
    assert (row.satisfied, row.greedy_satisfied, row.spent_cents, row.greedy_spent_cents) == (3, 3, 90_000_00, 90_000_00)


def test_the_sentences(app):
    from pb import explain

    with app.test_request_context(headers={"Accept-Language": "en-CA"}):
        assert explain.round_sentence(3, "Youth drop-in centre", 1234, 40_000_00, 85_000_00, "CAD") == (
            "Round 3: Youth drop-in centre, 1,234 supporters, $40,000.00, funded; $85,000.00 left."
        )
        assert explain.not_funded_reason("did_not_fit", 10_000_00, "CAD") == (
            "It did not fit in what was left of the budget ($10,000.00)."
        )
        assert "spent on projects they preferred" in explain.not_funded_reason("not_affordable", None, "CAD")
    with app.test_request_context(headers={"Accept-Language": "fr-CA"}):
        sentence = explain.round_sentence(3, "Centre jeunesse", 1234, 40_000_00, 85_000_00, "CAD")
        assert sentence == (
            "Tour 3\u00a0: Centre jeunesse, 1\u00a0234 appuis, 40\u00a0000,00\u00a0$, financé\u00a0; il reste 85\u00a0000,00\u00a0$."
        )


def test_phragmen_reads_like_the_others(session, staff, now):
    """Phragmén on {A, C}, {C}, {A, D} in North and {B} in South: the report follows the stored outcome, with no
    Equal Shares details, and counts satisfied voters from the ballots."""
    import json

    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type="approval", tally_rule="phragmen")
    a, b, c, d = projects
    ballots = [(a, c), (c,), (a, d), (b,)]
    cast_votes(session, staff, cycle, ballots[:3], during)
    cast_votes(session, staff, cycle, ballots[3:], during, district=1, prefix="south")
    report = publish(session, staff, cycle)
    [count] = report.counts
    [stored] = json.loads(report.result.outcome)["counts"]
    assert [str(line.project.id) for line in count.funded] == stored["outcome"]["selected"]
    assert count.equal_shares is None and all(line.equal_shares is None for line in count.projects)
    funded = {line.project.id for line in count.funded}
    [row] = report.fairness.rows
    assert row.satisfied == sum(1 for ballot in ballots if funded & {p.id for p in ballot})
    assert row.spent_cents == sum(line.cost_cents for line in count.funded)
