"""Counting a cycle from its counted ballots (``results.tally_cycle``), with the configuration voting froze."""

from __future__ import annotations

import pytest

from pb.services import eligibility, results, voting
from pb.services.ballot_rules import RawChoices
from pb.services.cycles import DistrictInput
from tests.factories import make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


def cast(session, staff, cycle, during, district: int, *chosen) -> None:
    code = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[district].id, "", during).codes[0]
    voter = eligibility.code_voter(session, cycle, code)
    raw = RawChoices(selected=tuple(str(project.id) for project in chosen))
    voting.cast_ballot(session, cycle, voter, raw, voting.new_nonce(), during)


def test_one_budget_is_one_election_of_the_counted_ballots(session, staff, now):
    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type="knapsack")
    cast(session, staff, cycle, during, 0, projects[0], projects[3])
    cast(session, staff, cycle, during, 1, projects[1], projects[2])
    cast(session, staff, cycle, during, 0, projects[3])
    code = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during).codes[0]
    voter = eligibility.code_voter(session, cycle, code)
    voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[0].id),)), voting.new_nonce(), during)
    voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[2].id),)), voting.new_nonce(), during)
    session.commit()
    [count] = results.tally_cycle(session, cycle)
    assert count.district_id is None and count.election.budget == 100_000_00
    assert len(count.election.votes) == 4  # the replaced ballot is not counted
    assert {project.id for project in count.election.projects} == {str(project.id) for project in projects}
    # The two projects with two counted ballots each come first (the replaced ballot's project has none).
    assert set(count.outcome.selected[:2]) == {str(projects[3].id), str(projects[2].id)}
    assert count.outcome.total_cost <= count.election.budget


def test_district_budgets_are_counted_apart(session, staff, now):
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now, slug="districts", ballot_type="approval", budget_cents=None,
        districts=[DistrictInput("North", "Nord", budget_cents=60_000_00), DistrictInput("South", "Sud", budget_cents=50_000_00)],
    )
    cast(session, staff, cycle, during, 0, projects[0], projects[2])
    cast(session, staff, cycle, during, 1, projects[1])
    session.commit()
    counts = {count.district_id: count for count in results.tally_cycle(session, cycle)}
    north, south = (counts[district.id] for district in cycle.districts)
    assert north.election.budget == 60_000_00 and len(north.election.votes) == 1
    assert {p.id for p in north.election.projects} == {str(projects[i].id) for i in (0, 2, 3)}
    assert {p.id for p in south.election.projects} == {str(projects[i].id) for i in (1, 2)}
    assert set(south.outcome.selected) == {str(projects[1].id)}
