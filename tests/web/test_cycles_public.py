"""The public pages: the list of cycles and a cycle's page, in English and French."""

from __future__ import annotations

import re

from pb.models import BallotType
from pb.services.cycles import CategoryInput, DistrictInput

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}
NBSP = "\u00a0"
NNBSP = "\u202f"


def french_money(text: str) -> str:
    """Babel's fr_CA amounts use no-break spaces; compare with plain ones."""
    return text.replace(NNBSP, " ").replace(NBSP, " ")


def district_cycle(make_cycle, **options):
    return make_cycle(
        budget_cents=None,
        districts=[
            DistrictInput("Harbourfront", "Secteur du Port", 1_000_000_00),
            DistrictInput("Old Mill", "Vieux-Moulin", 234_567_00),
        ],
        categories=[CategoryInput("Restorative justice", "Justice réparatrice")],
        **options,
    )


def test_home_lists_cycles_with_phase_and_dates(client, make_cycle):
    make_cycle(slug="now-open")
    make_cycle(slug="coming", phase=None, name_en="Coming cycle", name_fr="Cycle à venir")
    page = client.get("/", headers=ENGLISH)
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert 'href="/cycles/now-open"' in page.text
    assert "Now: Proposal submission, until" in page.text
    assert "Next: Proposal submission, from" in page.text
    assert "$100,000.00" in page.text
    assert "Coming cycle" in page.text


def test_home_says_when_there_are_no_cycles(client):
    assert "There are no budget cycles yet." in client.get("/", headers=ENGLISH).text


def test_cycle_page_in_english(client, make_cycle):
    cycle = district_cycle(make_cycle)
    page = client.get(f"/cycles/{cycle.slug}", headers=ENGLISH)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Test cycle</h1>" in text
    assert "A cycle for tests." in text
    assert "Each district has its own budget, $1,234,567.00 in all." in text
    assert '<th scope="row">Harbourfront</th><td class="number">$1,000,000.00</td>' in text
    assert "Restorative justice" in text
    assert "Times are in the America/Toronto time zone." in text
    assert re.search(r'<li class="current" aria-current="step">\s*<strong>Proposal submission</strong>', text)
    assert text.count('aria-current="step"') == 1
    assert "Choose every project you support." in text
    assert "You may change your ballot until voting closes; only your last ballot counts." in text
    assert "Most support first, while money remains: projects are funded in order of support" in text
    assert "settled by lot, using the cycle’s public number 1234," in text


def test_cycle_page_in_french(client, make_cycle):
    cycle = district_cycle(make_cycle)
    page = client.get(f"/cycles/{cycle.slug}", headers=FRENCH)
    assert '<html lang="fr-CA">' in page.text
    text = french_money(page.text)
    assert "<h1>Cycle d’essai</h1>" in text
    assert "Un cycle pour les essais." in text
    assert "1 234 567,00 $" in text
    assert "1 000 000,00 $" in text
    assert "Secteur du Port" in text and "Vieux-Moulin" in text
    assert "Justice réparatrice" in text
    assert "Harbourfront" not in text


def test_dates_are_shown_in_the_cycles_time_zone(client, make_cycle):
    from datetime import UTC, datetime

    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    cycle = make_cycle(now=now, timezone="America/Vancouver")
    # Proposals open 5 days before: 2026-06-05 12:00 UTC is 05:00 in Vancouver (UTC-7 in summer).
    assert cycle.proposals_start_at == datetime(2026, 6, 5, 12, 0, tzinfo=UTC)
    english = client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).text
    assert "June 5, 2026, 5:00 a.m." in english.replace(NNBSP, " ")
    assert "Times are in the America/Vancouver time zone." in english
    french = client.get(f"/cycles/{cycle.slug}", headers=FRENCH).text
    assert "5 juin 2026, 5 h" in french_money(french)


def test_single_budget_with_districts(client, make_cycle):
    cycle = make_cycle()
    text = client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).text
    assert "Budget for the whole cycle: $100,000.00." in text
    assert "<li>North</li>" in text


def test_ballot_types_are_explained(client, make_cycle):
    make_cycle(slug="ranked", ballot_type=BallotType.RANKED, ranking_length=3, allow_revision=False)
    make_cycle(
        slug="points",
        ballot_type=BallotType.CUMULATIVE,
        points_per_voter=10,
        max_points_per_project=4,
        tally_rule="mes",
        tally_completion="add1",
        tie_break="id",
    )
    make_cycle(slug="knapsack", ballot_type=BallotType.KNAPSACK, min_budget_share_percent=50)
    ranked = client.get("/cycles/ranked", headers=ENGLISH).text
    assert "Rank up to 3 projects, your favourite first." in ranked
    assert "Once you cast your ballot, you cannot change it." in ranked
    points = client.get("/cycles/points", headers=ENGLISH).text
    assert "Spread 10 points over the projects you support." in points
    assert "You may give at most 4 points to one project." in points
    assert "Equal Shares: each voter gets an equal share of the budget" in points
    assert "the one with the smaller project number goes first" in points
    knapsack = client.get("/cycles/knapsack", headers=ENGLISH).text
    assert "their total cost must fit in the budget of $100,000.00" in knapsack
    assert "at least 50% of the budget" in knapsack


def test_headings_are_in_order(client, make_cycle):
    cycle = district_cycle(make_cycle)
    text = client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).text
    levels = [int(level) for level in re.findall(r"<h([1-6])", text)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(later - earlier <= 1 for earlier, later in zip(levels, levels[1:], strict=False))


def test_unknown_cycle_is_404(client):
    assert client.get("/cycles/no-such-cycle").status_code == 404


def test_a_knapsack_ballot_with_district_budgets_names_the_districts_budget(client, make_cycle):
    district_cycle(make_cycle, ballot_type=BallotType.KNAPSACK, tally_rule="greedy", tally_utility="cost")
    page = client.get("/cycles/test-cycle", headers=ENGLISH).text
    assert "must fit in your district’s budget" in page


def test_the_greedy_explanation_follows_the_measure_of_support(client, make_cycle):
    make_cycle(
        ballot_type=BallotType.CUMULATIVE,
        points_per_voter=10,
        tally_rule="greedy",
        tally_utility="score-cost",
    )
    page = client.get("/cycles/test-cycle", headers=ENGLISH).text
    assert "in order of their total score" in page
    assert "most supported first" not in page


def test_showing_a_cycle_records_the_phase_it_entered(app, client, session, make_cycle, query_counter):
    """A page that shows a cycle records a due phase transition (once), and costs nothing when none is."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from pb.models import Phase, PhaseTransition

    cycle = make_cycle(phase="review")  # voting opens in 5 days
    clock = app.extensions["pb.clock"]

    def transitions() -> list[Phase]:
        session.expire_all()
        return list(session.scalars(select(PhaseTransition.phase).order_by(PhaseTransition.at)))

    assert transitions() == [Phase.PROPOSALS, Phase.REVIEW]
    client.get(f"/cycles/{cycle.slug}", headers=ENGLISH)  # rendered once: the next views reuse it
    with query_counter() as quiet:
        assert client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).status_code == 200
    app.extensions["pb.clock"] = lambda: clock() + timedelta(days=6)
    with query_counter() as due:
        assert client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).status_code == 200
    assert transitions() == [Phase.PROPOSALS, Phase.REVIEW, Phase.VOTING]
    assert len(due) > len(quiet)
    client.get(f"/cycles/{cycle.slug}", headers=ENGLISH)  # the cycle's new version, rendered once
    with query_counter() as again:
        assert client.get(f"/cycles/{cycle.slug}", headers=ENGLISH).status_code == 200
    # Nothing more is recorded; a cycle in voting shows its ballot count and log head (one query more;
    # both views reuse the page rendered before them).
    assert len(again) == len(quiet) + 1 and "ballot_log_heads" in again[-1]
    assert session.scalar(select(func.count()).select_from(PhaseTransition)) == 3
