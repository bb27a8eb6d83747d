"""``pb simulate`` casts realistic random ballots through the services, for demos and load tests."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from pb.ballot import Choices
from pb.commands import cli
from pb.models import Ballot, BallotStatus, Participation
from pb.services import voting
from tests.factories import make_voting_cycle


@pytest.fixture
def now():
    from pb.db import utcnow

    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.mark.parametrize(
    ("kind", "limits"),
    [("approval", {"max_projects": 3}), ("knapsack", {"min_projects": 1}), ("ranked", {"ranking_length": 3}),
     ("cumulative", {"points_per_voter": 10, "max_points_per_project": 6})],
)
def test_simulated_ballots_are_valid_uneven_and_counted(app, runner, session, staff, now, kind, limits):
    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type=kind, **limits)
    app.extensions["pb.clock"] = lambda: during
    result = runner.invoke(cli, ["simulate", "--cycle", cycle.slug, "--ballots", "120", "--staff", staff.email])
    assert result.exit_code == 0, result.output
    cast = int(re.search(r"(\d+) ballots cast", result.output).group(1))
    assert cast >= 110
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Participation)) == cast
    assert voting.log_state(session, cycle).counted == cast and voting.verify_log(session, cycle).intact
    chosen = Counter()
    for text in session.scalars(select(Ballot.choices).where(Ballot.status == BallotStatus.COUNTED)):
        choices = Choices.from_json(text)
        chosen.update(dict(zip(choices.projects, choices.points, strict=True)) if choices.points else choices.projects)
    assert len(chosen) >= 2 and max(chosen.values()) > 1.5 * min(chosen.values())


def test_the_same_seed_gives_the_same_ballots(app, runner, session, staff, now):
    texts = []
    for slug in ("first-run", "second-run"):
        cycle, projects, during = make_voting_cycle(session, staff, now=now, slug=slug, ballot_type="approval")
        app.extensions["pb.clock"] = lambda during=during: during
        runner.invoke(cli, ["simulate", "--cycle", slug, "--ballots", "30", "--staff", staff.email, "--seed", "7"])
        session.expire_all()
        rows = session.scalars(select(Ballot.choices).where(Ballot.cycle_id == cycle.id)).all()
        first = min(p.id for p in projects)
        texts.append(sorted(tuple(i - first for i in Choices.from_json(text).projects) for text in rows))
    assert texts[0] and texts[0] == texts[1]


def test_clear_errors(app, runner, session, staff, now):
    cycle, _, during = make_voting_cycle(session, staff, now=now)
    assert "no cycle" in runner.invoke(cli, ["simulate", "--cycle", "nope", "--staff", staff.email]).output
    assert "no account" in runner.invoke(cli, ["simulate", "--cycle", cycle.slug, "--staff", "x@y.z"]).output
    app.extensions["pb.clock"] = lambda: cycle.voting_end_at
    closed = runner.invoke(cli, ["simulate", "--cycle", cycle.slug, "--staff", staff.email])
    assert closed.exit_code != 0 and "Voting is over" in closed.output
