"""Per-voter utilities for the rules (pabutools satisfaction semantics), prepared once per tally.

A voter's *score* for a project on their ballot is:

* approval ballots: 1;
* cumulative ballots: the points given;
* ranked ballots: a positional score. By default Borda as pabutools computes it: in a
  ranking of length ``k`` the first project scores ``k-1``, the last ``0``. With a fixed
  vector ``scores=(3, 2, 1)`` position ``j`` (0-based) scores ``scores[j]``, and positions
  beyond the vector score 0.

The four utilities built from it:

* ``cost``: the project's cost, for every project on the ballot (whatever its score);
* ``cardinality``: 1 for every project on the ballot;
* ``score``: the score;
* ``score-cost``: the score times the project's cost.

A project's *score* in an outcome is the number of voters who have it on their ballot for
``cost`` and ``cardinality``, and the sum of the voters' scores for ``score`` and
``score-cost``. A project's *total utility* is the sum of the voters' utilities.
"""

from __future__ import annotations

from dataclasses import dataclass

from pb.tally.election import (
    Amount,
    ApprovalBallot,
    Ballot,
    BallotKind,
    CumulativeBallot,
    Election,
    RankedBallot,
)

UTILITY_NAMES = ("cost", "cardinality", "score", "score-cost")


def _base_scores(ballot: Ballot, scores: tuple[int, ...] | None) -> list[tuple[str, Amount]]:
    """(project id, score) for each project on the ballot, first occurrence only."""
    seen: set[str] = set()
    out: list[tuple[str, Amount]] = []
    if isinstance(ballot, ApprovalBallot):
        for pid in sorted(ballot.projects):
            out.append((pid, 1))
        return out
    if isinstance(ballot, RankedBallot):
        ranking = []
        for pid in ballot.ranking:
            if pid not in seen:
                seen.add(pid)
                ranking.append(pid)
        k = len(ranking)
        for pos, pid in enumerate(ranking):
            if scores is None:
                out.append((pid, k - 1 - pos))
            else:
                out.append((pid, scores[pos] if pos < len(scores) else 0))
        return out
    if isinstance(ballot, CumulativeBallot):
        for pid, pts in ballot.points:
            if pid not in seen:
                seen.add(pid)
                out.append((pid, pts))
        return out
    raise TypeError(f"not a ballot: {ballot!r}")


@dataclass(frozen=True)
class Prepared:
    """An election reduced to what the rules need, with projects as indices 0..m-1 (election order).

    ``groups[g] = (multiplicity, ((project index, score, utility), ...))`` lists every
    project on the ballot (utility may be 0, e.g. the last project of a Borda ranking).
    ``ballots[g]`` is the ballot of the group (the key of ``election.profile``).
    """

    election: Election
    utility: str
    ids: tuple[str, ...]
    costs: tuple[Amount, ...]
    groups: tuple[tuple[int, tuple[tuple[int, Amount, Amount], ...]], ...]
    ballots: tuple[Ballot, ...]
    supporters: tuple[int, ...]  # voters with the project on their ballot
    score: tuple[Amount, ...]
    total_utility: tuple[Amount, ...]

    @property
    def budget(self) -> Amount:
        return self.election.budget

    @property
    def n_voters(self) -> int:
        return self.election.voter_count


def prepare(election: Election, utility: str = "cost", scores: tuple[int, ...] | None = None) -> Prepared:
    if utility not in UTILITY_NAMES:
        raise ValueError(f"unknown utility {utility!r}; known utilities: {', '.join(UTILITY_NAMES)}")
    ids = tuple(p.id for p in election.projects)
    costs = tuple(p.cost for p in election.projects)
    index = {pid: i for i, pid in enumerate(ids)}
    m = len(ids)
    if election.kind is BallotKind.APPROVAL and all(
        isinstance(b, ApprovalBallot) for b, _ in election.profile
    ):
        fast = _prepare_approval(election, utility, ids, costs, index)
        if fast is not None:
            return fast
    supporters = [0] * m
    score: list[Amount] = [0] * m
    total: list[Amount] = [0] * m
    groups = []
    ballots = []
    for ballot, mult in election.profile:
        items = []
        for pid, s in _base_scores(ballot, scores):
            j = index.get(pid)
            if j is None:
                raise ValueError(f"a ballot names project {pid!r}, which is not in the election")
            if utility == "cost":
                u, sc = costs[j], 1
            elif utility == "cardinality":
                u, sc = 1, 1
            elif utility == "score":
                u, sc = s, s
            else:
                u, sc = s * costs[j], s
            items.append((j, sc, u))
            supporters[j] += mult
            score[j] += mult * sc
            total[j] += mult * u
        groups.append((mult, tuple(items)))
        ballots.append(ballot)
    return Prepared(
        election=election,
        utility=utility,
        ids=ids,
        costs=costs,
        groups=tuple(groups),
        ballots=tuple(ballots),
        supporters=tuple(supporters),
        score=tuple(score),
        total_utility=tuple(total),
    )


def _prepare_approval(
    election: Election, utility: str, ids: tuple[str, ...], costs: tuple[Amount, ...], index: dict[str, int]
) -> Prepared | None:
    """:func:`prepare` for approval ballots, the same result built with fewer Python steps.

    Every approved project scores 1, so its utility is its cost (``cost``, ``score-cost``) or 1,
    and one item tuple per project is shared by every ballot. ``None`` if a ballot names an
    unknown project (the general code then raises the error).
    """
    by_cost = utility in ("cost", "score-cost")
    item_of = {pid: (j, 1, costs[j] if by_cost else 1) for pid, j in index.items()}
    get_item = item_of.__getitem__
    profile = election.profile
    try:
        groups = tuple((mult, tuple(map(get_item, sorted(ballot.projects)))) for ballot, mult in profile)
    except KeyError:
        return None
    count: dict[int, int] = {}
    for mult, items in groups:
        for j, _sc, _u in items:
            count[j] = count.get(j, 0) + mult
    supporters = tuple(count.get(j, 0) for j in range(len(ids)))
    total = tuple(s * c for s, c in zip(supporters, costs, strict=True)) if by_cost else supporters
    return Prepared(
        election=election,
        utility=utility,
        ids=ids,
        costs=costs,
        groups=groups,
        ballots=tuple(b for b, _ in profile),
        supporters=supporters,
        score=supporters,
        total_utility=total,
    )
