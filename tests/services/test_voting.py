"""Casting, revising, voiding and closing: one counted ballot per voter, receipts, the ballot log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from pb import hashchain
from pb.models import (
    AuditLogEntry,
    Ballot,
    BallotLogEntry,
    BallotNonce,
    BallotStatus,
    EligibilityBasis,
    OutboxMail,
    Participation,
    VoterCode,
    VotingKey,
)
from pb.services import eligibility, voting
from pb.services.ballot_rules import RawChoices
from pb.services.errors import DomainError
from pb.voter_codes import display
from tests.factories import PHASE_DAYS, create_account, make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def setup(session, staff, now):
    return make_voting_cycle(session, staff, now=now, ballot_type="approval")


def confirmed(session, staff, cycle, email, when, district=0, **overrides):
    user = create_account(session, email)
    eligibility.confirm_voter(
        session,
        staff,
        cycle,
        user,
        basis=EligibilityBasis.IN_PERSON,
        district_id=cycle.districts[district].id,
        note="Lease shown",
        birth_date=None,
        citizen=True,
        now=when,
    )
    session.commit()
    return eligibility.account_voter(session, cycle, user)


def choose(*projects) -> RawChoices:
    return RawChoices(selected=tuple(str(p.id) for p in projects))


def rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_entering_voting_draws_the_slot_key_and_starts_an_empty_log(session, setup):
    cycle, _, during = setup
    assert session.get(VotingKey, cycle.id) is not None
    state = voting.log_state(session, cycle)
    assert state.counted == 0 and state.head == hashchain.GENESIS and not state.closed


def test_a_cast_ballot_counts_once_with_a_receipt_and_a_log_entry(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    cast = voting.cast_ballot(session, cycle, voter, choose(projects[0], projects[2]), voting.new_nonce(), during)
    session.commit()
    assert len(cast.receipt) == 16 and not cast.replaced and not cast.replayed
    ballot = session.scalar(select(Ballot))
    assert ballot.status is BallotStatus.COUNTED and ballot.receipt == cast.receipt
    assert json.loads(ballot.choices)["projects"] == sorted([projects[0].id, projects[2].id])
    participation = session.scalar(select(Participation))
    assert participation.voter == voter.ref and participation.voted_on == during.date()
    state = voting.log_state(session, cycle)
    assert state.counted == 1 and state.head.count == 1
    entry = session.scalar(select(BallotLogEntry))
    assert entry.hash.startswith(cast.receipt)
    payload = json.loads(entry.payload)
    assert payload["kind"] == "cast" and payload["ballot"] == ballot.id and "voter" not in payload
    assert voting.verify_log(session, cycle).intact
    assert voting.check_receipt(session, cycle, voting.format_receipt(cast.receipt)).status is voting.ReceiptStatus.COUNTED
    assert rows(session, OutboxMail) == 0  # no mail in casting order: the hourly batch sends it


def test_confirmations_go_out_in_hourly_shuffled_batches_without_receipt_or_choices(session, setup, staff, app):
    cycle, projects, during = setup
    factory = app.extensions["pb.db"].session_factory
    voters = [confirmed(session, staff, cycle, f"v{n}@example.org", during) for n in range(6)]
    receipts = [
        voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during).receipt
        for voter in voters
    ]
    session.commit()
    assert voting.send_confirmations(factory, during) == 6
    assert voting.send_confirmations(factory, during + timedelta(minutes=30)) == 0  # not before the hour
    session.expire_all()
    mails = session.scalars(select(OutboxMail)).all()
    assert sorted(m.recipient for m in mails) == sorted(f"v{n}@example.org" for n in range(6))
    assert {m.created_at for m in mails} == {during}  # one stamp for the batch
    for mail in mails:
        assert "was cast and will be counted" in mail.body and "Crisis" not in mail.body
        assert not any(voting.format_receipt(r) in mail.body or r in mail.body for r in receipts)
    voting.cast_ballot(session, cycle, voters[0], choose(projects[2]), voting.new_nonce(), during + timedelta(minutes=40))
    session.commit()
    assert voting.send_confirmations(factory, during + timedelta(minutes=50)) == 0
    assert voting.send_confirmations(factory, during + timedelta(minutes=61)) == 1


def test_a_replayed_nonce_returns_the_same_receipt_and_writes_nothing(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    nonce = voting.new_nonce()
    first = voting.cast_ballot(session, cycle, voter, choose(projects[0]), nonce, during)
    session.commit()
    before = [rows(session, m) for m in (Ballot, BallotLogEntry, Participation, BallotNonce)]
    again = voting.cast_ballot(session, cycle, voter, choose(projects[2]), nonce, during)
    session.commit()
    assert again.receipt == first.receipt and again.replayed
    assert [rows(session, m) for m in (Ballot, BallotLogEntry, Participation, BallotNonce)] == before


def test_a_nonce_from_another_voter_is_worth_nothing_to_a_second_voter(session, setup, staff):
    cycle, projects, during = setup
    ana = confirmed(session, staff, cycle, "ana@example.org", during)
    ben = confirmed(session, staff, cycle, "ben@example.org", during)
    nonce = voting.new_nonce()
    first = voting.cast_ballot(session, cycle, ana, choose(projects[0]), nonce, during)
    second = voting.cast_ballot(session, cycle, ben, choose(projects[0]), nonce, during)
    session.commit()
    assert first.receipt != second.receipt and not second.replayed
    assert voting.log_state(session, cycle).counted == 2


def test_revision_replaces_the_earlier_ballot_and_the_last_one_counts(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    first = voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    second = voting.cast_ballot(session, cycle, voter, choose(projects[3]), voting.new_nonce(), during)
    session.commit()
    assert second.replaced
    assert rows(session, Participation) == 1
    assert voting.log_state(session, cycle).counted == 1 == voting.counted_ballots(session, cycle)
    statuses = dict(session.execute(select(Ballot.receipt, Ballot.status)).all())
    assert statuses == {first.receipt: BallotStatus.REPLACED, second.receipt: BallotStatus.COUNTED}
    slots = set(session.scalars(select(Ballot.slot)))
    assert len(slots) == 1  # the two ballots share a slot, which names no voter


def test_without_revision_a_second_ballot_is_refused_and_nothing_changes(session, staff, now):
    cycle, projects, during = make_voting_cycle(session, staff, now=now, allow_revision=False)
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    session.commit()
    with pytest.raises(DomainError, match="already voted"):
        voting.cast_ballot(session, cycle, voter, choose(projects[2]), voting.new_nonce(), during)
    session.rollback()
    assert rows(session, Ballot) == 1 and voting.log_state(session, cycle).counted == 1


def test_projects_of_another_district_or_cycle_are_refused_and_nothing_is_written(session, setup, staff, now):
    cycle, projects, during = setup
    other_cycle, other_projects, _ = make_voting_cycle(session, staff, now=now, slug="other-cycle")
    voter = confirmed(session, staff, cycle, "ana@example.org", during, district=0)
    for raw in (choose(projects[1]), choose(other_projects[0]), RawChoices(selected=("999999",))):
        with pytest.raises(DomainError):
            voting.cast_ballot(session, cycle, voter, raw, voting.new_nonce(), during)
        session.rollback()
    assert rows(session, Ballot) == rows(session, Participation) == rows(session, BallotNonce) == 0


def test_the_server_clock_decides_whether_voting_is_open(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    after = cycle.voting_end_at + timedelta(seconds=1)
    with pytest.raises(DomainError, match="Voting is over"):
        voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), after)
    session.rollback()
    before = cycle.voting_start_at - timedelta(seconds=1)
    with pytest.raises(DomainError, match="not opened yet"):
        voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), before)
    session.rollback()
    assert rows(session, Ballot) == 0


def test_voiding_a_misused_ballot_before_close(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    cast = voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    session.commit()
    with pytest.raises(DomainError, match="reason"):
        voting.void_ballot(session, staff, cycle, voter, "  ", during)
    session.rollback()
    assert voting.void_ballot(session, staff, cycle, voter, "Account taken over", during)
    session.commit()
    check = voting.check_receipt(session, cycle, cast.receipt)
    assert check.status is voting.ReceiptStatus.VOIDED and check.reason == "Account taken over"
    assert voting.log_state(session, cycle).counted == 0
    assert voting.verify_log(session, cycle).intact
    audit = session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "ballot.void"))
    assert audit is not None and "Crisis" not in audit.after_json
    # The voided account cannot vote again.
    assert eligibility.account_voter(session, cycle, voter.user) is None


def test_closing_destroys_the_slot_key_seals_the_log_and_is_idempotent(session, setup, staff):
    cycle, projects, during = setup
    voter = confirmed(session, staff, cycle, "ana@example.org", during)
    cast = voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    session.commit()
    assert voting.close_voting(session, staff, cycle, "Storm warning", during)
    session.commit()
    assert session.get(VotingKey, cycle.id) is None
    state = voting.log_state(session, cycle)
    assert state.closed and state.head.count == 2 and state.counted == 1
    assert not voting.close_voting(session, staff, cycle, "Again", during + timedelta(minutes=1))
    session.commit()
    with pytest.raises(DomainError, match="Voting is over"):
        voting.cast_ballot(session, cycle, voter, choose(projects[2]), voting.new_nonce(), during + timedelta(minutes=2))
    session.rollback()
    with pytest.raises(DomainError):
        voting.void_ballot(session, staff, cycle, voter, "Too late", during + timedelta(minutes=2))
    session.rollback()
    assert voting.check_receipt(session, cycle, cast.receipt).status is voting.ReceiptStatus.COUNTED
    assert voting.verify_log(session, cycle).intact


def test_the_worker_seals_a_vote_whose_end_has_passed(session, setup, staff, app):
    cycle, projects, during = setup
    after = cycle.voting_end_at + timedelta(minutes=1)
    factory = app.extensions["pb.db"].session_factory
    assert voting.seal_due(factory, during) == 0
    assert voting.seal_due(factory, after) == 1
    assert voting.seal_due(factory, after) == 0
    session.expire_all()
    assert session.get(VotingKey, cycle.id) is None and voting.log_state(session, cycle).closed


def test_a_changed_log_entry_is_found(session, setup, staff):
    cycle, projects, during = setup
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        voter = confirmed(session, staff, cycle, email, during)
        voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    session.commit()
    entry = session.scalar(select(BallotLogEntry).where(BallotLogEntry.position == 2))
    payload = json.loads(entry.payload)
    payload["choices"]["projects"] = [projects[2].id]
    entry.payload = json.dumps(payload)
    session.commit()
    check = voting.verify_log(session, cycle)
    assert not check.intact and check.problem.position == 2 and check.problem.kind == "content"


# --- Codes -------------------------------------------------------------------------------------


def test_a_code_opens_one_ballot_and_its_batch_counts_it_as_used(session, setup, staff):
    cycle, projects, during = setup
    batch = eligibility.create_code_batch(session, staff, cycle, 5, cycle.districts[0].id, "Library", during)
    session.commit()
    assert len(batch.codes) == 5 and rows(session, VoterCode) == 5
    stored = set(session.scalars(select(VoterCode.digest)))
    assert not any(code in digest for code in batch.codes for digest in stored)  # never in clear
    voter = eligibility.code_voter(session, cycle, display(batch.codes[0]).lower())
    assert voter.district_id == cycle.districts[0].id and voter.user is None
    voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    session.commit()
    [usage] = eligibility.list_batches(session, cycle)
    assert usage.used == 1 and usage.batch.size == 5
    assert rows(session, OutboxMail) == 0


def test_wrong_void_and_other_cycle_codes_are_refused(session, setup, staff, now):
    cycle, projects, during = setup
    other, _, _ = make_voting_cycle(session, staff, now=now, slug="other-cycle")
    mine = eligibility.create_code_batch(session, staff, cycle, 2, cycle.districts[0].id, "", during)
    theirs = eligibility.create_code_batch(session, staff, other, 1, other.districts[0].id, "", during)
    session.commit()
    for text in ("", "ABCD", "\x00" * 16, "é" * 16, theirs.codes[0], "A" * 10_000):
        with pytest.raises(DomainError, match="not valid"):
            eligibility.code_voter(session, cycle, text)
    eligibility.void_batch(session, staff, mine.batch, "Lost in the mail", during)
    session.commit()
    with pytest.raises(DomainError, match="withdrawn"):
        eligibility.code_voter(session, cycle, mine.codes[0])


def test_a_code_voter_voided_cannot_vote_again(session, setup, staff):
    cycle, projects, during = setup
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during)
    session.commit()
    voter = eligibility.code_voter(session, cycle, batch.codes[0])
    voting.cast_ballot(session, cycle, voter, choose(projects[0]), voting.new_nonce(), during)
    voting.void_ballot(session, staff, cycle, voter, "Code sold", during)
    session.commit()
    with pytest.raises(DomainError, match="withdrawn"):
        eligibility.code_voter(session, cycle, batch.codes[0])


# --- Eligibility rules --------------------------------------------------------------------------


def test_confirming_a_voter_checks_the_cycle_rules(session, staff, now):
    cycle, _, during = make_voting_cycle(session, staff, now=now, min_voting_age=14, noncitizens_may_vote=False)
    user = create_account(session, "teen@example.org")
    base = {
        "basis": EligibilityBasis.PARTNER,
        "district_id": cycle.districts[0].id,
        "note": "Vouched for by the youth centre",
        "citizen": True,
        "now": during,
    }
    end = cycle.voting_end_at.date()
    with pytest.raises(DomainError, match="minimum age"):
        eligibility.confirm_voter(session, staff, cycle, user, **base, birth_date=None)
    with pytest.raises(DomainError, match="under 14"):
        eligibility.confirm_voter(session, staff, cycle, user, **base, birth_date=end.replace(year=end.year - 14) + timedelta(days=1))
    with pytest.raises(DomainError, match="citizens"):
        eligibility.confirm_voter(session, staff, cycle, user, **{**base, "citizen": False}, birth_date=end.replace(year=end.year - 14))
    with pytest.raises(DomainError, match="what was checked"):
        eligibility.confirm_voter(session, staff, cycle, user, **{**base, "note": " "}, birth_date=end.replace(year=end.year - 14))
    with pytest.raises(DomainError, match="district"):
        eligibility.confirm_voter(session, staff, cycle, user, **{**base, "district_id": 10**9}, birth_date=end.replace(year=end.year - 14))
    row = eligibility.confirm_voter(session, staff, cycle, user, **base, birth_date=end.replace(year=end.year - 14))
    session.commit()
    assert row.basis is EligibilityBasis.PARTNER and row.confirmed_by_id == staff.id
    assert eligibility.account_voter(session, cycle, user).ref == f"account:{user.id}"
    audit = session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "voter.confirm"))
    assert "birth" not in audit.after_json  # the birth date is checked, never kept


def test_residents_and_unconfirmed_accounts_cannot_confirm_or_be_confirmed(session, staff, now, make_user):
    cycle, _, during = make_voting_cycle(session, staff, now=now)
    resident = make_user("resident@example.org")
    unconfirmed = create_account(session, "new@example.org", confirmed=False)
    kwargs = {
        "basis": EligibilityBasis.IN_PERSON,
        "district_id": cycle.districts[0].id,
        "note": "Lease",
        "birth_date": None,
        "citizen": True,
        "now": during,
    }
    with pytest.raises(DomainError, match="Only staff"):
        eligibility.confirm_voter(session, resident, cycle, staff, **kwargs)
    with pytest.raises(DomainError):
        eligibility.confirm_voter(session, staff, cycle, unconfirmed, **kwargs)
    with pytest.raises(DomainError, match="Only staff"):
        eligibility.create_code_batch(session, resident, cycle, 3, cycle.districts[0].id, "", during)


# --- Secrecy -------------------------------------------------------------------------------------


def test_the_schema_keeps_ballots_apart_from_voters(session):
    columns = {
        name: {c["name"]: c for c in inspect(session.get_bind()).get_columns(name)}
        for name in ("ballots", "participations", "ballot_log_entries", "ballot_nonces")
    }
    identity = {"user_id", "voter", "voter_id", "code_id", "email", "ip", "address", "user_agent"}
    for table in ("ballots", "ballot_log_entries", "ballot_nonces"):
        assert not identity & set(columns[table]), table
        assert not any(name.endswith("_at") or name in {"created", "cast_on"} for name in columns[table]), table
    assert not {"ballot_id", "receipt", "slot", "log_position", "choices"} & set(columns["participations"])
    assert [name for name in columns["participations"] if "at" in name.split("_")] == []
    assert str(columns["participations"]["voted_on"]["type"]).upper() == "DATE"
    # Participation's key is random: its rows cannot be put in casting order by their ids.
    assert "CHAR" in str(columns["participations"]["id"]["type"]).upper()


def test_the_logs_of_a_whole_vote_hold_no_choice_and_no_code(session, setup, staff, caplog):
    cycle, projects, during = setup
    caplog.set_level("DEBUG")
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during)
    voter = eligibility.code_voter(session, cycle, batch.codes[0])
    cast = voting.cast_ballot(session, cycle, voter, choose(projects[3]), voting.new_nonce(), during)
    voting.close_voting(session, staff, cycle, "Done", during + timedelta(minutes=1))
    session.commit()
    text = caplog.text
    assert batch.codes[0] not in text and display(batch.codes[0]) not in text
    assert projects[3].title_en not in text and cast.receipt not in text
    assert f'"projects":[{projects[3].id}]' not in text


def test_during_voting_helper_is_inside_the_voting_window(setup):
    cycle, _, during = setup
    assert cycle.voting_start_at < during < cycle.voting_end_at
    assert (cycle.voting_end_at - cycle.voting_start_at).days == PHASE_DAYS
