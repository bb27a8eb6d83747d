"""Casting under concurrency (PostgreSQL): 50 submissions of one voter at the same instant, from threads and
from separate processes, with and without revision, with one nonce (a double click, a replay) and with a
fresh nonce each (several tabs). Whatever the interleaving: one participation row, one counted ballot, a
log that verifies and counts what the ballots table counts, and one receipt for every copy of one form.

SQLite serializes writers, so these run on PostgreSQL only (``PB_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from pb.db import make_engine, make_session_factory
from pb.models import Ballot, BallotLogEntry, BallotNonce, BallotStatus, Cycle, Participation
from pb.services import eligibility, voting
from pb.services.ballot_rules import RawChoices
from pb.services.errors import DomainError
from pb.services.voting import VOTING_KEY_INFO
from tests.factories import make_voting_cycle

CALLERS = 50
SCENARIOS = [
    pytest.param(True, True, id="revision-same-nonce"),
    pytest.param(True, False, id="revision-new-nonces"),
    pytest.param(False, True, id="no-revision-same-nonce"),
    pytest.param(False, False, id="no-revision-new-nonces"),
]


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; concurrent casting is PostgreSQL's")


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@dataclass(frozen=True)
class Job:
    """One submission: a code voter's ballot (the first project offered) with a nonce, at ``when``."""

    cycle_id: int
    code_id: int
    nonce: str
    project_id: int
    when: object  # datetime


def cast_one(factory, job: Job, start) -> str:
    """Cast ``job`` in a session of its own once every caller is ready: the receipt, or the refusal.

    A caller whose setup fails (a busy server refusing a connection) still takes its place in the line-up,
    so the others are not left waiting for it; it reports the error instead of a receipt.
    """
    with factory() as db:
        try:
            cycle = db.get(Cycle, job.cycle_id)  # the connection is taken before the line-up
            voter = eligibility.voter_for_code_id(db, cycle, job.code_id)
        except Exception as error:  # noqa: BLE001 (reported by the test)
            start.wait()
            return f"error: setup: {error!r}"
        start.wait()
        try:
            cast = voting.cast_ballot(
                db, cycle, voter, RawChoices(selected=(str(job.project_id),)), job.nonce, job.when
            )
            db.commit()
        except DomainError as error:
            db.rollback()
            return f"refused: {error}"
        return cast.receipt


def scenario(session, staff, now, slug: str, revision: bool, same_nonce: bool) -> list[Job]:
    """A fresh cycle, one voter code, and the 50 submissions of its voter."""
    cycle, projects, during = make_voting_cycle(
        session, staff, now=now, slug=slug, ballot_type="approval", allow_revision=revision
    )
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during)
    session.commit()
    code_id = eligibility.code_voter(session, cycle, batch.codes[0]).code_id
    shared = voting.new_nonce()
    return [
        Job(cycle.id, code_id, shared if same_nonce else voting.new_nonce(), projects[0].id, during)
        for _ in range(CALLERS)
    ]


def count(session, model, cycle_id: int, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.cycle_id == cycle_id, *where))


def check(session, jobs: list[Job], outcomes: list[str], revision: bool, same_nonce: bool) -> None:
    session.expire_all()
    cycle = session.get(Cycle, jobs[0].cycle_id)
    receipts = [outcome for outcome in outcomes if not outcome.startswith("refused")]
    refusals = [outcome for outcome in outcomes if outcome.startswith("refused")]
    assert count(session, Participation, cycle.id) == 1
    assert count(session, Ballot, cycle.id, Ballot.status == BallotStatus.COUNTED) == 1
    counted = session.scalar(
        select(Ballot.receipt).where(Ballot.cycle_id == cycle.id, Ballot.status == BallotStatus.COUNTED)
    )
    verification = voting.verify_log(session, cycle)
    assert verification.intact, verification.problem
    assert voting.log_state(session, cycle).counted == 1 == voting.counted_ballots(session, cycle)
    written = count(session, Ballot, cycle.id)
    assert count(session, BallotLogEntry, cycle.id) == written == count(session, BallotNonce, cycle.id)
    if same_nonce:
        # A double click or a replay: one ballot written, every caller told its receipt.
        assert receipts == [counted] * CALLERS and written == 1
    elif revision:
        # Fifty tabs, each a fresh form: fifty ballots in turn, each replacing the one before; the last counts.
        assert len(set(receipts)) == CALLERS and written == CALLERS and counted in receipts
        assert count(session, Ballot, cycle.id, Ballot.status == BallotStatus.REPLACED) == CALLERS - 1
    else:
        # Fifty tabs without revision: the first ballot in counts, the others are refused and write nothing.
        assert receipts == [counted] and written == 1
        assert len(refusals) == CALLERS - 1
        assert all("already voted" in refusal for refusal in refusals), set(refusals)


def session_factory(app, url: str | None = None):
    """A factory of sessions with the app's keys, one connection each (as separate workers would have)."""
    engine = make_engine(url or app.config["DATABASE_URL"], poolclass=NullPool)
    factory = make_session_factory(engine)
    factory.configure(info={VOTING_KEY_INFO: app.config["VOTING_KEY"].encode()})
    return engine, factory


@pytest.mark.parametrize(("revision", "same_nonce"), SCENARIOS)
def test_fifty_simultaneous_submissions_from_threads_count_once(
    app, session, staff, now, postgres_only, revision, same_nonce
):
    jobs = scenario(session, staff, now, "threads", revision, same_nonce)
    engine, factory = session_factory(app)
    start = threading.Barrier(CALLERS, timeout=120)
    outcomes = [""] * CALLERS

    def run(index: int) -> None:
        try:
            outcomes[index] = cast_one(factory, jobs[index], start)
        except BaseException as error:  # noqa: BLE001 (the test reports it)
            outcomes[index] = f"error: {error!r}"

    threads = [threading.Thread(target=run, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    engine.dispose()
    assert not [outcome for outcome in outcomes if outcome.startswith("error")]
    check(session, jobs, outcomes, revision, same_nonce)


# --- Separate processes ------------------------------------------------------------------------------


def process_main(url: str, voting_key: bytes, jobs: list[tuple[int, Job]], start, results) -> None:
    """A separate process (spawned: nothing inherited) with its own engine, casting its share of each scenario."""
    engine = make_engine(url, poolclass=NullPool)
    factory = make_session_factory(engine)
    factory.configure(info={VOTING_KEY_INFO: voting_key})
    for number, job in jobs:
        try:
            outcome = cast_one(factory, job, start)
        except BaseException as error:  # noqa: BLE001 (sent to the test)
            outcome = f"error: {error!r}"
        results.put((number, outcome))
    engine.dispose()


def test_fifty_simultaneous_submissions_from_processes_count_once(app, session, staff, now, postgres_only):
    """Each of 50 spawned processes submits once in each of the four scenarios, all lined up by one barrier."""
    cases = [param.values for param in SCENARIOS]
    scenarios = [
        scenario(session, staff, now, f"processes-{number}", revision, same_nonce)
        for number, (revision, same_nonce) in enumerate(cases)
    ]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(CALLERS, timeout=180)
    results = context.Queue()
    processes = [
        context.Process(
            target=process_main,
            args=(
                app.config["DATABASE_URL"],
                app.config["VOTING_KEY"].encode(),
                [(number, jobs[index]) for number, jobs in enumerate(scenarios)],
                start,
                results,
            ),
        )
        for index in range(CALLERS)
    ]
    for process in processes:
        process.start()
    outcomes: list[list[str]] = [[] for _ in scenarios]
    try:
        for _ in range(CALLERS * len(scenarios)):
            number, outcome = results.get(timeout=300)
            outcomes[number].append(outcome)
    finally:
        for process in processes:
            process.join(60)
            if process.is_alive():  # pragma: no cover - only when the test already failed
                process.kill()
    for jobs, found, (revision, same_nonce) in zip(scenarios, outcomes, cases, strict=True):
        assert not [outcome for outcome in found if outcome.startswith("error")], found
        check(session, jobs, found, revision, same_nonce)
