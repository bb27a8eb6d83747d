"""Staff pages for cycles: who may use them, creating and editing, closing a phase early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.ballot import LIMIT_FIELDS
from pb.db import utcnow
from pb.models import AuditLogEntry, Cycle, Phase, PhaseClosure
from pb.services.audit import verify_chain
from pb.services.cycles import PHASE_DATE_FIELDS
from pb.values import utc_to_local

TZ = "America/Toronto"


def local(moment) -> str:
    return utc_to_local(moment, TZ).strftime("%Y-%m-%dT%H:%M")


def cycle_form(**overrides) -> dict:
    """A valid create form: proposals open in a day, each phase lasts a week."""
    start = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    week = timedelta(days=7)
    data = {
        "name_en": "Harbour Safety 2027",
        "name_fr": "Sécurité du port 2027",
        "slug": "harbour-2027",
        "description_en": "Safer streets.",
        "description_fr": "Des rues plus sûres.",
        "currency": "CAD",
        "timezone": TZ,
        "budget_mode": "total",
        "budget": "250 000,00",
        "districts-0-id": "",
        "districts-0-name_en": "Harbourfront",
        "districts-0-name_fr": "Secteur du Port",
        "districts-0-budget": "",
        "districts-1-id": "",
        "districts-1-name_en": "",
        "districts-1-name_fr": "",
        "districts-1-budget": "",
        "categories-0-id": "",
        "categories-0-name_en": "Crisis response",
        "categories-0-name_fr": "Intervention en situation de crise",
        "categories-1-id": "",
        "categories-1-name_en": "",
        "categories-1-name_fr": "",
        "proposals_start_at": local(start),
        "proposals_end_at": local(start + week),
        "review_start_at": local(start + week),
        "review_end_at": local(start + 2 * week),
        "voting_start_at": local(start + 2 * week),
        "voting_end_at": local(start + 3 * week),
        "results_start_at": local(start + 3 * week),
        "ballot_type": "approval",
        "min_projects": "",
        "max_projects": "3",
        "min_budget_share_percent": "",
        "ranking_length": "",
        "points_per_voter": "",
        "max_points_per_project": "",
        "allow_revision": "y",
        "vote_with_codes": "y",
        "vote_with_accounts": "y",
        "noncitizens_may_vote": "y",
        "tally_rule": "greedy",
        "tally_utility": "cost",
        "tally_completion": "none",
        "tie_break": "cost",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit_form(cycle: Cycle, **overrides) -> dict:
    """The edit form as the page fills it in for ``cycle``, with ``overrides``."""
    data = {
        "name_en": cycle.name_en,
        "name_fr": cycle.name_fr,
        "slug": cycle.slug,
        "description_en": cycle.description_en,
        "description_fr": cycle.description_fr,
        "currency": cycle.currency,
        "timezone": cycle.timezone,
        "budget_mode": "district" if cycle.has_district_budgets else "total",
        "budget": "" if cycle.budget_cents is None else f"{cycle.budget_cents / 100:.2f}",
        "ballot_type": cycle.ballot_type.value,
        "allow_revision": "y" if cycle.allow_revision else None,
        "tally_rule": cycle.tally_rule,
        "tally_utility": cycle.tally_utility,
        "tally_completion": cycle.tally_completion,
        "tie_break": cycle.tie_break,
        "version": str(cycle.version),
        "max_proposals_per_resident": str(cycle.max_proposals_per_resident),
        "allow_citywide_proposals": "y" if cycle.allow_citywide_proposals else None,
        "deliberation_during_proposals": "y" if cycle.deliberation_during_proposals else None,
        "vote_with_codes": "y" if cycle.vote_with_codes else None,
        "vote_with_accounts": "y" if cycle.vote_with_accounts else None,
        "min_voting_age": "" if cycle.min_voting_age is None else str(cycle.min_voting_age),
        "noncitizens_may_vote": "y" if cycle.noncitizens_may_vote else None,
        "fixed_project_order": "y" if cycle.fixed_project_order else None,
    }
    for name in LIMIT_FIELDS:
        value = getattr(cycle, name)
        data[name] = "" if value is None else str(value)
    for name in PHASE_DATE_FIELDS:
        data[name] = local(getattr(cycle, name))
    for index, district in enumerate(cycle.districts):
        data[f"districts-{index}-id"] = str(district.id)
        data[f"districts-{index}-name_en"] = district.name_en
        data[f"districts-{index}-name_fr"] = district.name_fr
        data[f"districts-{index}-budget"] = (
            ""
            if district.budget_cents is None
            else f"{district.budget_cents // 100}.{district.budget_cents % 100:02d}"
        )
    for index, category in enumerate(cycle.categories):
        data[f"categories-{index}-id"] = str(category.id)
        data[f"categories-{index}-name_en"] = category.name_en
        data[f"categories-{index}-name_fr"] = category.name_fr
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLogEntry))


@pytest.fixture
def staff(make_user, log_in):
    return log_in(make_user("staff@example.org", roles=["staff"]))


# --- Who may use the staff pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/staff/",
        "/staff/cycles/new",
        "/staff/cycles/test-cycle/edit",
        "/staff/cycles/test-cycle/close-phase",
        "/staff/audit-log",
    ],
)
def test_residents_get_403_on_staff_pages(client, make_user, make_cycle, log_in, path):
    make_cycle()
    log_in(make_user("resident@example.org"))
    assert client.get(path).status_code == 403
    if "cycles" in path:
        assert client.post(path, data={}).status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/cycles/new")
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]


def test_auditors_see_the_dashboard_and_the_log_but_cannot_change_cycles(
    client, make_user, make_cycle, log_in
):
    make_cycle()
    log_in(make_user("auditor@example.org", roles=["auditor"]))
    dashboard = client.get("/staff/")
    assert dashboard.status_code == 200
    assert "/staff/cycles/new" not in dashboard.text
    assert client.get("/staff/audit-log").status_code == 200
    assert client.get("/staff/cycles/new").status_code == 403
    assert client.post("/staff/cycles/test-cycle/edit", data={}).status_code == 403


def test_admins_count_as_staff(client, make_user, log_in):
    log_in(make_user("admin@example.org", roles=["admin"]))
    assert client.get("/staff/cycles/new").status_code == 200


def test_dashboard_lists_cycles_with_actions(client, staff, make_cycle):
    make_cycle()
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Test cycle" in page.text
    assert "/staff/cycles/test-cycle/edit" in page.text
    assert "Close “Proposal submission” early" in page.text
    assert "$100,000.00" in page.text


# --- Creating -------------------------------------------------------------------------------------


def test_the_create_form_is_accessible_markup(client, staff):
    page = client.get("/staff/cycles/new").text
    assert page.count("<h1") == 1
    for legend in ("Phase dates", "Budget", "Ballot", "Districts", "Categories", "Counting"):
        assert f"<legend>{legend}</legend>" in page
    assert 'id="districts-2-name_en"' in page  # three blank rows to fill in
    assert 'for="districts-0-name_en"' in page
    assert 'type="datetime-local"' in page
    ids = [chunk.split('"', 1)[0] for chunk in page.split(' id="')[1:]]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_create_a_cycle(client, staff, session):
    response = client.post("/staff/cycles/new", data=cycle_form())
    assert response.status_code == 302, response.text
    cycle = session.scalars(select(Cycle).where(Cycle.slug == "harbour-2027")).one()
    assert cycle.budget_cents == 250_000_00
    assert [d.name_fr for d in cycle.districts] == ["Secteur du Port"]
    assert [c.slug for c in cycle.categories] == ["crisis-response"]
    assert cycle.max_projects == 3 and cycle.allow_revision
    assert cycle.proposals_start_at.tzinfo is not None
    assert local(cycle.proposals_start_at) == cycle_form()["proposals_start_at"]
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert (entry.action, entry.actor_label, entry.after["budget_cents"]) == (
        "cycle.create",
        "staff@example.org",
        250_000_00,
    )
    followed = client.get(response.headers["Location"])
    assert "The cycle “Harbour Safety 2027” was created." in followed.text


@pytest.mark.parametrize(
    ("text", "cents"),
    [("250000.00", 250_000_00), ("$1,234,567.89", 1_234_567_89), ("1 234 567,89", 1_234_567_89)],
)
def test_money_is_read_in_both_styles(client, staff, session, text, cents):
    assert client.post("/staff/cycles/new", data=cycle_form(budget=text)).status_code == 302
    assert session.scalars(select(Cycle)).one().budget_cents == cents


def test_a_budget_per_district(client, staff, session):
    data = cycle_form(
        **{
            "budget_mode": "district",
            "budget": "",
            "districts-0-budget": "150 000,00",
            "districts-1-name_en": "Old Mill",
            "districts-1-name_fr": "Vieux-Moulin",
            "districts-1-budget": "100000",
        }
    )
    assert client.post("/staff/cycles/new", data=data).status_code == 302
    cycle = session.scalars(select(Cycle)).one()
    assert cycle.budget_cents is None
    assert [(d.name_en, d.budget_cents) for d in cycle.districts] == [
        ("Harbourfront", 150_000_00),
        ("Old Mill", 100_000_00),
    ]


def test_a_district_without_its_budget_is_an_error_on_its_row(client, staff, session):
    data = cycle_form(budget_mode="district", budget="", **{"districts-0-budget": "lots"})
    page = client.post("/staff/cycles/new", data=data)
    assert page.status_code == 200
    assert 'id="districts-0-budget-error"' in page.text
    assert "District 1, Budget of this district: Give an amount in dollars and cents" in page.text
    assert session.scalar(select(func.count()).select_from(Cycle)) == 0


def test_phase_dates_out_of_order_are_shown_on_the_field(client, staff, session):
    data = cycle_form()
    data["voting_start_at"] = data["review_start_at"]
    page = client.post("/staff/cycles/new", data=data)
    assert page.status_code == 200
    assert 'id="voting_start_at-error"' in page.text
    assert "“Voting” must start when “Deliberation and review” ends, or later." in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'href="#voting_start_at"' in page.text  # the error summary links to the field
    assert session.scalar(select(func.count()).select_from(Cycle)) == 0


def test_an_end_before_the_start_is_an_error(client, staff):
    data = cycle_form()
    data["proposals_end_at"] = data["proposals_start_at"]
    page = client.post("/staff/cycles/new", data=data)
    assert "“Proposal submission” must end after it starts." in page.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Canada/Nowhere"}, "Give a time zone name from the IANA database"),
        ({"budget": ""}, "Give the budget, e.g. 250000.00 or 250 000,00."),
        ({"budget": "12.345.6"}, "Give an amount in dollars and cents"),
        ({"ballot_type": "cumulative"}, "A cumulative ballot needs the number of points each voter spreads."),
        ({"ballot_type": "ranked", "max_projects": ""}, "A ranked ballot needs the number of projects"),
        ({"min_projects": "4"}, "The minimum cannot be more than the maximum."),
        (
            {"ballot_type": "ranked", "ranking_length": "3", "tally_rule": "phragmen"},
            "The rule “Phragmén: voters earn money at the same rate” does not count ranked ballots",
        ),
        ({"slug": "Harbour 2027"}, "Use lower-case letters, digits and hyphens only"),
        ({"proposals_start_at": "tomorrow"}, "Not a valid datetime value."),
        ({"categories-0-name_fr": ""}, "Category 1, Name in French: Give the name in both languages."),
    ],
)
def test_invalid_settings_are_explained(client, staff, session, overrides, message):
    page = client.post("/staff/cycles/new", data=cycle_form(**overrides))
    assert page.status_code == 200
    assert message in page.text
    assert session.scalar(select(func.count()).select_from(Cycle)) == 0


def test_the_tie_break_seed_is_drawn_when_the_cycle_is_created(client, staff, session):
    client.post("/staff/cycles/new", data=cycle_form())
    client.post("/staff/cycles/new", data=cycle_form(slug="harbour-2028"))
    seeds = {cycle.tie_break_seed for cycle in session.scalars(select(Cycle))}
    assert len(seeds) == 2  # a clash has odds of one in two billion


# --- Editing --------------------------------------------------------------------------------------


def test_edit_form_shows_the_current_settings(client, staff, make_cycle):
    cycle = make_cycle()
    page = client.get(f"/staff/cycles/{cycle.slug}/edit").text
    assert 'value="100000.00"' in page
    assert f'value="{local(cycle.voting_start_at)}"' in page
    assert 'value="Nord"' in page
    assert 'id="districts-4-name_en"' in page  # two districts and three blank rows
    assert "Remove this district" in page


def test_edit_a_cycle_records_before_and_after(client, staff, session, make_cycle):
    cycle = make_cycle()
    data = edit_form(
        cycle,
        name_en="Renamed cycle",
        **{
            "categories-1-name_en": "Victim support",
            "categories-1-name_fr": "Soutien aux victimes",
            "districts-1-remove": "y",
        },
    )
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=data)
    assert response.status_code == 302, response.text
    session.expire_all()
    assert cycle.name_en == "Renamed cycle"
    assert [d.name_en for d in cycle.districts] == ["North"]
    assert [c.name_en for c in cycle.categories] == ["Youth programs", "Victim support"]
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.action == "cycle.update"
    assert entry.before["name_en"] == "Test cycle" and entry.after["name_en"] == "Renamed cycle"
    assert len(entry.before["districts"]) == 2 and len(entry.after["districts"]) == 1
    assert set(entry.after) == {"name_en", "districts", "categories"}
    assert verify_chain(session).intact


def test_an_edit_from_a_stale_page_is_refused_and_changes_nothing(client, staff, session, make_cycle):
    cycle = make_cycle()
    opened = edit_form(cycle, name_en="Second editor's name")
    assert 'name="version" type="hidden" value="1"' in client.get(f"/staff/cycles/{cycle.slug}/edit").text
    first = client.post(f"/staff/cycles/{cycle.slug}/edit", data=edit_form(cycle, name_en="First editor's name"))
    assert first.status_code == 302
    count = audit_count(session)
    for version in (opened["version"], "", "not-a-number"):
        page = client.post(f"/staff/cycles/{cycle.slug}/edit", data={**opened, "version": version})
        assert page.status_code == 200
        assert "Someone changed this cycle since you opened it, so nothing was saved." in page.text
    session.expire_all()
    assert cycle.name_en == "First editor's name" and cycle.version == 2
    assert audit_count(session) == count


def test_saving_without_changes_records_nothing(client, staff, session, make_cycle):
    cycle = make_cycle()
    count = audit_count(session)
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=edit_form(cycle), follow_redirects=True)
    assert "Nothing was changed." in response.text
    assert audit_count(session) == count


def test_ballot_settings_are_frozen_once_voting_has_opened(client, staff, session, make_cycle):
    cycle = make_cycle(phase="voting")
    count = audit_count(session)
    page = client.get(f"/staff/cycles/{cycle.slug}/edit")
    assert "Voting has opened." in page.text
    data = edit_form(
        cycle, name_en="Renamed", ballot_type="cumulative", points_per_voter="10", tally_rule="mes"
    )
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=data)
    assert response.status_code == 200
    assert "Voting has opened, so the ballot settings" in response.text
    assert "Nothing was saved." in response.text
    assert 'id="ballot_type-error"' in response.text and 'id="tally_rule-error"' in response.text
    session.expire_all()
    assert (cycle.name_en, cycle.ballot_type.value, cycle.tally_rule) == ("Test cycle", "approval", "greedy")
    assert audit_count(session) == count


def test_budget_is_frozen_once_voting_has_opened(client, staff, session, make_cycle):
    cycle = make_cycle(phase="voting")
    response = client.post(f"/staff/cycles/{cycle.slug}/edit", data=edit_form(cycle, budget="5.00"))
    assert 'id="budget-error"' in response.text
    session.expire_all()
    assert cycle.budget_cents == 100_000_00


def test_names_and_later_dates_may_change_while_voting(client, staff, session, make_cycle):
    cycle = make_cycle(phase="voting")
    later = local(cycle.results_start_at + timedelta(days=2))
    data = edit_form(cycle, name_fr="Nouveau nom", results_start_at=later)
    assert client.post(f"/staff/cycles/{cycle.slug}/edit", data=data).status_code == 302
    session.expire_all()
    assert cycle.name_fr == "Nouveau nom"
    assert local(cycle.results_start_at) == later


def test_unknown_cycle_is_404(client, staff):
    assert client.get("/staff/cycles/nope/edit").status_code == 404
    assert client.get("/staff/cycles/nope/close-phase").status_code == 404


# --- Closing a phase early ------------------------------------------------------------------------


def test_close_the_current_phase_early(client, staff, session, make_cycle):
    cycle = make_cycle()
    page = client.get(f"/staff/cycles/{cycle.slug}/close-phase")
    assert "“Proposal submission” of “Test cycle” is open now." in page.text
    response = client.post(f"/staff/cycles/{cycle.slug}/close-phase", data={"reason": "Enough proposals."})
    assert response.status_code == 302
    closure = session.scalars(select(PhaseClosure)).one()
    assert (closure.phase, closure.reason) == (Phase.PROPOSALS, "Enough proposals.")
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.action == "cycle.close_phase"
    assert entry.after["reason"] == "Enough proposals."
    session.expire_all()
    assert cycle.phase_state(utcnow()).current is None
    public = client.get(f"/cycles/{cycle.slug}").text
    assert "Closed early on" in public
    assert "Next: Deliberation and review" in public


def test_closing_needs_a_reason(client, staff, session, make_cycle):
    cycle = make_cycle()
    page = client.post(f"/staff/cycles/{cycle.slug}/close-phase", data={"reason": "   "})
    assert page.status_code == 200
    assert 'id="reason-error"' in page.text
    assert session.scalar(select(func.count()).select_from(PhaseClosure)) == 0


def test_nothing_to_close_before_the_first_phase(client, staff, session, make_cycle):
    cycle = make_cycle(phase=None)
    page = client.get(f"/staff/cycles/{cycle.slug}/close-phase")
    assert "No phase of “Test cycle” can be closed now." in page.text
    response = client.post(f"/staff/cycles/{cycle.slug}/close-phase", data={"reason": "Oops"})
    assert "No phase is open now, so there is nothing to close." in response.text
    assert session.scalar(select(func.count()).select_from(PhaseClosure)) == 0


def test_a_finished_cycle_says_voting_is_over_not_open(client, staff, session, make_cycle):
    cycle = make_cycle(phase="results")
    page = client.get(f"/staff/cycles/{cycle.slug}/edit", headers={"Accept-Language": "fr-CA"})
    assert "Le vote est terminé." in page.text
    assert "Le vote est ouvert" not in page.text
    response = client.post(
        f"/staff/cycles/{cycle.slug}/edit", data=edit_form(cycle, tally_rule="mes", tally_utility="cost")
    )
    assert "Voting is over, so the ballot settings" in response.text
    assert "Voting has opened" not in response.text
