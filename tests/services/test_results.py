"""Voters' choices become pb.tally's ballots and election, and are counted through pb.services.results."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.ballot import BallotConfig, BallotType, Choices
from pb.services.ballot_rules import Option, RawChoices, validate
from pb.services.errors import DomainError
from pb.services.results import tally_ballot, tally_election, tally_rule
from pb.tally import ApprovalBallot, BallotKind, CumulativeBallot, RankedBallot, pabulib

COSTS = {1: 400_00, 2: 300_00, 3: 300_00, 4: 200_00}
OPTIONS = [Option(pid, cost) for pid, cost in COSTS.items()]
BUDGET = 700_00


def test_each_ballot_type_becomes_the_tallys_ballot():
    assert tally_ballot(Choices(BallotType.KNAPSACK, (1, 3))) == ApprovalBallot(frozenset({"1", "3"}))
    assert tally_ballot(Choices(BallotType.K_APPROVAL, ())) == ApprovalBallot(frozenset())
    assert tally_ballot(Choices(BallotType.RANKED, (3, 1))) == RankedBallot(("3", "1"))
    assert tally_ballot(Choices(BallotType.CUMULATIVE, (1, 3), (2, 5))) == CumulativeBallot(
        (("1", 2), ("3", 5))
    )


def test_a_small_knapsack_election_is_counted():
    config = BallotConfig(ballot_type=BallotType.KNAPSACK, tally_rule="greedy", tally_utility="cost")
    forms = [(1, 2), (1, 2), (1,), (2, 3), (1, 3)]
    ballots = [validate(config, BUDGET, OPTIONS, RawChoices(selected=tuple(map(str, f)))) for f in forms]
    election = tally_election(config, BUDGET, COSTS, ballots)
    assert election.kind is BallotKind.APPROVAL and election.voter_count == 5
    outcome = tally_rule(config).count(election)
    # Project 1 has 4 supporters, 2 has 3, 3 has 2: 400 + 300 dollars fill the budget of 700.
    assert set(outcome.selected) == {"1", "2"}


def test_a_small_cumulative_election_is_counted():
    config = BallotConfig(
        ballot_type=BallotType.CUMULATIVE,
        points_per_voter=10,
        max_points_per_project=10,
        tally_rule="greedy",
        tally_utility="score-cost",
    )
    forms = [{"4": "10"}, {"4": "6", "2": "4"}, {"1": "10"}]
    ballots = [validate(config, BUDGET, OPTIONS, RawChoices(points=f)) for f in forms]
    outcome = tally_rule(config).count(tally_election(config, BUDGET, COSTS, ballots))
    assert outcome.selected[0] == "4"


def test_a_ballot_of_another_type_or_project_is_not_counted():
    config = BallotConfig(ballot_type=BallotType.APPROVAL)
    with pytest.raises(ValueError):
        tally_election(config, BUDGET, COSTS, [Choices(BallotType.RANKED, (1,))])
    with pytest.raises(ValueError):
        tally_election(config, BUDGET, COSTS, [Choices(BallotType.APPROVAL, (9,))])


CONFIGS = [
    BallotConfig(ballot_type=BallotType.APPROVAL, min_projects=1, max_projects=3),
    BallotConfig(ballot_type=BallotType.K_APPROVAL, max_projects=2),
    BallotConfig(ballot_type=BallotType.KNAPSACK, min_projects=1, min_budget_share_percent=40),
    BallotConfig(ballot_type=BallotType.RANKED, min_projects=1, ranking_length=2),
    BallotConfig(ballot_type=BallotType.CUMULATIVE, points_per_voter=5, max_points_per_project=3),
]
_values = st.sampled_from(["", "0", "1", "2", "3", "4"])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.ballot_type.value)
@given(
    forms=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["1", "2", "3", "4"]), max_size=4),
            st.dictionaries(st.sampled_from(["1", "2", "3", "4"]), _values),
        ),
        max_size=6,
    )
)
def test_every_valid_ballot_respects_the_tallys_limits(config, forms):
    """A ballot the rules accept is one pb.tally's own reader accepts under the cycle's limits."""
    ballots = []
    for selected, values in forms:
        try:
            ballots.append(validate(config, BUDGET, OPTIONS, RawChoices(tuple(selected), values, values)))
        except DomainError:
            continue
    election = tally_election(config, BUDGET, COSTS, ballots)
    again = pabulib.loads(pabulib.dumps(election), check_limits=True)
    assert [vote.ballot for vote in again.votes] == [vote.ballot for vote in election.votes]
    tally_rule(config).count(election)
