"""Realistic random ballots cast through the services: the demo's past vote, and load for tests.

Each simulated voter gets a voter code of a batch made for the purpose and casts one ballot through
:func:`pb.services.voting.cast_ballot`, so the ballots, the participation rows, the ballot log and
the counts are exactly what real voting makes. Preferences are not uniform: each project has a
popularity drawn once per run (a few favourites, a long tail), each voter leans towards a category,
and a voter's ballot follows the cycle's type and limits (a ballot the rules refuse is drawn again).
The same seed gives the same ballots.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pb.ballot import BallotConfig, BallotType
from pb.models import BallotProject, Cycle, User
from pb.services import ballot_rules, eligibility, voting
from pb.services.errors import DomainError

MAX_DRAWS = 20  # a voter whose ballots keep breaking the rules abstains


@dataclass(frozen=True)
class Simulated:
    cast: int
    abstained: int


def _weights(projects: list[BallotProject], rng: random.Random) -> dict[int, float]:
    """Popularity: a Pareto tail, so a few projects are much more popular than the rest."""
    return {p.id: rng.paretovariate(1.5) for p in projects}


def _preferences(projects, weights, leaning, rng: random.Random) -> list[BallotProject]:
    """One voter's projects from most to least liked: popularity, their category, and taste."""

    def appeal(project: BallotProject) -> float:
        boost = 2.5 if leaning is not None and project.category_id == leaning else 1.0
        return weights[project.id] * boost * rng.lognormvariate(0, 0.8)

    return sorted(projects, key=appeal, reverse=True)


def _raw(config: BallotConfig, budget: int, ranked: list[BallotProject], rng: random.Random) -> ballot_rules.RawChoices:
    kind = BallotType(config.ballot_type)
    low = config.min_projects or 0
    if kind is BallotType.RANKED:
        length = min(config.ranking_length or len(ranked), len(ranked))
        count = rng.randint(max(low, 1), max(length, 1))
        return ballot_rules.RawChoices(ranks={str(p.id): str(n) for n, p in enumerate(ranked[:count], start=1)})
    if kind is BallotType.CUMULATIVE:
        points_left = config.points_per_voter or 0
        cap = config.max_points_per_project or points_left
        points: dict[str, str] = {}
        for project in ranked:
            if points_left <= 0:
                break
            give = min(cap, points_left, max(1, int(points_left * rng.uniform(0.2, 0.7))))
            points[str(project.id)] = str(give)
            points_left -= give
        return ballot_rules.RawChoices(points=points)
    if kind is BallotType.KNAPSACK:
        chosen, spent = [], 0
        wanted = rng.uniform(0.5, 1.0) * budget
        for project in ranked:
            if spent + project.cost_cents <= budget and (spent < wanted or len(chosen) < low):
                chosen.append(project)
                spent += project.cost_cents
        return ballot_rules.RawChoices(selected=tuple(str(p.id) for p in chosen))
    high = config.max_projects or len(ranked)
    count = min(len(ranked), max(low, 1, min(high, int(rng.expovariate(1 / 3)) + 1)))
    return ballot_rules.RawChoices(selected=tuple(str(p.id) for p in ranked[:count]))


def simulate_votes(
    session: Session, actor: User, cycle: Cycle, ballots: int, now: datetime, *, seed: int = 2025
) -> Simulated:
    """Cast ``ballots`` simulated ballots in ``cycle`` at ``now`` (inside its voting window), spread over
    its districts in proportion to their budgets; flushes, the caller commits."""
    rng = random.Random(seed)
    config = voting.ballot_config(session, cycle, now)
    districts = cycle.districts if cycle.has_district_budgets else [None]
    shares = [(d.budget_cents or 1) if d is not None else 1 for d in districts]
    plan = rng.choices(range(len(districts)), weights=shares, k=ballots)
    cast = abstained = 0
    for index, district in enumerate(districts):
        size = plan.count(index)
        if size == 0:
            continue
        district_id = district.id if district is not None else None
        batch = eligibility.create_code_batch(session, actor, cycle, size, district_id, "Simulated voters", now)
        projects = voting.ballot_projects(session, cycle, district_id)
        if not projects:
            abstained += size
            continue
        weights = _weights(projects, rng)
        categories = sorted({p.category_id for p in projects if p.category_id is not None})
        budget = voting.ballot_budget(cycle, district_id)
        for code in batch.codes:
            voter = eligibility.code_voter(session, cycle, code)
            leaning = rng.choice(categories) if categories and rng.random() < 0.6 else None
            for _ in range(MAX_DRAWS):
                raw = _raw(config, budget, _preferences(projects, weights, leaning, rng), rng)
                try:
                    with session.begin_nested():
                        voting.cast_ballot(session, cycle, voter, raw, voting.new_nonce(), now)
                except DomainError:
                    continue
                cast += 1
                break
            else:
                abstained += 1
            now += timedelta(seconds=rng.randint(1, 30))
    session.flush()
    return Simulated(cast, abstained)
