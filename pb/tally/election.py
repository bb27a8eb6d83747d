"""Value types of an election: projects, ballots, limits, and the election itself.

Everything here is immutable and exact: costs, budgets and points are ``int`` or
``fractions.Fraction``, never ``float``. Identical ballots are grouped with a
multiplicity by :meth:`Election.profile`, which is what the rules iterate over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

Amount = int | Fraction


def exact(value: Amount | str) -> Amount:
    """An exact number from an int, a Fraction or a decimal string ("12.50", "12,50").

    Integral values come back as ``int`` so that equal amounts compare and hash alike
    however they were written.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            raise ValueError("empty amount")
        parsed = Fraction(text)
        return parsed.numerator if parsed.denominator == 1 else parsed
    raise TypeError(f"not an exact amount: {value!r}")


def format_amount(value: Amount) -> str:
    """The exact text of an amount, the inverse of :func:`exact`.

    Integers print as integers ("1200"); fractions whose decimal expansion ends print as
    decimals with a point ("12.5", "0.125"); any other fraction prints as "numerator/denominator"
    ("1/3"), which :func:`exact` reads back unchanged.
    """
    value = exact(value)
    if isinstance(value, int):
        return str(value)
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 else ""
    whole, frac = divmod(scaled, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}".rstrip("0")


class BallotKind(StrEnum):
    """The shape of a ballot. Knapsack and k-approval ballots are approval ballots with limits."""

    APPROVAL = "approval"
    RANKED = "ranked"
    CUMULATIVE = "cumulative"


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    cost: Amount
    name: str = ""
    # Every other column of the pabulib PROJECTS section, in file order, kept for round-trips.
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", exact(self.cost))
        if self.cost < 0:
            raise ValueError(f"project {self.id}: negative cost")


@dataclass(frozen=True, slots=True)
class ApprovalBallot:
    projects: frozenset[str]

    kind = BallotKind.APPROVAL

    def project_ids(self) -> frozenset[str]:
        return self.projects


@dataclass(frozen=True, slots=True)
class RankedBallot:
    ranking: tuple[str, ...]  # best first

    kind = BallotKind.RANKED

    def project_ids(self) -> frozenset[str]:
        return frozenset(self.ranking)


@dataclass(frozen=True, slots=True)
class CumulativeBallot:
    # (project id, points) pairs in the order the voter gave them; points are exact and positive.
    points: tuple[tuple[str, Amount], ...]

    kind = BallotKind.CUMULATIVE

    @classmethod
    def from_mapping(cls, points: Mapping[str, Amount]) -> CumulativeBallot:
        return cls(tuple((pid, exact(p)) for pid, p in points.items()))

    def project_ids(self) -> frozenset[str]:
        return frozenset(pid for pid, _ in self.points)

    def as_dict(self) -> dict[str, Amount]:
        return dict(self.points)


Ballot = ApprovalBallot | RankedBallot | CumulativeBallot


@dataclass(frozen=True, slots=True)
class Vote:
    """One voter's ballot as it stands in the record (voter id plus any other pabulib columns)."""

    voter_id: str
    ballot: Ballot
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class BallotLimits:
    """What a valid ballot looks like. ``None`` means no limit."""

    min_length: int | None = None
    max_length: int | None = None
    min_sum_cost: Amount | None = None
    max_sum_cost: Amount | None = None
    min_points: Amount | None = None  # per project
    max_points: Amount | None = None  # per project
    min_sum_points: Amount | None = None
    max_sum_points: Amount | None = None


@dataclass(frozen=True)
class Election:
    budget: Amount
    projects: tuple[Project, ...]
    votes: tuple[Vote, ...]
    kind: BallotKind = BallotKind.APPROVAL
    limits: BallotLimits = field(default_factory=BallotLimits)
    # Every META key of the pabulib file, in file order, kept for round-trips and for the record.
    meta: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "budget", exact(self.budget))
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate project id")

    @classmethod
    def build(
        cls,
        budget: Amount | str,
        projects: Iterable[Project] | Mapping[str, Amount],
        ballots: Iterable[Ballot],
        kind: BallotKind | None = None,
        limits: BallotLimits | None = None,
    ) -> Election:
        """A convenience constructor for tests and callers without voter ids."""
        if isinstance(projects, Mapping):
            projects = [Project(pid, cost) for pid, cost in projects.items()]
        ballots = list(ballots)
        if kind is None:
            kind = ballots[0].kind if ballots else BallotKind.APPROVAL
        votes = tuple(Vote(str(i + 1), b) for i, b in enumerate(ballots))
        return cls(exact(budget), tuple(projects), votes, kind, limits or BallotLimits())

    @cached_property
    def project_by_id(self) -> dict[str, Project]:
        return {p.id: p for p in self.projects}

    @cached_property
    def profile(self) -> tuple[tuple[Ballot, int], ...]:
        """Distinct ballots with how many voters cast each, in order of first appearance."""
        counts: dict[Ballot, int] = {}
        for vote in self.votes:
            counts[vote.ballot] = counts.get(vote.ballot, 0) + 1
        return tuple(counts.items())

    @property
    def voter_count(self) -> int:
        return len(self.votes)

    def meta_value(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.meta:
            if k == key:
                return v
        return default
