"""The rules for budget cycles: settings, phases, early closure, frozen ballot settings, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pb.models import AuditLogEntry, BallotType, Cycle, Phase, PhaseClosure
from pb.services.audit import verify_chain
from pb.services.cycles import (
    CategoryInput,
    CycleSettings,
    DistrictInput,
    FrozenSettingsError,
    close_phase,
    create_cycle,
    update_cycle,
)
from pb.services.errors import DomainError
from pb.values import local_to_utc, parse_money, utc_to_local
from tests.factories import cycle_settings, make_cycle

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLogEntry))


def messages(error: DomainError, key: str) -> list[str]:
    return [str(message) for message in error.errors[key]]


# --- Money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("250000", 25_000_000),
        ("250000.00", 25_000_000),
        ("250 000,00", 25_000_000),
        ("250\u00a0000,00", 25_000_000),
        ("250\u202f000,00 $", 25_000_000),
        ("250,000.00", 25_000_000),
        ("$1,234,567.89", 123_456_789),
        ("1 234 567,89", 123_456_789),
        ("1.234.567,89", 123_456_789),
        ("0.1", 10),
        ("12,5", 1250),
        ("250,000", 25_000_000),
        ("0,01", 1),
        ("19.99", 1999),
    ],
)
def test_parse_money_reads_dollars_and_cents_exactly(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-5",
        "1.2.3",
        "12,34,56",
        "1 23",
        "1,234.567",
        "1.5e3",
        "12.345,678",
        "1,234 567",
        "$",
        "0.125",
        "0,500",
    ],
)
def test_parse_money_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_money(text)


def test_local_times_round_trip_through_utc():
    local = datetime(2026, 7, 1, 9, 30)
    moment = local_to_utc(local, "America/Toronto")
    assert moment == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert utc_to_local(moment, "America/Toronto") == local
    assert local_to_utc(datetime(2026, 1, 15, 9, 30), "America/Vancouver").hour == 17


# --- Creating -------------------------------------------------------------------------------------


def test_create_cycle_stores_settings_and_records_them(session):
    cycle = make_cycle(session, now=NOW, seed=77)
    assert cycle.slug == "test-cycle"
    assert cycle.tie_break_seed == 77
    assert [d.slug for d in cycle.districts] == ["north", "south"]
    assert [c.name("fr_CA") for c in cycle.categories] == ["Programmes jeunesse"]
    entry = session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "cycle.create")).one()
    assert entry.actor_label == "command line"
    assert entry.before == {}
    assert entry.after["slug"] == "test-cycle"
    assert entry.after["budget_cents"] == 100_000_00
    assert entry.after["districts"][0]["name_fr"] == "Nord"
    assert entry.after["voting_start_at"] == cycle.voting_start_at.isoformat()
    assert verify_chain(session).intact


def test_the_tie_break_seed_is_drawn_at_random(session):
    seeds = {
        create_cycle(session, None, cycle_settings(NOW, slug=f"cycle-{n}"), now=NOW).tie_break_seed
        for n in range(4)
    }
    assert len(seeds) > 1
    assert all(0 <= seed < 2**31 for seed in seeds)


def test_dates_are_stored_to_the_minute_in_utc(session):
    settings = cycle_settings(NOW)
    settings.proposals_start_at = (NOW - 5 * DAY + timedelta(seconds=42)).astimezone(
        __import__("zoneinfo").ZoneInfo("America/Halifax")
    )
    cycle = create_cycle(session, None, settings, now=NOW)
    assert cycle.proposals_start_at == NOW - 5 * DAY
    assert cycle.proposals_start_at.tzinfo is not None


def test_a_slug_is_used_once(session):
    make_cycle(session, now=NOW)
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, cycle_settings(NOW), now=NOW)
    assert messages(caught.value, "slug") == ["Another cycle already uses this address."]


def test_a_budget_above_21_million_dollars_is_stored_exactly(session):
    cycle = create_cycle(session, None, cycle_settings(NOW, budget_cents=50_000_000_000), now=NOW)
    session.commit()
    session.expire_all()
    assert session.get(Cycle, cycle.id).budget_cents == 50_000_000_000


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"slug": "Not a slug"},
            "slug",
            "Use lower-case letters, digits and hyphens only, e.g. lakeview-2026.",
        ),
        ({"name_fr": "  "}, "name_fr", "Give the name in both languages."),
        (
            {"timezone": "Mars/Olympus_Mons"},
            "timezone",
            "Give a time zone name from the IANA database, e.g. America/Toronto.",
        ),
        (
            {"timezone": "../etc/passwd"},
            "timezone",
            "Give a time zone name from the IANA database, e.g. America/Toronto.",
        ),
        ({"currency": "XYZ1"}, "currency", "Give a three-letter currency code, e.g. CAD."),
        ({"budget_cents": 0}, "budget", "The budget must be more than zero."),
        ({"budget_cents": 2**63}, "budget", "The budget is too large for this system."),
    ],
)
def test_settings_are_validated_field_by_field(session, changes, field, message):
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, cycle_settings(NOW, **changes), now=NOW)
    assert message in messages(caught.value, field)
    assert session.scalar(select(func.count()).select_from(Cycle)) == 0


# --- Phase dates ----------------------------------------------------------------------------------


def test_a_phase_must_end_after_it_starts(session):
    settings = cycle_settings(NOW)
    settings.proposals_end_at = settings.proposals_start_at
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, settings, now=NOW)
    assert messages(caught.value, "proposals_end_at") == ["“Proposal submission” must end after it starts."]


def test_phases_may_not_overlap(session):
    settings = cycle_settings(NOW)
    settings.voting_start_at = settings.review_end_at - timedelta(minutes=1)
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, settings, now=NOW)
    assert messages(caught.value, "voting_start_at") == [
        "“Voting” must start when “Deliberation and review” ends, or later."
    ]
    assert set(caught.value.errors) == {"voting_start_at"}


def test_results_must_come_after_voting(session):
    settings = cycle_settings(NOW)
    settings.results_start_at = settings.voting_start_at
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, settings, now=NOW)
    assert messages(caught.value, "results_start_at") == [
        "“Results” must start when “Voting” ends, or later."
    ]


def test_phases_may_touch_or_leave_gaps(session):
    settings = cycle_settings(NOW)
    settings.review_start_at = settings.proposals_end_at + DAY
    cycle = create_cycle(session, None, settings, now=NOW)
    assert cycle.phase_state(settings.proposals_end_at + DAY / 2).current is None
    assert cycle.phase_state(settings.proposals_end_at + DAY / 2).upcoming.phase is Phase.REVIEW


def test_phase_state_follows_the_dates(session):
    cycle = make_cycle(session, now=NOW)  # proposals opened five days before NOW
    start = cycle.proposals_start_at
    assert cycle.phase_state(start - timedelta(seconds=1)).current is None
    assert cycle.phase_state(start - timedelta(seconds=1)).upcoming.phase is Phase.PROPOSALS
    assert cycle.phase_state(start).current is Phase.PROPOSALS
    assert cycle.phase_state(cycle.proposals_end_at).current is Phase.REVIEW
    assert cycle.phase_state(cycle.voting_start_at + DAY).current is Phase.VOTING
    assert cycle.phase_state(cycle.results_start_at + 400 * DAY).current is Phase.RESULTS
    assert not cycle.voting_has_opened(cycle.voting_start_at - timedelta(seconds=1))
    assert cycle.voting_has_opened(cycle.voting_start_at)


# --- Closing a phase early -----------------------------------------------------------------------


def test_close_phase_early_is_recorded(session, make_user):
    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(session, staff, now=NOW)
    closure = close_phase(session, staff, cycle, "  Enough ideas were submitted.  ", now=NOW)
    session.commit()
    assert closure.phase is Phase.PROPOSALS
    assert closure.closed_by_id == staff.id
    assert closure.reason == "Enough ideas were submitted."
    assert cycle.phase_state(NOW).current is None
    assert cycle.phase_state(NOW).last_started is Phase.PROPOSALS
    assert cycle.phase_state(cycle.review_start_at).current is Phase.REVIEW
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.action == "cycle.close_phase"
    assert entry.actor_label == "staff@example.org"
    assert entry.before == {"phase": "proposals", "ends_at": cycle.proposals_end_at.isoformat()}
    assert entry.after == {
        "phase": "proposals",
        "closed_at": NOW.isoformat(),
        "reason": "Enough ideas were submitted.",
    }
    assert verify_chain(session).intact


def test_closing_voting_early_freezes_the_ballot_settings(session):
    cycle = make_cycle(session, now=NOW, phase="voting")
    close_phase(session, None, cycle, "Storm warning", now=NOW)
    assert cycle.phase_state(NOW).current is None
    assert cycle.voting_has_opened(NOW)


def test_close_phase_needs_a_reason_and_an_open_phase(session):
    cycle = make_cycle(session, now=NOW)
    with pytest.raises(DomainError) as caught:
        close_phase(session, None, cycle, "   ", now=NOW)
    assert messages(caught.value, "reason") == ["Give the reason for closing the phase early."]
    with pytest.raises(DomainError, match="No phase is open now"):
        close_phase(session, None, cycle, "Too early", now=cycle.proposals_start_at - DAY)
    with pytest.raises(DomainError, match="results phase has no end"):
        close_phase(session, None, cycle, "Done", now=cycle.results_start_at + DAY)
    close_phase(session, None, cycle, "Enough", now=NOW)
    with pytest.raises(DomainError, match="No phase is open now"):
        close_phase(session, None, cycle, "Again", now=NOW + timedelta(minutes=1))
    assert session.scalar(select(func.count()).select_from(PhaseClosure)) == 1


# --- Ballot settings and the counting rule -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"ballot_type": BallotType.CUMULATIVE},
            "points_per_voter",
            "A cumulative ballot needs the number of points each voter spreads.",
        ),
        (
            {"ballot_type": BallotType.CUMULATIVE, "points_per_voter": 5, "max_points_per_project": 6},
            "max_points_per_project",
            "A project cannot take more points than a voter has.",
        ),
        (
            {"ballot_type": BallotType.RANKED},
            "ranking_length",
            "A ranked ballot needs the number of projects a voter may rank.",
        ),
        (
            {"ballot_type": BallotType.RANKED, "ranking_length": 3, "min_projects": 4},
            "min_projects",
            "The minimum cannot be more than the number of projects a voter may rank.",
        ),
        (
            {"ballot_type": BallotType.K_APPROVAL},
            "max_projects",
            "A k-approval ballot needs the number of projects a voter may choose.",
        ),
        (
            {"min_projects": 3, "max_projects": 2},
            "min_projects",
            "The minimum cannot be more than the maximum.",
        ),
        ({"max_projects": 0}, "max_projects", "Give a number of at least 1."),
        (
            {"ballot_type": BallotType.KNAPSACK, "min_budget_share_percent": 101},
            "min_budget_share_percent",
            "Give a percentage between 0 and 100.",
        ),
        (
            {"ballot_type": BallotType.RANKED, "ranking_length": 3, "tally_rule": "phragmen"},
            "tally_rule",
            "The rule “Phragmén: voters earn money at the same rate” does not count ranked ballots; choose another rule or ballot type.",
        ),
        ({"tally_rule": "dictator"}, "tally_rule", "Choose a counting rule."),
        (
            {"tally_rule": "greedy", "tally_completion": "add1"},
            "tally_completion",
            "The rule “Most support first, while money remains” does not take this completion.",
        ),
        (
            {"tally_utility": "happiness"},
            "tally_utility",
            "The rule “Most support first, while money remains” does not use this measure of satisfaction.",
        ),
        ({"tie_break": "coin"}, "tie_break", "Choose how ties are broken."),
    ],
)
def test_ballot_settings_are_validated_per_type(session, changes, field, message):
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, cycle_settings(NOW, **changes), now=NOW)
    assert message in messages(caught.value, field)


def test_limits_the_ballot_type_does_not_use_are_cleared(session):
    cycle = make_cycle(
        session,
        now=NOW,
        ballot_type=BallotType.CUMULATIVE,
        points_per_voter=10,
        max_points_per_project=4,
        ranking_length=3,
        max_projects=5,
        tally_rule="mes",
        tally_utility="score",
        tally_completion="add1",
    )
    assert (cycle.points_per_voter, cycle.max_points_per_project) == (10, 4)
    assert cycle.ranking_length is None and cycle.max_projects is None
    assert cycle.tally_completion == "add1"


# --- Per-district budgets -------------------------------------------------------------------------


def test_a_budget_per_district(session):
    cycle = make_cycle(
        session,
        now=NOW,
        budget_cents=None,
        districts=[DistrictInput("North", "Nord", 60_000_00), DistrictInput("South", "Sud", 40_000_00)],
    )
    assert cycle.has_district_budgets
    assert cycle.total_budget_cents == 100_000_00
    assert [d.budget_cents for d in cycle.districts] == [60_000_00, 40_000_00]


def test_per_district_budgets_need_districts_with_budgets(session):
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, cycle_settings(NOW, budget_cents=None, districts=[]), now=NOW)
    assert "Add at least one district to give each district its budget." in messages(
        caught.value, "budget_mode"
    )
    settings = cycle_settings(
        NOW,
        budget_cents=None,
        districts=[
            DistrictInput("North", "Nord", 5_00, key="districts-0"),
            DistrictInput("South", "Sud", None, key="districts-3"),
        ],
    )
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, settings, now=NOW)
    assert messages(caught.value, "districts-3-budget") == ["Give this district's budget."]


def test_a_single_budget_ignores_district_budgets(session):
    cycle = make_cycle(session, now=NOW, districts=[DistrictInput("North", "Nord", 5_00)])
    assert cycle.districts[0].budget_cents is None
    assert cycle.total_budget_cents == 100_000_00


def test_district_and_category_names_are_bilingual_and_distinct(session):
    settings = cycle_settings(
        NOW,
        districts=[DistrictInput("North", "Nord"), DistrictInput("north", "Nord bis")],
        categories=[CategoryInput("Lighting", "")],
    )
    with pytest.raises(DomainError) as caught:
        create_cycle(session, None, settings, now=NOW)
    assert messages(caught.value, "districts-1-name_en") == ["This name is used twice."]
    assert messages(caught.value, "categories-0-name_fr") == ["Give the name in both languages."]


# --- Editing --------------------------------------------------------------------------------------


def test_update_records_only_what_changed(session, make_user):
    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(session, staff, now=NOW)
    settings = CycleSettings.from_cycle(cycle).with_changes(name_fr="Cycle modifié", max_projects=3)
    assert update_cycle(session, staff, cycle, settings, now=NOW) is True
    session.commit()
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.action == "cycle.update"
    assert entry.subject_id == str(cycle.id)
    assert entry.before == {"name_fr": "Cycle d’essai", "max_projects": None}
    assert entry.after == {"name_fr": "Cycle modifié", "max_projects": 3}
    assert verify_chain(session).intact


def test_an_edit_that_changes_nothing_records_nothing(session):
    cycle = make_cycle(session, now=NOW)
    count = audit_count(session)
    assert update_cycle(session, None, cycle, CycleSettings.from_cycle(cycle), now=NOW) is False
    assert audit_count(session) == count


def test_districts_and_categories_can_be_added_renamed_and_removed(session):
    cycle = make_cycle(session, now=NOW)
    north, south = cycle.districts
    settings = CycleSettings.from_cycle(cycle)
    settings.districts = [
        DistrictInput("South side", "Côté sud", id=south.id),
        DistrictInput("North", "Nord"),  # a new district with the name of the one being removed
    ]
    settings.categories = [*settings.categories, CategoryInput("Victim support", "Soutien aux victimes")]
    update_cycle(session, None, cycle, settings, now=NOW)
    session.commit()
    session.expire_all()
    assert [(d.slug, d.name_en, d.position) for d in cycle.districts] == [
        ("south", "South side", 0),
        ("north-2", "North", 1),
    ]
    assert [c.slug for c in cycle.categories] == ["youth-programs", "victim-support"]
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert set(entry.after) == {"districts", "categories"}


def test_frozen_settings_cannot_change_once_voting_has_opened(session, make_user):
    staff = make_user("staff@example.org", roles=["staff"])
    cycle = make_cycle(session, staff, now=NOW, phase="voting")
    count = audit_count(session)
    settings = CycleSettings.from_cycle(cycle).with_changes(
        name_en="Renamed", tally_rule="mes", max_projects=2
    )
    with pytest.raises(FrozenSettingsError) as caught:
        update_cycle(session, staff, cycle, settings, now=NOW)
    assert set(caught.value.errors) == {"tally_rule", "max_projects"}
    assert "Nothing was saved" in messages(caught.value, "tally_rule")[0]
    session.rollback()
    session.expire_all()
    assert (cycle.name_en, cycle.tally_rule, cycle.max_projects) == ("Test cycle", "greedy", None)
    assert audit_count(session) == count


@pytest.mark.parametrize(
    "changes",
    [
        {"budget_cents": 5_00},
        {"voting_start_at": NOW - timedelta(days=4)},
        {"allow_revision": False},
        {"tie_break": "id"},
        {"districts": [DistrictInput("North", "Nord")]},
    ],
)
def test_budget_voting_start_and_districts_are_frozen_too(session, changes):
    cycle = make_cycle(session, now=NOW, phase="voting")
    settings = CycleSettings.from_cycle(cycle)
    if "districts" in changes:
        changes = {"districts": [DistrictInput("North", "Nord", id=cycle.districts[0].id)]}
    with pytest.raises(FrozenSettingsError):
        update_cycle(session, None, cycle, settings.with_changes(**changes), now=NOW)


def test_other_settings_may_change_while_voting(session):
    cycle = make_cycle(session, now=NOW, phase="voting")
    settings = CycleSettings.from_cycle(cycle)
    settings.districts[0].name_fr = "Le Nord"
    changed = settings.with_changes(
        name_en="Renamed",
        voting_end_at=cycle.voting_end_at + DAY,
        results_start_at=cycle.results_start_at + DAY,
    )
    assert update_cycle(session, None, cycle, changed, now=NOW) is True
    assert cycle.name_en == "Renamed"
    assert cycle.districts[0].name_fr == "Le Nord"


def test_settings_are_free_before_voting_opens(session):
    cycle = make_cycle(session, now=NOW, phase="review")
    settings = CycleSettings.from_cycle(cycle).with_changes(tally_rule="mes", tally_completion="add1")
    assert update_cycle(session, None, cycle, settings, now=NOW)
    assert cycle.tally_rule == "mes"


def test_dates_that_have_passed_cannot_change(session):
    """Editing the dates must not reopen voting after the results, nor end a phase without a record."""
    cycle = make_cycle(session, now=NOW, phase="results")
    settings = CycleSettings.from_cycle(cycle)
    count = audit_count(session)
    reopen = settings.with_changes(voting_end_at=NOW + DAY, results_start_at=NOW + 2 * DAY)
    with pytest.raises(DomainError) as caught:
        update_cycle(session, None, cycle, reopen, now=NOW)
    assert set(caught.value.errors) == {"voting_end_at", "results_start_at"}
    session.rollback()
    session.expire_all()
    assert cycle.phase_state(NOW).current is Phase.RESULTS
    assert audit_count(session) == count


def test_a_future_date_cannot_be_moved_into_the_past(session):
    cycle = make_cycle(session, now=NOW, phase="proposals")
    settings = CycleSettings.from_cycle(cycle).with_changes(proposals_end_at=NOW - timedelta(hours=1))
    with pytest.raises(DomainError) as caught:
        update_cycle(session, None, cycle, settings, now=NOW)
    assert "close it early" in messages(caught.value, "proposals_end_at")[0]


def test_the_currency_is_frozen_once_voting_has_opened(session):
    cycle = make_cycle(session, now=NOW, phase="voting")
    with pytest.raises(FrozenSettingsError) as caught:
        update_cycle(
            session, None, cycle, CycleSettings.from_cycle(cycle).with_changes(currency="USD"), now=NOW
        )
    assert set(caught.value.errors) == {"currency"}


def test_closing_refuses_when_another_phase_has_opened_since_the_page_was_shown(session):
    cycle = make_cycle(session, now=NOW, phase="proposals")
    later = cycle.review_start_at + timedelta(minutes=1)
    with pytest.raises(DomainError, match="phase has changed"):
        close_phase(session, None, cycle, "Enough ideas", now=later, expected=Phase.PROPOSALS)
    assert session.scalar(select(func.count()).select_from(PhaseClosure)) == 0
    closure = close_phase(session, None, cycle, "Review is done", now=later, expected="review")
    assert closure.phase is Phase.REVIEW
