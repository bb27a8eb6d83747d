"""Open data: projects from the opening of voting, results once published, CSV safe for spreadsheets."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest

from pb.models import EligibilityBasis
from pb.services import eligibility, results, voting
from pb.services.ballot_rules import RawChoices
from pb.services.opendata import neutralised
from tests.factories import create_account, make_voting_cycle

FORMULA = "=HYPERLINK(\"http://evil.example\",\"Click\")"


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def now():
    from pb.db import utcnow

    return utcnow().replace(second=0, microsecond=0)


def test_cells_a_spreadsheet_would_run_are_neutralised():
    assert [neutralised(v) for v in ("=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", "Lamp", 12, None)] == [
        "'=1+1", "'+33", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Lamp", "12", ""
    ]


def test_nothing_before_voting_then_projects_then_results(app, client, session, staff, now, make_cycle):
    make_cycle(slug="still-proposing", phase="proposals")
    projects = (("Lamps", None, 30_000), (FORMULA, None, 20_000), ("-Crisis team", 0, 40_000))
    cycle, made, during = make_voting_cycle(session, staff, now=now, projects=projects, ballot_type="approval")
    app.extensions["pb.clock"] = lambda: during
    page = client.get("/open-data")
    assert "still-proposing" not in page.text and f"{cycle.slug}-projects.csv" in page.text
    assert f"{cycle.slug}-results.csv" not in page.text and "not published yet" in page.text
    assert client.get("/open-data/still-proposing/still-proposing-projects.csv").status_code == 404
    assert client.get(f"/open-data/{cycle.slug}/{cycle.slug}-results.json").status_code == 404
    data = client.get(f"/open-data/{cycle.slug}/{cycle.slug}-projects.csv")
    assert data.status_code == 200 and data.headers["Content-Type"].startswith("text/csv")
    digest = hashlib.sha256(data.data).hexdigest()
    assert digest == data.headers["X-Content-SHA256"] and digest in page.text
    rows = list(csv.DictReader(io.StringIO(data.data.decode("utf-8-sig"))))
    titles = {row["title_en"] for row in rows}
    assert titles == {"Lamps", "'" + FORMULA, "'-Crisis team"}
    document = json.loads(client.get(f"/open-data/{cycle.slug}/{cycle.slug}-projects.json").data)
    assert {p["title_en"] for p in document["projects"]} == {"Lamps", FORMULA, "-Crisis team"}  # JSON as it is

    user = create_account(session, "voter@example.org")
    eligibility.confirm_voter(session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON,
                              district_id=cycle.districts[0].id, note="Lease", birth_date=None, citizen=True, now=during)
    voter = eligibility.account_voter(session, cycle, user)
    voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(made[0].id),)), voting.new_nonce(), during)
    session.commit()
    after = cycle.voting_end_at + timedelta(hours=1)
    draft = results.draft_result(session, staff, cycle, after)
    session.commit()
    app.extensions["pb.clock"] = lambda: after
    assert f"{cycle.slug}-results.csv" not in client.get("/open-data").text  # a draft is never public
    results.publish_result(session, staff, draft, after)
    session.commit()
    assert f"{cycle.slug}-results.csv" in client.get("/open-data").text
    table = list(csv.DictReader(io.StringIO(client.get(f"/open-data/{cycle.slug}/{cycle.slug}-results.csv").data.decode("utf-8-sig"))))
    funded = {row["title_en"]: row["funded"] for row in table}
    assert funded["Lamps"] == "yes"
    full = json.loads(client.get(f"/open-data/{cycle.slug}/{cycle.slug}-results.json").data)
    assert full["ballots_counted"] == 1 and full["ballot_log_head"] == str(voting.log_state(session, cycle).head)


def test_the_page_runs_the_same_queries_with_one_cycle_in_voting_or_four(app, client, session, staff, now, query_counter):
    counts = []
    for number in range(4):
        _, _, during = make_voting_cycle(session, staff, now=now, slug=f"voting-{number}")
        app.extensions["pb.clock"] = lambda during=during: during
        if number in (0, 3):
            client.get("/open-data")
            with query_counter() as statements:
                assert client.get("/open-data").status_code == 200
            counts.append(len(statements))
    assert counts[0] == counts[1] <= 4


def test_the_page_is_in_french(client):
    page = client.get("/open-data", headers={"Accept-Language": "fr-CA"})
    assert "Données ouvertes" in page.text
