"""What a voter's form means, and every rule it can break: at the limit accepted, one past refused."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st

from pb.ballot import BallotConfig, BallotType, Choices
from pb.services.ballot_rules import (
    Option,
    RawChoices,
    broken_rules,
    describe_limits,
    read_choices,
    validate,
)
from pb.services.errors import DomainError
from tests.strategies import junk_text

APPROVAL = BallotConfig(ballot_type=BallotType.APPROVAL)
K_APPROVAL = BallotConfig(ballot_type=BallotType.K_APPROVAL, max_projects=2)
KNAPSACK = BallotConfig(ballot_type=BallotType.KNAPSACK)
RANKED = BallotConfig(ballot_type=BallotType.RANKED, ranking_length=3)
CUMULATIVE = BallotConfig(ballot_type=BallotType.CUMULATIVE, points_per_voter=10, max_points_per_project=6)
CONFIGS = [APPROVAL, K_APPROVAL, KNAPSACK, RANKED, CUMULATIVE]

# Five projects of 1,000 to 5,000 dollars; a budget of 10,000 dollars.
OPTIONS = [Option(id=n, cost_cents=n * 100_000, title=f"Project {n}") for n in range(1, 6)]
BUDGET = 1_000_000


def chosen(*ids) -> RawChoices:
    return RawChoices(selected=tuple(str(i) for i in ids))


def ranked(ranks: dict) -> RawChoices:
    return RawChoices(ranks={str(k): str(v) for k, v in ranks.items()})


def pointed(points: dict) -> RawChoices:
    return RawChoices(points={str(k): str(v) for k, v in points.items()})


def refused(config, raw, budget=BUDGET, options=OPTIONS) -> list[str]:
    with pytest.raises(DomainError) as caught:
        validate(config, budget, options, raw)
    assert set(caught.value.errors) == {""}  # all about the whole ballot
    return caught.value.messages()


# --- Approval and k-approval ---------------------------------------------------------------------


def test_an_approval_ballot_is_the_sorted_projects_chosen():
    choices = validate(APPROVAL, BUDGET, OPTIONS, chosen(4, 1, " 2 "))
    assert choices == Choices(BallotType.APPROVAL, (1, 2, 4))


def test_approval_at_most_and_at_least():
    config = APPROVAL.with_changes(min_projects=2, max_projects=3)
    assert validate(config, BUDGET, OPTIONS, chosen(1, 2)).projects == (1, 2)
    assert validate(config, BUDGET, OPTIONS, chosen(1, 2, 3)).projects == (1, 2, 3)
    assert refused(config, chosen(1)) == ["Choose at least 2 projects; you chose 1."]
    assert refused(config, chosen(1, 2, 3, 4)) == ["Choose at most 3 projects; you chose 4."]


def test_k_approval_chooses_up_to_k():
    assert validate(K_APPROVAL, BUDGET, OPTIONS, chosen(1, 5)).projects == (1, 5)
    assert refused(K_APPROVAL, chosen(1, 2, 5)) == ["Choose at most 2 projects; you chose 3."]
    one = K_APPROVAL.with_changes(max_projects=1)
    assert refused(one, chosen(1, 2)) == ["Choose at most 1 project; you chose 2."]


# --- Knapsack ------------------------------------------------------------------------------------


def test_knapsack_fits_the_budget_to_the_cent():
    # 1 + 4 + 5 thousand dollars = the budget exactly.
    assert validate(KNAPSACK, BUDGET, OPTIONS, chosen(1, 4, 5)).projects == (1, 4, 5)
    assert refused(KNAPSACK, chosen(1, 4, 5), budget=BUDGET - 1) == [
        "Your projects cost 10000.00 CAD in total, more than the budget of 9999.99 CAD."
    ]


def test_knapsack_least_share_of_the_budget_is_exact():
    # 33% of 9,999.99 dollars is 3,299.9967: at least 3,300.00 dollars, rounded up to the cent.
    config = KNAPSACK.with_changes(min_budget_share_percent=33)
    budget = 999_999
    options = [Option(1, 329_999), Option(2, 330_000), Option(3, 1)]
    assert validate(config, budget, options, chosen(2)).projects == (2,)
    assert validate(config, budget, options, chosen(1, 3)).projects == (1, 3)
    assert refused(config, chosen(1), budget=budget, options=options) == [
        "Your projects must cost at least 3300.00 CAD in total, 33% of the budget; they cost 3299.99 CAD."
    ]


def test_knapsack_counts_projects_too():
    config = KNAPSACK.with_changes(min_projects=2, max_projects=2)
    assert validate(config, BUDGET, OPTIONS, chosen(1, 2)).projects == (1, 2)
    assert refused(config, chosen(1)) == ["Choose at least 2 projects; you chose 1."]
    assert refused(config, chosen(1, 2, 3)) == ["Choose at most 2 projects; you chose 3."]


def test_every_broken_rule_is_said_at_once():
    config = KNAPSACK.with_changes(max_projects=2)
    messages = refused(config, chosen(3, 4, 5, 5, 99))
    assert messages == [
        "This ballot does not offer that project.",
        "You chose “Project 5” more than once.",
        "Choose at most 2 projects; you chose 3.",
        "Your projects cost 12000.00 CAD in total, more than the budget of 10000.00 CAD.",
    ]


# --- Ranked --------------------------------------------------------------------------------------


def test_ranks_are_compacted_in_order_best_first():
    choices = validate(RANKED, BUDGET, OPTIONS, ranked({4: 5, 2: 1, 1: "", 3: " 3 "}))
    assert choices == Choices(BallotType.RANKED, (2, 3, 4))


def test_two_projects_cannot_share_a_rank():
    assert refused(RANKED, ranked({1: 2, 4: 2})) == [
        "Two projects share rank 2: “Project 1” and “Project 4”."
    ]


@pytest.mark.parametrize("rank", ["0", "6", "-1", "1.5", "one", "\x00", "9" * 100_000])
def test_a_rank_is_a_whole_number_from_1_to_the_number_of_projects(rank):
    assert refused(RANKED, RawChoices(ranks={"2": rank})) == [
        "The rank of “Project 2” must be a whole number from 1 to 5."
    ]


def test_ranked_at_most_ranking_length_and_at_least_min_projects():
    config = RANKED.with_changes(min_projects=2)
    assert validate(config, BUDGET, OPTIONS, ranked({1: 1, 2: 2})).projects == (1, 2)
    assert validate(config, BUDGET, OPTIONS, ranked({1: 3, 2: 2, 5: 1})).projects == (5, 2, 1)
    assert refused(config, ranked({1: 1})) == ["Rank at least 2 projects; you ranked 1."]
    assert refused(config, ranked({1: 1, 2: 2, 3: 3, 4: 4})) == ["Rank at most 3 projects; you ranked 4."]


# --- Cumulative ----------------------------------------------------------------------------------


def test_cumulative_points_are_sorted_by_project_and_zero_is_no_choice():
    choices = validate(CUMULATIVE, BUDGET, OPTIONS, pointed({5: 4, 2: 6, 3: 0, 4: ""}))
    assert choices == Choices(BallotType.CUMULATIVE, (2, 5), (6, 4))


def test_cumulative_points_per_project_at_most():
    assert validate(CUMULATIVE, BUDGET, OPTIONS, pointed({1: 6})).points == (6,)
    assert refused(CUMULATIVE, pointed({1: 7})) == [
        "You gave “Project 1” 7 points; a project may have at most 6."
    ]


def test_cumulative_points_in_all_at_most_and_not_all_needed():
    assert validate(CUMULATIVE, BUDGET, OPTIONS, pointed({1: 6, 2: 4})).points == (6, 4)
    assert validate(CUMULATIVE, BUDGET, OPTIONS, pointed({1: 3})).points == (3,)
    assert refused(CUMULATIVE, pointed({1: 6, 2: 5})) == ["You may spread at most 10 points; you gave 11."]


@pytest.mark.parametrize("points", ["-1", "2.5", "1e3", "½", "٣", "1\x00", "9" * 19])
def test_points_are_whole_numbers_zero_or_more(points):
    assert refused(CUMULATIVE, RawChoices(points={"3": points})) == [
        "The points for “Project 3” must be a whole number, 0 or more."
    ]


# --- Projects offered, duplicates, blank ballots -------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.ballot_type.value)
@pytest.mark.parametrize("project", ["6", "0", "-1", "abc", "", "1.0", "\ud800", str(2**64)])
def test_a_project_not_offered_is_refused(config, project):
    raw = RawChoices(selected=(project,), ranks={project: "1"}, points={project: "1"})
    assert refused(config, raw) == ["This ballot does not offer that project."]


def test_another_districts_project_is_not_offered():
    district = [option for option in OPTIONS if option.id != 5]
    assert refused(APPROVAL, chosen(1, 5), options=district) == ["This ballot does not offer that project."]


def test_a_blank_field_of_a_project_not_offered_says_nothing():
    assert validate(RANKED, BUDGET, OPTIONS, RawChoices(ranks={"1": "1", "99": ""})).projects == (1,)


@pytest.mark.parametrize(
    ("config", "raw"),
    [
        (APPROVAL, chosen(2, 2)),
        (APPROVAL, chosen(2, "02")),
        (RANKED, ranked({2: 1, "02": 2})),
        (CUMULATIVE, pointed({2: 1, " 2": 2})),
    ],
)
def test_a_project_twice_is_refused(config, raw):
    assert refused(config, raw) == ["You chose “Project 2” more than once."]


def test_a_project_without_a_title_is_named_by_its_number():
    assert refused(APPROVAL, chosen(7, 7), options=[Option(7, 100)]) == [
        "You chose project 7 more than once."
    ]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.ballot_type.value)
def test_a_blank_ballot_is_an_abstention_when_no_rule_needs_a_choice(config):
    choices = validate(config, BUDGET, OPTIONS, RawChoices())
    assert choices.is_empty() and choices.ballot_type is config.ballot_type


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (APPROVAL.with_changes(min_projects=1), "Choose at least 1 project; you chose 0."),
        (RANKED.with_changes(min_projects=1), "Rank at least 1 project; you ranked 0."),
        (
            KNAPSACK.with_changes(min_budget_share_percent=50),
            "Your projects must cost at least 5000.00 CAD in total, 50% of the budget; they cost 0.00 CAD.",
        ),
    ],
)
def test_a_blank_ballot_is_refused_when_a_rule_needs_a_choice(config, message):
    assert refused(config, RawChoices()) == [message]


def test_a_minimum_of_zero_allows_a_blank_ballot():
    assert validate(APPROVAL.with_changes(min_projects=0), BUDGET, OPTIONS, RawChoices()).is_empty()


def test_reading_alone_checks_no_limit():
    config = K_APPROVAL.with_changes(max_projects=1)
    choices = read_choices(config, OPTIONS, chosen(1, 2))
    assert choices.projects == (1, 2)
    costs = {o.id: o.cost_cents for o in OPTIONS}
    assert [str(m) for m in broken_rules(config, BUDGET, choices, costs)] == [
        "Choose at most 1 project; you chose 2."
    ]
    with pytest.raises(DomainError):
        read_choices(config, OPTIONS, chosen("x"))


# --- Junk ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.ballot_type.value)
@given(
    selected=st.lists(junk_text | st.sampled_from(["1", "2", "3"]), max_size=6),
    ranks=st.dictionaries(junk_text | st.sampled_from(["1", "2", "3"]), junk_text, max_size=6),
    points=st.dictionaries(junk_text | st.sampled_from(["1", "2", "3"]), junk_text, max_size=6),
)
def test_any_form_gives_choices_or_a_domain_error(config, selected, ranks, points):
    raw = RawChoices(selected=tuple(selected), ranks=ranks, points=points)
    try:
        choices = validate(config, BUDGET, OPTIONS, raw)
    except DomainError as error:
        assert all(error.messages())
        assert not any("\x00" in message for message in error.messages())
    else:
        assert Choices.from_json(choices.to_json()) == choices
        assert set(choices.projects) <= {o.id for o in OPTIONS}


def test_a_huge_form_gives_one_message_per_rule():
    raw = RawChoices(selected=("x" * 100_000, *(str(n) for n in range(100, 100_100))))
    assert refused(APPROVAL, raw) == ["This ballot does not offer that project."]
    again = RawChoices(selected=("1",) * 100_000, ranks={" " * n + "1": "1" for n in range(10_000)})
    assert refused(APPROVAL, again) == ["You chose “Project 1” more than once."]
    assert refused(RANKED, again) == ["You chose “Project 1” more than once."]


# --- What the ballot page says -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "lines"),
    [
        (APPROVAL, ["Choose every project you support."]),
        (
            APPROVAL.with_changes(min_projects=1, max_projects=3),
            ["Choose every project you support.", "Choose at least 1 and at most 3 projects."],
        ),
        (K_APPROVAL, ["Choose up to 2 projects you support."]),
        (
            K_APPROVAL.with_changes(min_projects=1),
            ["Choose up to 2 projects you support.", "Choose at least 1 project."],
        ),
        (
            KNAPSACK.with_changes(min_budget_share_percent=50, max_projects=1),
            [
                "Your projects may cost at most 10000.00 CAD in total.",
                "Your projects must cost at least 5000.00 CAD in total, 50% of the budget.",
                "Choose at most 1 project.",
            ],
        ),
        (
            RANKED.with_changes(min_projects=2),
            ["Rank up to 3 projects, your favourite first.", "Rank at least 2 projects."],
        ),
        (
            CUMULATIVE,
            [
                "Spread up to 10 points over the projects you support.",
                "You may give at most 6 points to one project.",
            ],
        ),
    ],
)
def test_the_rules_in_plain_words(config, lines):
    assert [str(line) for line in describe_limits(config, BUDGET)] == lines


def test_the_messages_are_in_french(app):
    config = KNAPSACK.with_changes(max_projects=1, min_budget_share_percent=50)
    with pytest.raises(DomainError) as caught:
        validate(config, BUDGET, OPTIONS, chosen(3, 3, 4, 5, 99))
    with app.test_request_context(), force_locale("fr_CA"):
        messages = caught.value.messages()
        lines = [str(line) for line in describe_limits(config, BUDGET)]
    assert messages[0] == "Ce bulletin n’offre pas ce projet."
    assert "«\u00a0Project 3\u00a0»" in messages[1]
    assert "12\u00a0000,00\u00a0$" in messages[3]
    assert all(message != english for message, english in zip(messages, caught.value.messages(), strict=True))
    assert len(lines) == 3 and "50\u00a0%" in lines[1]
