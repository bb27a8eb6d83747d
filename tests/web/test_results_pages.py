"""The results pages: nothing public before publication; staff count, publish and correct; residents read it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pb.services import results, voting
from tests.factories import cast_votes, make_voting_cycle

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA"}


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def closed(app, session, staff):
    """A city-wide approval vote with three ballots, closed; the app's clock is after the close."""
    from pb.db import utcnow

    now = utcnow().replace(second=0, microsecond=0)
    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type="approval", slug="lakeview")
    cast_votes(session, staff, cycle, [(projects[0], projects[2]), (projects[2],), (projects[0], projects[3])], during)
    after = cycle.voting_end_at + timedelta(hours=1)
    app.extensions["pb.clock"] = lambda: after
    return cycle, projects, after


def _csrf(client, path: str) -> str:
    """The form's token (the tests run with CSRF checks off, so any value passes)."""
    assert client.get(path, headers=ENGLISH).status_code == 200
    return "token"


def _public_paths(slug: str) -> list[str]:
    return [f"/cycles/{slug}/results", f"/cycles/{slug}", f"/cycles/{slug}/receipt"]


def test_nothing_about_the_count_is_public_before_publication(client, session, staff, closed, log_in):
    cycle, projects, after = closed
    results.draft_result(session, staff, cycle, after)
    session.commit()
    page = client.get("/cycles/lakeview/results", headers=ENGLISH)
    assert page.status_code == 200 and "The results are not published yet." in page.text
    for path in _public_paths("lakeview"):
        text = client.get(path, headers=ENGLISH).text
        assert "Funded in round" not in text and "draft" not in text.lower() and "Round 1" not in text
        assert "Street lighting" not in text
    assert client.get("/cycles/lakeview/ballot-log.jsonl").status_code == 404
    draft = results.pending_draft(session, cycle)
    assert client.get(f"/cycles/lakeview/results/{draft.id}").status_code == 404
    french = client.get("/cycles/lakeview/results", headers=FRENCH).text
    assert "Les résultats ne sont pas encore publiés." in french


def test_staff_count_publish_and_correct(client, session, staff, closed, log_in):
    cycle, projects, after = closed
    log_in(staff)
    page = client.get("/staff/results/lakeview", headers=ENGLISH)
    assert page.status_code == 200 and "Count the ballots" in page.text
    token = _csrf(client, "/staff/results/lakeview")
    response = client.post("/staff/results/lakeview/count", data={"csrf_token": token}, headers=ENGLISH)
    assert response.status_code == 302
    page = client.get("/staff/results/lakeview", headers=ENGLISH).text
    assert "Draft result, seen only by staff." in page
    assert "Round 1: Crisis response team, 2 supporters, $40,000.00, funded; $60,000.00 left." in page
    assert "Count again" in page
    # Still nothing public.
    assert "not published yet" in client.get("/cycles/lakeview/results", headers=ENGLISH).text
    draft = results.pending_draft(session, cycle)
    confirm = client.get("/staff/results/lakeview/publish", headers=ENGLISH)
    assert "cannot be undone" in confirm.text
    token = _csrf(client, "/staff/results/lakeview/publish")
    response = client.post(
        "/staff/results/lakeview/publish", data={"csrf_token": token, "result": str(draft.id)}, headers=ENGLISH
    )
    assert response.status_code == 302 and response.location.endswith("/cycles/lakeview/results")
    session.expire_all()
    first = results.current_result(session, cycle)
    assert first is not None and first.id == draft.id
    public = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    assert "Round 1: Crisis response team, 2 supporters, $40,000.00, funded; $60,000.00 left." in public
    assert "Restorative justice circle" in public and "It did not fit in what was left of the budget ($10,000.00)." in public
    assert 'role="img"' in public and "<title id=" in public
    assert "Fairness at a glance" in public and "The ballot log verifies" in public
    # Correct it.
    token = _csrf(client, "/staff/results/lakeview/correct")
    response = client.post(
        "/staff/results/lakeview/correct", data={"csrf_token": token, "reason": "A cost was entered wrong"}, headers=ENGLISH
    )
    assert response.status_code == 302
    correction = results.pending_draft(session, cycle)
    assert correction.corrects_id == first.id
    token = _csrf(client, "/staff/results/lakeview/publish")
    client.post("/staff/results/lakeview/publish", data={"csrf_token": token, "result": str(correction.id)})
    public = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    assert "A cost was entered wrong" in public and f"/cycles/lakeview/results/{first.id}" in public
    earlier = client.get(f"/cycles/lakeview/results/{first.id}", headers=ENGLISH).text
    assert "This result was corrected." in earlier


def test_non_staff_are_refused(client, session, closed, make_user, log_in):
    for path in ("/staff/results/lakeview", "/staff/results/lakeview/publish", "/staff/results/lakeview/correct"):
        assert client.get(path).status_code == 302  # to sign in
    log_in(make_user("resident@example.org"))
    for path in ("/staff/results/lakeview", "/staff/results/lakeview/publish", "/staff/results/lakeview/correct"):
        assert client.get(path).status_code == 403
    assert client.post("/staff/results/lakeview/count").status_code == 403


def _publish(session, staff, cycle, after):
    results.publish_result(session, staff, results.draft_result(session, staff, cycle, after), after)
    session.commit()


def test_the_ballot_log_is_public_with_the_result(client, session, staff, closed):
    cycle, projects, after = closed
    _publish(session, staff, cycle, after)
    response = client.get("/cycles/lakeview/ballot-log.jsonl")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    lines = response.data.decode().splitlines()
    entries = [json.loads(line) for line in lines]
    head = voting.log_state(session, cycle).head
    assert len(entries) == head.count and entries[-1]["hash"] == head.hash
    assert [e["position"] for e in entries] == list(range(1, head.count + 1))
    assert set(entries[0]) == {"position", "prev_hash", "hash", "payload"}
    from pb.hashchain import canonical_json

    assert lines[0].encode() == canonical_json(entries[0])
    page = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    assert str(head) in page and "/cycles/lakeview/receipt" in page and "/cycles/lakeview/ballot-log.jsonl" in page


def test_the_french_results_page(client, session, staff, closed):
    cycle, projects, after = closed
    _publish(session, staff, cycle, after)
    page = client.get("/cycles/lakeview/results", headers=FRENCH)
    assert page.status_code == 200
    text = page.text
    assert "Tour 1\u00a0:" in text and "Street lighting (fr)" in text
    assert "Équité en un coup d’œil" in text


# The results pages' queries: (path, signed in as staff, the most queries it may run). The first view of a
# result counts the ballots again (the cycle's frozen configuration, projects, ballots, districts) and
# verifies the ballot log; both are kept per process afterwards, and so is the public page's content.
RESULT_PAGES = {
    "public results": ("/cycles/{slug}/results", False, 15),
    "staff draft": ("/staff/results/{slug}", True, 17)  # and the phase transitions due, recorded,
}


@pytest.mark.parametrize("page", list(RESULT_PAGES))
def test_results_pages_run_the_same_queries_with_few_or_many_projects_and_ballots(
    page, app, client, session, staff, log_in, query_counter
):
    from pb.db import utcnow

    path, as_staff, budget = RESULT_PAGES[page]
    now = utcnow().replace(second=0, microsecond=0)
    many_projects = tuple((f"Project {n}", n % 2 if n % 3 else None, 5_000 + 1_000 * n) for n in range(12))
    counts = []
    for slug, projects, voters in (("few", None, 2), ("many", many_projects, 9)):
        extra = {"projects": projects} if projects else {}
        cycle, made, during = make_voting_cycle(session, staff, now=now, ballot_type="approval", slug=slug, **extra)
        north = [p for p in made if p.district_id != cycle.districts[1].id]
        picks = [tuple(north[n % len(north) : n % len(north) + 2]) for n in range(voters)]
        cast_votes(session, staff, cycle, picks, during, prefix=slug)
        after = cycle.voting_end_at + timedelta(hours=1)
        app.extensions["pb.clock"] = lambda after=after: after
        draft = results.draft_result(session, staff, cycle, after)
        if not as_staff:
            results.publish_result(session, staff, draft, after)
        session.commit()
        if as_staff:
            log_in(staff)
        with query_counter() as statements:
            response = client.get(path.format(slug=slug), headers=ENGLISH)
        assert response.status_code == 200 and "Round 1" in response.text
        counts.append(statements)
    few, many = counts
    assert len(few) == len(many), "\n\n".join(many)
    assert len(many) <= budget, "\n\n".join(many)


def test_the_results_page_links_the_signed_election_record(client, session, staff, closed):
    cycle, projects, after = closed
    _publish(session, staff, cycle, after)
    page = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    assert "/cycles/lakeview/record.zip" in page and "Download the signed election record" in page


def test_a_published_result_is_rendered_once_then_served_from_a_few_queries(
    app, client, session, staff, closed, query_counter
):
    """A published result never changes: later views reuse its rendered content, per language, until the
    cycle itself is edited (a new version) or a correction stands."""
    cycle, projects, after = closed
    _publish(session, staff, cycle, after)
    first = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    with query_counter() as statements:
        again = client.get("/cycles/lakeview/results", headers=ENGLISH).text
    assert again == first and "Round 1: Crisis response team" in again
    assert len(statements) <= 3, "\n\n".join(statements)  # the cycle, its standing result's id, the log's head
    french = client.get("/cycles/lakeview/results", headers=FRENCH).text
    assert "Tour 1\u00a0:" in french and "Round 1" not in french
    cycle.name_en = "Lakeview, renamed"
    session.commit()
    assert "Results: Lakeview, renamed" in client.get("/cycles/lakeview/results", headers=ENGLISH).text
