"""Value types of an election: projects, ballots, limits, and the election itself.

Everything here is immutable and exact: costs, budgets and points are ``int`` or
``fractions.Fraction``, never ``float``. Identical ballots are grouped with a
multiplicity by :meth:`Election.profile`, which is what the rules iterate over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

Amount = int | Fraction


# What a written amount may be: far beyond any real budget (the largest of the 40 reference
# files is 10 digits), yet small enough that reading and writing it take microseconds. A file
# with ``budget;1e10000000`` would otherwise make ``Fraction`` build a ten-million-digit number.
MAX_DIGITS = 30  # digits of a decimal's mantissa, or of each side of "numerator/denominator"
MAX_EXPONENT = 30  # largest |exponent| of "1.5e6"

_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_RATIO = re.compile(r"([+-]?)([0-9]+)/([0-9]+)")


class AmountOutOfRange(ValueError):
    """A written amount with more digits or a larger exponent than :func:`exact` reads."""


def _parse_amount(text: str) -> Fraction | int:
    """The number in ``text`` (already stripped, "," already "."), in time linear in its length."""
    match = _DECIMAL.fullmatch(text)
    if match is not None:
        sign, whole, decimals, exponent = match.groups()
        decimals = decimals or ""
        if not whole and not decimals:
            raise ValueError(f"not a number: {text!r}")
        if len(whole) + len(decimals) > MAX_DIGITS:
            raise AmountOutOfRange(f"more than {MAX_DIGITS} digits")
        power = 0
        if exponent is not None:
            if len(exponent.lstrip("+-").lstrip("0")) > 3 or abs(int(exponent)) > MAX_EXPONENT:
                raise AmountOutOfRange(f"exponent beyond ±{MAX_EXPONENT}")
            power = int(exponent)
        mantissa = int(whole + decimals) * (-1 if sign == "-" else 1)
        power -= len(decimals)
        if power >= 0:
            return mantissa * 10**power
        return Fraction(mantissa, 10**-power)
    match = _RATIO.fullmatch(text)
    if match is not None:
        sign, numerator, denominator = match.groups()
        if max(len(numerator), len(denominator)) > MAX_DIGITS:
            raise AmountOutOfRange(f"more than {MAX_DIGITS} digits")
        if int(denominator) == 0:
            raise ValueError(f"zero denominator: {text!r}")
        return Fraction(int(sign + numerator), int(denominator))
    raise ValueError(f"not a number: {text!r}")


def exact(value: Amount | str) -> Amount:
    """An exact number from an int, a Fraction or a decimal string ("12.50", "12,50", "1.5e6", "1/3").

    Integral values come back as ``int`` so that equal amounts compare and hash alike
    however they were written. A string with more than :data:`MAX_DIGITS` digits or an
    exponent beyond :data:`MAX_EXPONENT` raises :class:`AmountOutOfRange` (a ``ValueError``);
    anything else that is not a number raises ``ValueError``.
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
        parsed = _parse_amount(text)
        if isinstance(parsed, int):
            return parsed
        return parsed.numerator if parsed.denominator == 1 else parsed
    raise TypeError(f"not an exact amount: {value!r}")


# Beyond this many bits, ``str(int)`` is slow (quadratic) and Python refuses it (4300 digits).
_MAX_WRITTEN_BITS = 12_000
_LOG2_5 = math.log2(5)


def _power_of_five(n: int) -> int | None:
    """``k`` if ``n == 5**k``, else ``None``, with one exponentiation (linear, not a division loop)."""
    if n == 1:
        return 0
    guess = round((n.bit_length() - 1) / _LOG2_5)
    for k in (guess - 1, guess, guess + 1):
        if k > 0 and 5**k == n:
            return k
    return None


def format_amount(value: Amount) -> str:
    """The exact text of an amount, the inverse of :func:`exact`.

    Integers print as integers ("1200"); fractions whose decimal expansion ends print as
    decimals with a point ("12.5", "0.125"); any other fraction prints as "numerator/denominator"
    ("1/3"), which :func:`exact` reads back unchanged. An amount too large to write (thousands
    of digits, which nothing read by :func:`exact` comes near) raises ``ValueError``.
    """
    value = exact(value)
    if isinstance(value, int):
        if value.bit_length() > _MAX_WRITTEN_BITS:
            raise ValueError("amount too large to write (more than 3600 digits)")
        return str(value)
    numerator, denominator = value.numerator, value.denominator
    if max(numerator.bit_length(), denominator.bit_length()) > _MAX_WRITTEN_BITS:
        raise ValueError("amount too large to write (more than 3600 digits)")
    twos = (denominator & -denominator).bit_length() - 1
    fives = _power_of_five(denominator >> twos)
    if fives is None:
        return f"{numerator}/{denominator}"
    places = max(twos, fives)
    scaled = abs(numerator) * 10**places // denominator
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
