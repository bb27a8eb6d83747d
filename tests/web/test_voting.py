"""The residents' voting pages: a code or a confirmed account opens the ballot, a review step, casting,
the receipt, revision, the limits' messages with the choices kept, and the receipt check after close."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.models import Ballot, BallotStatus, EligibilityBasis, Participation
from pb.services import eligibility
from pb.voter_codes import display
from tests.factories import create_account, make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


def at(app, moment):
    app.extensions["pb.clock"] = lambda: moment


@pytest.fixture
def vote(app, session, staff, now_minute):
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now_minute, ballot_type="knapsack", min_projects=1
    )
    at(app, during)
    return cycle, projects, during


@pytest.fixture
def now_minute():
    from pb.db import utcnow

    return utcnow().replace(second=0, microsecond=0)


def code_for(session, staff, cycle, during, district=0):
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[district].id, "", during)
    session.commit()
    return batch.codes[0]


def hidden_nonce(html: str) -> str:
    match = re.search(r'<input[^>]*name="nonce"[^>]*>', html)
    return re.search(r'value="([^"]+)"', match.group(0)).group(1)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_code_opens_the_ballot_and_the_vote_is_cast_after_review(client, session, staff, vote):
    cycle, projects, during = vote
    code = code_for(session, staff, cycle, during)
    start = client.get(f"/cycles/{cycle.slug}/vote")
    assert start.status_code == 200 and "Vote with a voter code" in start.text
    # The code's answer is the ballot itself (no redirect: one request fewer); its form posts to the ballot.
    ballot = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": display(code).lower()})
    assert ballot.status_code == 200 and "Review my ballot" in ballot.text
    assert f'action="/cycles/{cycle.slug}/ballot"' in ballot.text
    # A district-0 voter sees their district's projects and the city-wide one, not the other district's.
    assert projects[0].title_en in ballot.text and projects[2].title_en in ballot.text
    assert projects[1].title_en not in ballot.text
    assert client.get(f"/cycles/{cycle.slug}/ballot").status_code == 200  # and the ballot's own address
    again = client.get(f"/cycles/{cycle.slug}/vote/code")  # the code's address opened from the history
    assert again.status_code == 303 and again.location.endswith(f"/cycles/{cycle.slug}/ballot")
    nonce = hidden_nonce(ballot.text)
    chosen = [str(projects[0].id), str(projects[3].id)]
    review = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": chosen, "action": "review"})
    assert review.status_code == 200 and "Review your ballot" in review.text and "Cast my ballot" in review.text
    assert count(session, Ballot) == 0  # reviewing casts nothing
    # The cast's answer is the confirmation with the receipt; the receipt page shows it again.
    cast = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": chosen, "action": "cast"})
    receipt = session.scalar(select(Ballot.receipt))
    shown = "-".join(receipt[i : i + 4] for i in range(0, 16, 4))
    assert cast.status_code == 200 and "Your ballot was cast and will be counted." in cast.text and shown in cast.text
    done = client.get(f"/cycles/{cycle.slug}/ballot/cast")
    assert "Your ballot was cast and will be counted." in done.text and shown in done.text
    # The code is forgotten on this device after casting; the cast form sent again (a reload of the
    # confirmation) finds the receipt page and writes nothing.
    assert client.get(f"/cycles/{cycle.slug}/ballot").status_code == 302
    reload = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": chosen, "action": "cast"})
    assert reload.status_code == 303 and reload.location.endswith(f"/cycles/{cycle.slug}/ballot/cast")
    # With the code entered again, a double click sends the form again: the same receipt, nothing written.
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})
    again = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": chosen, "action": "cast"})
    assert again.status_code == 200 and shown in again.text
    assert count(session, Ballot) == 1 and count(session, Participation) == 1


def test_a_broken_limit_names_the_rule_and_keeps_the_choices(client, session, staff, vote):
    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    # 40,000 + 50,000 + 20,000 = 110,000 > the 100,000 budget.
    chosen = [str(projects[0].id), str(projects[2].id), str(projects[3].id)]
    page = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": chosen, "action": "review"})
    assert page.status_code == 200 and "error-summary" in page.text
    assert "100,000" in page.text  # the message names the budget
    for project_id in chosen:
        assert re.search(rf'value="{project_id}"[^>]*checked', page.text)
    blank = client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "action": "cast"})
    assert "at least 1" in blank.text and count(session, Ballot) == 0


def test_without_javascript_the_update_button_shows_the_total(client, session, staff, vote):
    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    page = client.post(
        f"/cycles/{cycle.slug}/ballot",
        data={"nonce": nonce, "project": [str(projects[0].id)], "action": "update"},
    )
    assert "Chosen: $40,000.00 of $100,000.00. Left: $60,000.00." in page.text


def test_a_confirmed_account_votes_revises_and_the_last_ballot_counts(client, session, staff, vote, log_in):
    cycle, projects, during = vote
    user = create_account(session, "ana@example.org")
    eligibility.confirm_voter(
        session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[0].id,
        note="Lease", birth_date=None, citizen=True, now=during,
    )
    session.commit()
    log_in(user)
    assert "You can vote in this cycle." in client.get(f"/cycles/{cycle.slug}/vote").text
    for project in (projects[0], projects[2]):
        nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
        response = client.post(
            f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": [str(project.id)], "action": "cast"}
        )
        assert response.status_code == 200 and "Your receipt" in response.text
    assert "It replaces your earlier one" in response.text
    assert "It replaces your earlier one" in client.get(f"/cycles/{cycle.slug}/ballot/cast").text
    assert "You have voted" in client.get(f"/cycles/{cycle.slug}/vote").text
    session.expire_all()
    statuses = sorted(s.value for s in session.scalars(select(Ballot.status)))
    assert statuses == [BallotStatus.COUNTED.value, BallotStatus.REPLACED.value]


def test_wrong_codes_are_refused_and_rate_limited(client, session, staff, vote):
    cycle, projects, during = vote
    code = code_for(session, staff, cycle, during)
    wrong = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": "ABCD-EFGH-JKMN-PQRS"})
    assert wrong.status_code == 422 and "not valid for this vote" in wrong.text
    statuses = [
        client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": "ZZZZ-ZZZZ-ZZZZ-ZZZ" + str(i % 8 + 2)}).status_code
        for i in range(30)
    ]
    assert 429 in statuses
    # Once limited, even the right code waits (a guesser cannot tell a right code by the answer).
    assert client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code}).status_code == 429


def test_a_form_loaded_before_close_is_refused_after_it(app, client, session, staff, vote):
    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    at(app, cycle.voting_end_at + timedelta(seconds=1))
    response = client.post(
        f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": [str(projects[0].id)], "action": "cast"}
    )
    assert response.status_code == 302 and count(session, Ballot) == 0


def test_the_receipt_check_opens_when_voting_is_over(app, client, session, staff, vote):
    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": [str(projects[0].id)], "action": "cast"})
    receipt = session.scalar(select(Ballot.receipt))
    early = client.post(f"/cycles/{cycle.slug}/receipt", data={"receipt": receipt})
    assert "once voting is over" in early.text and "was counted" not in early.text
    at(app, cycle.voting_end_at + timedelta(minutes=5))
    counted = client.post(f"/cycles/{cycle.slug}/receipt", data={"receipt": receipt.upper()})
    assert "This ballot was counted." in counted.text
    unknown = client.post(f"/cycles/{cycle.slug}/receipt", data={"receipt": "0" * 16})
    assert "No ballot of this vote has this receipt" in unknown.text
    bad = client.post(f"/cycles/{cycle.slug}/receipt", data={"receipt": "xyz"})
    assert bad.status_code == 200 and "16 characters" in bad.text


def test_the_pages_are_in_french(client, session, staff, vote):
    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    page = client.get(f"/cycles/{cycle.slug}/ballot", headers={"Accept-Language": "fr-CA"})
    assert "Votre bulletin" in page.text and projects[0].title_fr in page.text


@pytest.mark.parametrize("kind", ["ranked", "cumulative", "approval"])
def test_every_ballot_type_casts(client, session, staff, now_minute, app, kind):
    limits = {"ranked": {"ranking_length": 3}, "cumulative": {"points_per_voter": 10}, "approval": {}}[kind]
    cycle, projects, during = make_voting_cycle(session, staff, now=now_minute, ballot_type=kind, **limits)
    at(app, during)
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    page = client.get(f"/cycles/{cycle.slug}/ballot")
    nonce = hidden_nonce(page.text)
    data = {"nonce": nonce, "action": "review"}
    if kind == "ranked":
        assert f'name="rank-{projects[0].id}"' in page.text
        data |= {f"rank-{projects[2].id}": "1", f"rank-{projects[0].id}": "2"}
    elif kind == "cumulative":
        data |= {f"points-{projects[2].id}": "7", f"points-{projects[0].id}": "3"}
    else:
        data |= {"project": [str(projects[0].id), str(projects[2].id)]}
    review = client.post(f"/cycles/{cycle.slug}/ballot", data=data)
    assert "Cast my ballot" in review.text
    if kind == "ranked":
        assert review.text.index(projects[2].title_en) < review.text.index(projects[0].title_en)
    cast = client.post(f"/cycles/{cycle.slug}/ballot", data={**data, "action": "cast"})
    assert cast.status_code == 200 and "Your ballot was cast and will be counted." in cast.text
    assert count(session, Ballot) == 1
    if kind == "ranked":
        duplicate = {**data, f"rank-{projects[3].id}": "1", "action": "review"}
        client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
        assert "error-summary" in client.post(f"/cycles/{cycle.slug}/ballot", data=duplicate).text


def test_the_cycle_page_shows_the_count_and_the_log_head_and_seals_after_the_end(app, client, session, staff, vote):
    from pb.models import VotingKey
    from pb.services import voting

    cycle, projects, during = vote
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": [str(projects[0].id)], "action": "cast"})
    page = client.get(f"/cycles/{cycle.slug}")
    head = voting.log_state(session, cycle).head
    assert "1 ballot counts so far." in page.text and str(head) in page.text
    assert f'href="/cycles/{cycle.slug}/vote"' in page.text
    at(app, cycle.voting_end_at + timedelta(minutes=1))
    closed = client.get(f"/cycles/{cycle.slug}")
    assert "Voting is over: 1 ballot counts." in closed.text
    session.expire_all()
    assert session.get(VotingKey, cycle.id) is None and voting.log_state(session, cycle).closed


def test_a_whole_voting_flow_leaves_no_code_choice_or_receipt_in_the_logs(client, session, staff, vote, caplog):
    cycle, projects, during = vote
    caplog.set_level("DEBUG")
    code = code_for(session, staff, cycle, during)
    client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": display(code)})
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    chosen = {"nonce": nonce, "project": [str(projects[3].id)]}
    client.post(f"/cycles/{cycle.slug}/ballot", data={**chosen, "action": "review"})
    client.post(f"/cycles/{cycle.slug}/ballot", data={**chosen, "action": "cast"})
    receipt = session.scalar(select(Ballot.receipt))
    assert receipt and code not in caplog.text and display(code) not in caplog.text
    assert receipt not in caplog.text and projects[3].title_en not in caplog.text


JUNK = ["", " ", "\t", "-1", "+1", "1.5", "1e3", "٣", "0x10", "9" * 100, "x" * 100_000, "\u202e", "1\x0b", "é", "null", "[]"]


@pytest.mark.parametrize("kind", ["knapsack", "ranked", "cumulative"])
def test_junk_in_every_voting_field_is_refused_without_a_server_error_or_a_write(
    client, session, staff, now_minute, app, kind, log_in
):
    limits = {"ranked": {"ranking_length": 3}, "cumulative": {"points_per_voter": 10}, "knapsack": {}}[kind]
    cycle, projects, during = make_voting_cycle(session, staff, now=now_minute, ballot_type=kind, **limits)
    at(app, during)
    for value in JUNK:
        assert client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": value}).status_code in (400, 422, 429)
    user = create_account(session, "ana@example.org")
    eligibility.confirm_voter(
        session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[0].id,
        note="Lease", birth_date=None, citizen=True, now=during,
    )
    session.commit()
    log_in(user)
    nonce = hidden_nonce(client.get(f"/cycles/{cycle.slug}/ballot").text)
    field = {"knapsack": "project", "ranked": f"rank-{projects[0].id}", "cumulative": f"points-{projects[0].id}"}[kind]
    for value in JUNK:
        for action in ("review", "cast", "update"):
            for data in ({"nonce": nonce, field: value, "action": action}, {"nonce": value, field: "1", "action": action},
                         {"nonce": nonce, f"{field}-{value}"[:200]: "1", "action": action}):
                response = client.post(f"/cycles/{cycle.slug}/ballot", data=data)
                assert response.status_code in (200, 303, 400), (data, response.status_code)
        assert client.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "action": value}).status_code == 400
        assert client.post(f"/cycles/{cycle.slug}/receipt", data={"receipt": value}).status_code == 200
    session.expire_all()
    counted = session.scalar(select(func.count()).select_from(Ballot).where(Ballot.status == BallotStatus.COUNTED))
    assert counted <= 1 and count(session, Participation) <= 1  # blank or "1" may be valid: one voter, one ballot


def test_the_ballot_page_runs_the_same_few_queries_with_4_projects_or_24(client, session, staff, now_minute, app, query_counter):
    many = [(f"Project {n}", n % 2, 1_000 + n) for n in range(24)]
    pages = []
    for slug, projects in (("few-projects", None), ("many-projects", many)):
        extra = {} if projects is None else {"projects": projects}
        cycle, _, during = make_voting_cycle(session, staff, now=now_minute, slug=slug, **extra)
        at(app, during)
        client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
        client.get(f"/cycles/{cycle.slug}/ballot")  # the first view records nothing more, but warms caches
        with query_counter() as statements:
            assert client.get(f"/cycles/{cycle.slug}/ballot").status_code == 200
        pages.append(statements)
    # The cycle and the code: the frozen configuration and projects are the process's, and a code's row
    # says whether it has voted.
    assert len(pages[0]) == len(pages[1]) <= 2, "\n\n".join(pages[1])


def test_a_code_that_voted_opens_the_ballot_again_to_change_it(client, session, staff, vote):
    cycle, projects, during = vote  # revision allowed
    code = code_for(session, staff, cycle, during)
    ballot = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})
    assert "You have voted already" not in ballot.text
    first = {"nonce": hidden_nonce(ballot.text), "project": [str(projects[0].id)], "action": "cast"}
    assert "Your receipt" in client.post(f"/cycles/{cycle.slug}/ballot", data=first).text
    again = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})
    assert "You have voted already" in again.text
    second = {"nonce": hidden_nonce(again.text), "project": [str(projects[3].id)]}
    review = client.post(f"/cycles/{cycle.slug}/ballot", data={**second, "action": "review"})
    assert "Casting this ballot replaces your earlier one" in review.text
    cast = client.post(f"/cycles/{cycle.slug}/ballot", data={**second, "action": "cast"})
    assert "It replaces your earlier one, which will not be counted." in cast.text
    session.expire_all()
    assert sorted(s.value for s in session.scalars(select(Ballot.status))) == ["counted", "replaced"]


def test_each_request_of_the_flow_runs_few_queries_and_the_log_head_is_locked_last(
    app, session, staff, vote, query_counter
):
    cycle, projects, during = vote
    chosen = [str(projects[0].id), str(projects[3].id)]

    def flow() -> dict[str, list[str]]:
        client = app.test_client()  # a new visitor
        code = code_for(session, staff, cycle, during)
        steps = {}
        with query_counter() as steps["start page"]:
            client.get(f"/cycles/{cycle.slug}/vote")
        with query_counter() as steps["code, answered with the ballot"]:
            ballot = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})
        form = {"nonce": hidden_nonce(ballot.text), "project": chosen}
        with query_counter() as steps["review"]:
            assert "Cast my ballot" in client.post(f"/cycles/{cycle.slug}/ballot", data={**form, "action": "review"}).text
        with query_counter() as steps["cast, answered with the receipt"]:
            cast = client.post(f"/cycles/{cycle.slug}/ballot", data={**form, "action": "cast"})
            assert "Your receipt" in cast.text
        with query_counter() as steps["the receipt again"]:
            assert "Your receipt" in client.get(f"/cycles/{cycle.slug}/ballot/cast").text
        return steps

    flow()  # the first voter of the process reads the frozen configuration and projects, and the hour's row
    steps = {name: [" ".join(s.split()) for s in statements] for name, statements in flow().items()}
    budgets = {"start page": 1, "code, answered with the ballot": 2, "review": 2,
               "cast, answered with the receipt": 11 if app.extensions["pb.db"].engine.dialect.name == "sqlite" else 7,
               "the receipt again": 1}
    for name, budget in budgets.items():
        assert len(steps[name]) <= budget, (name, steps[name])
    # Casting takes the log head's lock last: after it, only the writes that need the head, then the commit
    # (PostgreSQL: one statement, WITH clauses for the entry, the ballot, the nonce and the hour's count).
    cast = steps["cast, answered with the receipt"]
    lock = next(i for i, s in enumerate(cast) if s.startswith("SELECT") and "FROM ballot_log_heads" in s)
    after = cast[lock + 1 :]
    assert all(s.startswith(("INSERT", "UPDATE", "WITH")) for s in after), after
    assert len(after) == (1 if app.extensions["pb.db"].engine.dialect.name == "postgresql" else 5), after
    for write in ("INSERT INTO ballots", "INSERT INTO ballot_log_entries", "UPDATE ballot_log_heads",
                  "UPDATE ballot_nonces", "UPDATE voting_activity"):
        assert any(write in s for s in after), (write, after)


def test_the_ballot_kept_as_fragments_shows_each_voter_their_own_choices_and_language(app, session, staff, vote):
    cycle, projects, during = vote
    first, second = app.test_client(), app.test_client()
    nonce = hidden_nonce(first.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)}).text)
    chosen = first.post(f"/cycles/{cycle.slug}/ballot", data={"nonce": nonce, "project": [str(projects[0].id)], "action": "update"})
    assert re.search(rf'value="{projects[0].id}"[^>]*checked', chosen.text)
    other = second.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code_for(session, staff, cycle, during)})
    assert not re.search(r'type="checkbox"[^>]*checked', other.text) and hidden_nonce(other.text) != nonce
    assert f"About {projects[0].title_en}." in other.text
    french = second.get(f"/cycles/{cycle.slug}/ballot", headers={"Accept-Language": "fr-CA"})
    assert f"À propos : {projects[0].title_en}." in french.text and f"About {projects[0].title_en}." not in french.text
    assert len(app.extensions["pb.fragments"]) > 0  # the labels and details were kept


def test_a_district_renamed_during_voting_shows_its_new_name_on_the_ballot(app, session, staff, vote):
    from dataclasses import replace

    from pb.services.cycles import CycleSettings, get_cycle, update_cycle

    cycle, projects, during = vote
    visitor = app.test_client()
    code = code_for(session, staff, cycle, during)
    before = visitor.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})
    assert cycle.districts[0].name_en in before.text  # in the details of the district's projects
    cycle = get_cycle(session, cycle.slug)
    settings = CycleSettings.from_cycle(cycle)
    renamed = [replace(d, name_en="Renamed North") if d.id == cycle.districts[0].id else d for d in settings.districts]
    assert update_cycle(session, staff, cycle, settings.with_changes(districts=renamed), now=during)
    session.commit()
    # The process keeps the ballot's projects and their fragments; the cycle's version is in their keys.
    after = visitor.get(f"/cycles/{cycle.slug}/ballot")
    assert "Renamed North" in after.text
