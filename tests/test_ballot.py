"""The ballot configuration value: its canonical JSON form and its conversion to pb.tally's objects."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.ballot import FIELDS, BallotConfig, BallotType, Choices
from pb.services.results import TallyRule, tally_limits, tally_rule
from pb.tally import BallotKind, BallotLimits, Election, TieBreak, TieBreakMethod, UnresolvedTie
from tests.factories import make_cycle
from tests.strategies import ballot_choices, ballot_configs, junk_text


@given(ballot_configs())
def test_the_json_form_reads_back_to_the_same_value(config):
    text = config.to_json()
    assert BallotConfig.from_json(text) == config
    assert BallotConfig.from_json(text).to_json() == text


@given(ballot_configs())
def test_the_json_form_is_canonical(config):
    text = config.to_json()
    data = json.loads(text)
    assert list(data) == sorted(FIELDS)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert text.isascii()
    # The same value built another way (from a dict in another order) gives the same bytes.
    shuffled = dict(reversed(list(config.to_dict().items())))
    assert BallotConfig.from_dict(shuffled).to_json() == text


def test_equal_configurations_give_equal_text_and_different_ones_differ():
    assert BallotConfig().to_json() == BallotConfig().to_json()
    assert BallotConfig(max_projects=3).to_json() != BallotConfig(max_projects=4).to_json()
    assert BallotConfig().to_json() == (
        '{"allow_revision":true,"ballot_type":"approval","max_points_per_project":null,"max_projects":null,'
        '"min_budget_share_percent":null,"min_projects":null,"points_per_voter":null,"ranking_length":null,'
        '"tally_completion":"none","tally_rule":"greedy","tally_utility":"cost","tie_break":"cost",'
        '"tie_break_seed":0}'
    )


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        "{}",
        BallotConfig().to_json().replace('"approval"', '"plurality"'),
        BallotConfig().to_json().replace("true", "1"),
        BallotConfig().to_json().replace('"max_projects":null', '"max_projects":"3"'),
        BallotConfig().to_json().replace('"tie_break_seed":0', '"tie_break_seed":null'),
        BallotConfig().to_json().replace("}", ',"extra":1}'),
    ],
)
def test_a_damaged_json_form_is_refused(text):
    with pytest.raises(ValueError):
        BallotConfig.from_json(text)


@given(ballot_configs(valid=True), st.integers(min_value=1, max_value=10**9))
def test_conversion_to_the_tally_limits(config, budget):
    limits = tally_limits(config, budget)
    assert isinstance(limits, BallotLimits)
    kind = config.ballot_type
    if kind is BallotType.CUMULATIVE:
        assert (limits.max_sum_points, limits.max_points) == (
            config.points_per_voter,
            config.max_points_per_project,
        )
        assert limits.min_length is limits.max_length is None
    else:
        assert limits.min_length == config.min_projects
        expected_max = config.ranking_length if kind is BallotType.RANKED else config.max_projects
        assert limits.max_length == expected_max
        assert limits.max_points is limits.max_sum_points is None
    if kind is BallotType.KNAPSACK:
        assert limits.max_sum_cost == budget
        share = config.min_budget_share_percent
        assert limits.min_sum_cost == (Fraction(budget * share, 100) if share else None)
    else:
        assert limits.min_sum_cost is limits.max_sum_cost is None


@given(ballot_configs(valid=True))
def test_conversion_to_the_tally_rule_counts_an_election(config):
    rule = tally_rule(config)
    assert rule == TallyRule(
        config.tally_rule,
        config.tally_utility,
        config.tally_completion,
        TieBreak(TieBreakMethod(config.tie_break), config.tie_break_seed),
    )
    kind = {BallotType.RANKED: BallotKind.RANKED, BallotType.CUMULATIVE: BallotKind.CUMULATIVE}.get(
        config.ballot_type, BallotKind.APPROVAL
    )
    election = Election.build(10, {"a": 4, "b": 6}, [], kind=kind)
    try:
        outcome = rule.count(election)  # the registry accepts every valid combination
    except UnresolvedTie:  # with no votes every project ties
        assert config.tie_break == "refuse"
    else:
        assert set(outcome.selected) <= {"a", "b"}


def test_a_cycle_gives_its_configuration(session):
    cycle = make_cycle(
        session, ballot_type=BallotType.KNAPSACK, min_budget_share_percent=50, tally_rule="mes", seed=77
    )
    config = cycle.ballot_config()
    assert config == BallotConfig(
        ballot_type=BallotType.KNAPSACK,
        min_budget_share_percent=50,
        tally_rule="mes",
        tie_break_seed=77,
    )
    assert BallotConfig.from_json(config.to_json()) == config


# --- Choices ------------------------------------------------------------------------------------


@given(ballot_choices())
def test_choices_read_back_from_their_json_form(choices):
    text = choices.to_json()
    assert Choices.from_json(text) == choices
    assert text.isascii()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_the_json_form_of_each_ballot_type():
    assert Choices(BallotType.KNAPSACK, (3, 7)).to_json() == '{"projects":[3,7],"type":"knapsack"}'
    assert Choices(BallotType.RANKED, (7, 3)).to_json() == '{"projects":[7,3],"type":"ranked"}'
    assert (
        Choices(BallotType.CUMULATIVE, (3, 7), (2, 8)).to_json()
        == '{"points":[2,8],"projects":[3,7],"type":"cumulative"}'
    )
    assert Choices(BallotType.APPROVAL, ()).to_json() == '{"projects":[],"type":"approval"}'


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        "[]",
        '{"projects":[3,7]}',
        '{"projects":[7,3],"type":"knapsack"}',  # not sorted
        '{"projects":[3,3],"type":"ranked"}',  # twice
        '{"projects":[3, 7],"type":"knapsack"}',  # not canonical spacing
        '{"type":"knapsack","projects":[3,7]}',  # keys not sorted
        '{"projects":[3,7],"type":"plurality"}',
        '{"projects":[3.0],"type":"approval"}',
        '{"projects":[true],"type":"approval"}',
        '{"projects":["3"],"type":"approval"}',
        '{"projects":[-3],"type":"approval"}',
        '{"projects":[3],"type":"approval","points":[1]}',
        '{"points":[0],"projects":[3],"type":"cumulative"}',
        '{"points":[1,2],"projects":[3],"type":"cumulative"}',
        '{"points":[1.5],"projects":[3],"type":"cumulative"}',
        '{"projects":[3],"type":"cumulative"}',
        '{"projects":[3],"type":"approval","type":"approval"}',
        '{"projects":[NaN],"type":"approval"}',
        '{"projects":[' + "1" * 5000 + '],"type":"approval"}',
        "[" * 100_000,
    ],
)
def test_damaged_choices_are_refused(text):
    with pytest.raises(ValueError):
        Choices.from_json(text)


@given(junk_text)
def test_any_text_is_choices_or_a_value_error(text):
    try:
        choices = Choices.from_json(text)
    except ValueError:
        return
    assert choices.to_json() == text


def test_choices_know_their_cost_and_whether_they_are_blank():
    choices = Choices(BallotType.KNAPSACK, (3, 7))
    assert choices.total_cost({3: 100, 7: 250, 9: 1}) == 350
    assert not choices.is_empty()
    assert Choices(BallotType.CUMULATIVE, ()).is_empty()
    assert Choices(BallotType.CUMULATIVE, (3, 7), (2, 8)).points_by_project() == {3: 2, 7: 8}
