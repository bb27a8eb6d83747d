"""The Lakeview demo loads, stays in the right phases, and can be loaded twice."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from pb.commands import cli
from pb.db import utcnow
from pb.demo import load_demo
from pb.models import (
    AuditLogEntry,
    BallotType,
    Cycle,
    EligibilityBasis,
    Participation,
    Phase,
    PhaseTransition,
    Role,
    User,
    VoterEligibility,
    VotingKey,
)
from pb.passwords import verify_password
from pb.services import eligibility, voting
from pb.services.accounts import find_user_by_email
from pb.services.audit import verify_chain
from pb.services.cycles import get_cycle

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_demo_loads_twice_without_duplicates(session):
    sign_ins = load_demo(session, "secret")
    session.commit()
    counts = (count(session, User), count(session, Cycle), count(session, AuditLogEntry))
    assert load_demo(session, "secret") == sign_ins
    session.commit()
    assert (count(session, User), count(session, Cycle), count(session, AuditLogEntry)) == counts
    assert counts[:2] == (12, 5)  # 5 sign-ins and 7 residents who propose; 5 cycles
    assert verify_chain(session).intact


def test_demo_accounts_can_sign_in_with_their_roles(session):
    sign_ins = load_demo(session, "secret")
    session.commit()
    assert {role for role, _email, _password in sign_ins} == {"admin", "staff", "auditor", "delegate", "resident"}
    for role, email, password in sign_ins:
        user = find_user_by_email(session, email)
        assert verify_password(user.password_hash, password)
        assert Role(role) in user.roles


def test_demo_cycles_are_in_their_phases(session):
    load_demo(session, "secret")
    session.commit()
    now = utcnow()
    current = session.scalars(select(Cycle).where(Cycle.slug == "lakeview-2026")).one()
    past = session.scalars(select(Cycle).where(Cycle.slug == "lakeview-2025")).one()
    assert current.phase_state(now).current is Phase.PROPOSALS
    assert current.has_district_budgets and current.total_budget_cents == 1_000_000_00
    assert [d.name("fr_CA") for d in current.districts][:2] == ["Secteur du Port", "Porte-du-Nord"]
    assert len(current.categories) == 5
    assert past.phase_state(now).current is Phase.RESULTS
    assert past.results_start_at < now
    assert past.budget_cents == 500_000_00


def test_demo_pages_render(client, session):
    load_demo(session, "secret")
    session.commit()
    home = client.get("/", headers={"Accept-Language": "fr-CA"})
    assert "Budget participatif de sécurité communautaire de Lakeview 2026" in home.text
    page = client.get("/cycles/lakeview-2026", headers={"Accept-Language": "en-CA"})
    assert page.status_code == 200
    assert "$1,000,000.00" in page.text
    assert "Harbourfront" in page.text


def test_the_demo_command_refuses_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code != 0
    assert "never runs in production" in result.output


def test_the_demo_command_prints_the_sign_ins_and_the_voter_codes(runner, tmp_path):
    codes_file = tmp_path / "instance" / "demo-codes.txt"
    result = runner.invoke(cli, ["demo", "--codes-file", str(codes_file)])
    assert result.exit_code == 0, result.output
    assert "admin@lakeview.example.org" in result.output
    codes = CODE.findall(result.output)
    assert len(codes) == 20 and len(set(codes)) == 20  # 10 for each cycle in voting
    assert codes == CODE.findall(codes_file.read_text())
    assert "http://127.0.0.1:5000/cycles/safer-nights-2026/vote" in result.output
    assert "http://127.0.0.1:5000/cycles/youth-priorities-2026/vote" in result.output
    # Run again: nothing new, the same codes printed from the file.
    again = runner.invoke(cli, ["demo", "--codes-file", str(codes_file)])
    assert again.exit_code == 0, again.output
    assert CODE.findall(again.output) == codes
    # The file lost: those codes are voided and new ones made.
    codes_file.unlink()
    fresh = runner.invoke(cli, ["demo", "--codes-file", str(codes_file)])
    assert fresh.exit_code == 0, fresh.output
    assert len(set(CODE.findall(fresh.output)) - set(codes)) == 20


def test_the_demo_codes_open_ballots_and_the_resident_may_vote(app, client, runner, session, tmp_path):
    codes_file = tmp_path / "demo-codes.txt"
    assert runner.invoke(cli, ["demo", "--codes-file", str(codes_file)]).exit_code == 0
    knapsack_code, ranked_code = CODE.findall(codes_file.read_text())[::10]
    safer, youth = get_cycle(session, "safer-nights-2026"), get_cycle(session, "youth-priorities-2026")
    for cycle, code in ((safer, knapsack_code), (youth, ranked_code)):
        assert eligibility.code_voter(session, cycle, code).district_id == (
            cycle.districts[3].id if cycle.districts else None  # the knapsack cycle's first codes: Riverside
        )
        response = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})  # answered with the ballot
        assert response.status_code == 200 and f"ballot-{cycle.ballot_type.value}" in response.text, response.text
        ballot = client.get(f"/cycles/{cycle.slug}/ballot")
        assert ballot.status_code == 200 and f"ballot-{cycle.ballot_type.value}" in ballot.text
    resident = app.test_client()
    signed_in = resident.post(
        "/account/sign-in", data={"email": "resident@lakeview.example.org", "password": "lakeview-demo-resident"}
    )
    assert signed_in.status_code in (302, 303)
    for cycle in (safer, youth):
        assert "You can vote in this cycle." in resident.get(f"/cycles/{cycle.slug}/vote").text


def test_demo_voting_cycles_are_open_with_ballots_cast(session):
    load_demo(session, "secret")
    session.commit()
    now = utcnow()
    safer, youth = get_cycle(session, "safer-nights-2026"), get_cycle(session, "youth-priorities-2026")
    assert safer.ballot_type is BallotType.KNAPSACK and youth.ballot_type is BallotType.RANKED
    for cycle, counted, entries in ((safer, 8, 9), (youth, 5, 5)):
        assert voting.voting_open(cycle, now)
        assert session.scalar(
            select(func.count()).select_from(PhaseTransition).where(
                PhaseTransition.cycle_id == cycle.id, PhaseTransition.phase == Phase.VOTING
            )
        ) == 1
        assert session.get(VotingKey, cycle.id) is not None  # the slot key exists: voting was entered
        state = voting.log_state(session, cycle)
        assert (state.counted, state.head.count) == (counted, entries)  # one knapsack ballot was revised
        assert voting.verify_log(session, cycle).intact
        assert voting.counted_ballots(session, cycle) == counted
    projects = voting.ballot_projects(session, safer, None)
    assert len(projects) == 10 and {p.district_id is None for p in projects} == {True, False}
    assert all(p.title_fr and p.description_fr for p in projects)
    riverside = voting.ballot_projects(session, safer, safer.districts[3].id)
    assert {p.district_id for p in riverside} == {None, safer.districts[3].id}
    resident = find_user_by_email(session, "resident@lakeview.example.org")
    for cycle in (safer, youth):
        voter = eligibility.account_voter(session, cycle, resident)
        assert voter is not None and not session.scalar(
            select(Participation.id).where(Participation.voter == voter.ref)
        )
    basis = session.scalars(select(VoterEligibility.basis).where(VoterEligibility.user_id == resident.id)).all()
    assert basis == [EligibilityBasis.IN_PERSON] * 2
    load_demo(session, "secret")  # again: nothing cast twice
    session.commit()
    assert voting.log_state(session, safer).head.count == 9


def test_the_demo_cycle_page_shows_the_ballot_count(client, session):
    load_demo(session, "secret")
    session.commit()
    safer = get_cycle(session, "safer-nights-2026")
    page = client.get("/cycles/safer-nights-2026", headers={"Accept-Language": "en-CA"})
    assert "8 ballots count so far." in page.text
    assert voting.log_state(session, safer).head.hash in page.text
    assert "/cycles/safer-nights-2026/vote" in page.text


def test_demo_proposals_cover_every_status_in_both_languages(session):
    from pb.models import Proposal, ProposalStatus
    from pb.services.cycles import get_cycle

    load_demo(session, "secret")
    session.commit()
    lakeview = get_cycle(session, "lakeview-2026")
    proposals = session.scalars(select(Proposal).where(Proposal.cycle_id == lakeview.id)).all()
    assert len(proposals) >= 25
    statuses = {p.status for p in proposals}
    assert statuses == set(ProposalStatus)
    assert sum(p.support_count for p in proposals) > 50 and sum(p.comment_count for p in proposals) > 10
    assert {p.language for p in proposals} == {"en", "fr"}
    assert all(step.at <= utcnow() for p in proposals for step in p.history)
    merged = next(p for p in proposals if p.status is ProposalStatus.MERGED)
    assert merged.merged_into is not None and merged.merged_into.cycle_id == lakeview.id
    deliberating = get_cycle(session, "northgate-youth-2026")
    assert deliberating.phase_state(utcnow()).current is Phase.REVIEW
    assert session.scalar(select(func.count(Proposal.id)).where(Proposal.cycle_id == deliberating.id)) >= 4


def test_demo_decided_proposals_have_their_confirmed_reviews(session):
    from pb.models import Proposal, ProposalStatus, Review

    load_demo(session, "secret")
    session.commit()
    decided = session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.status.in_((ProposalStatus.FEASIBLE, ProposalStatus.NOT_FEASIBLE, ProposalStatus.ON_BALLOT))
        )
    )
    reviews = session.scalars(select(Review)).all()
    assert decided and len(reviews) == decided
    assert all(r.is_confirmed for r in reviews)
    assert all(r.public_reason for r in reviews if r.feasibility == "not_feasible")
    load_demo(session, "secret")
    session.commit()
    assert count(session, Review) == decided


def test_the_finished_demo_cycle_has_simulated_ballots_and_a_published_result(session):
    import json

    from pb import demo_results
    from pb.models import Ballot, BallotStatus
    from pb.services import results

    load_demo(session, "secret")
    session.commit()
    past = get_cycle(session, "lakeview-2025")
    result = results.current_result(session, past)
    assert result is not None and result.counted == demo_results.PAST_BALLOTS  # tests run a small vote
    counted = session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.cycle_id == past.id, Ballot.status == BallotStatus.COUNTED)
    )
    assert counted == result.counted and voting.verify_log(session, past).intact
    [count] = json.loads(result.outcome)["counts"]
    assert count["outcome"]["selected"] and count["outcome"]["rule"] == "greedy"
    # Simulated preferences are not uniform: the most supported project has far more votes than the least.
    supporters = sorted(r["supporters"] for r in count["outcome"]["rounds"])
    assert supporters[-1] > 2 * max(1, supporters[0])
    load_demo(session, "secret")  # again: nothing simulated twice
    assert results.current_result(session, past) == result
