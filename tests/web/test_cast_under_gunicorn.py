"""200 voters casting at once through 4 gunicorn workers on PostgreSQL, each sending their ballot five times at
the same instant (a double-clicking, impatient voter): exactly 200 ballots count, 200 participation rows,
the log verifies, and the five answers of each voter lead to one receipt, the counted ballot's.

pb is served as production serves it (``PB_ENV=production`` with its keys and trusted hosts), by the code
of ``benchmarks/pages.py``; the voters are ``benchmarks/cast.py``'s browsers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from benchmarks import pages
from benchmarks.cast import Browser, cast, enter_code, open_ballot, receipt, seed_voting
from pb.models import Ballot, BallotStatus, Participation
from pb.services import voting
from pb.voting.views import RECEIPT_KEY

VOTERS = 200
COPIES = 5
AT_ONCE = 25  # voters in flight together (each sending five copies): 125 requests at a time


@pytest.fixture
def server(app, session, database_url, tmp_path):
    """pb under gunicorn, 4 sync workers, production settings, on this test's database and keys."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; 4 workers casting at once is PostgreSQL's case")
    serve = SimpleNamespace(workers=4, redis="memory://")  # right codes cost no rate limit
    env = pages.pb_environment(
        pages.REPOSITORY, database_url, serve, app.config["SECRET_KEY"], app.config["AUDIT_KEY"], tmp_path
    )
    env["PB_VOTING_KEY"] = app.config["VOTING_KEY"]  # the key the codes were seeded with
    env.pop("PB_TEST_DATABASE_URL", None)
    started = pages.start("pb-cast-test", "pb:create_app()", "/healthz", pages.REPOSITORY, env, serve, tmp_path)
    yield started
    pages.stop(started)


def test_two_hundred_voters_five_copies_each_across_four_workers(app, session, server):
    cycle, projects, codes = seed_voting(session, slug="gunicorn", codes=VOTERS)
    chosen = [projects[0].id, projects[3].id]
    signed = app.session_interface.get_signing_serializer(app)  # the same secret key as the server's

    def voter(code: str) -> set[str]:
        browser = Browser(server.port)
        enter_code(browser, cycle.slug, code)
        form = open_ballot(browser, cycle.slug, chosen)
        with ThreadPoolExecutor(COPIES) as copies:  # the same form, five times at once
            answers = list(copies.map(lambda _: cast(browser, cycle.slug, form, cookies=browser.cookies),
                                      range(COPIES)))
        # Each answer's session holds the receipt its confirmation page shows (the first one is opened).
        shown = receipt(browser, cycle.slug, cookies=answers[0].cookies)
        kept = {signed.loads(answer.cookies["session"])[RECEIPT_KEY]["receipt"] for answer in answers}
        return kept | {shown}

    with ThreadPoolExecutor(AT_ONCE) as voters:
        receipts = list(voters.map(voter, codes))
    assert all(len(seen) == 1 for seen in receipts), [seen for seen in receipts if len(seen) != 1]
    session.expire_all()
    counted = set(
        session.scalars(select(Ballot.receipt).where(Ballot.cycle_id == cycle.id, Ballot.status == BallotStatus.COUNTED))
    )
    assert len(counted) == VOTERS == session.scalar(select(func.count()).select_from(Ballot))
    assert {seen.pop() for seen in receipts} == counted
    assert session.scalar(select(func.count()).select_from(Participation)) == VOTERS
    verification = voting.verify_log(session, cycle)
    assert verification.intact, verification.problem
    assert voting.log_state(session, cycle).counted == VOTERS
    assert os.path.exists(server.log)
