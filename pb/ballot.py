"""A cycle's ballot configuration: the ballot type, its limits and the counting rule, as one frozen value.

This is what voting freezes when it opens and what the election record's manifest will carry. It
has a canonical JSON form (:meth:`BallotConfig.to_json`: sorted keys, no spaces, so equal
configurations give equal bytes) that :meth:`BallotConfig.from_json` reads back. Standard library
only, so that models, services, forms and the offline tools can all import it; the conversion to
:mod:`pb.tally`'s ballot limits and rule is in :mod:`pb.services.results`, the one bridge to the tally.

:class:`Choices` is one voter's valid ballot, with its canonical JSON form, here for the same
reason: the offline auditor reads the ballot log without Flask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any


class BallotType(StrEnum):
    APPROVAL = "approval"  # choose any number of projects (within min/max)
    K_APPROVAL = "k_approval"  # choose up to k projects
    KNAPSACK = "knapsack"  # choose projects whose total cost fits the budget
    RANKED = "ranked"  # rank projects, best first
    CUMULATIVE = "cumulative"  # spread points over projects


# The limits a ballot can have; each ballot type uses some of them (the others are None).
LIMIT_FIELDS = (
    "min_projects",
    "max_projects",
    "min_budget_share_percent",
    "ranking_length",
    "points_per_voter",
    "max_points_per_project",
)
LIMITS_BY_TYPE: dict[BallotType, tuple[str, ...]] = {
    BallotType.APPROVAL: ("min_projects", "max_projects"),
    BallotType.K_APPROVAL: ("min_projects", "max_projects"),
    BallotType.KNAPSACK: ("min_projects", "max_projects", "min_budget_share_percent"),
    BallotType.RANKED: ("min_projects", "ranking_length"),
    BallotType.CUMULATIVE: ("points_per_voter", "max_points_per_project"),
}
DEFAULT_TIE_BREAK = "cost"


@dataclass(frozen=True)
class BallotConfig:
    """How residents vote and how their ballots are counted.

    The field names are those of the :class:`pb.models.Cycle` columns and of the staff form's
    fields, so each of them reads and writes this value by name. A value is not checked when it is
    made (a form may hand over a wrong one); :func:`pb.services.cycles.validate_settings` says what
    is wrong with it.
    """

    ballot_type: BallotType = BallotType.APPROVAL
    min_projects: int | None = None
    max_projects: int | None = None
    # Knapsack ballots: the least share of the budget, in percent, a ballot must fill.
    min_budget_share_percent: int | None = None
    ranking_length: int | None = None
    points_per_voter: int | None = None
    max_points_per_project: int | None = None
    allow_revision: bool = True
    tally_rule: str = "greedy"
    tally_utility: str = "cost"
    tally_completion: str = "none"
    tie_break: str = DEFAULT_TIE_BREAK
    # The public number that decides a remaining tie by lot, drawn when the cycle is created.
    tie_break_seed: int = 0

    @classmethod
    def of(cls, source: Any) -> BallotConfig:
        """The configuration held by any object with attributes of these names (a cycle, a form's data)."""
        return cls(**{name: getattr(source, name) for name in FIELDS})

    def apply_to(self, target: Any) -> None:
        """Set each of these attributes on ``target`` (a cycle)."""
        for name in FIELDS:
            setattr(target, name, getattr(self, name))

    def with_changes(self, **changes: Any) -> BallotConfig:
        return replace(self, **changes)

    def normalized(self) -> BallotConfig:
        """Trimmed names, the default completion and tie-break when blank, unused limits cleared."""
        changes: dict[str, Any] = {
            "tally_rule": self.tally_rule.strip(),
            "tally_utility": self.tally_utility.strip(),
            "tally_completion": self.tally_completion.strip() or "none",
            "tie_break": self.tie_break.strip() or DEFAULT_TIE_BREAK,
        }
        try:
            ballot_type = BallotType(self.ballot_type)
        except ValueError:
            return replace(self, **changes)  # left for the validation to refuse
        changes["ballot_type"] = ballot_type
        for name in LIMIT_FIELDS:
            if name not in LIMITS_BY_TYPE[ballot_type]:
                changes[name] = None
        return replace(self, **changes)

    # --- The canonical JSON form ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (the ballot type as its value), keyed by field name."""
        data = asdict(self)
        data["ballot_type"] = BallotType(self.ballot_type).value
        return data

    def to_json(self) -> str:
        """The canonical JSON text: sorted keys, no spaces, ASCII only; equal values give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BallotConfig:
        """Read :meth:`to_dict`'s form back; every field must be there with a value of its type."""
        if not isinstance(data, dict) or set(data) != set(FIELDS):
            raise ValueError(f"a ballot configuration has exactly the keys {', '.join(sorted(FIELDS))}")
        for name, kind in _TYPES.items():
            value = data[name]
            optional = name in LIMIT_FIELDS
            if (value is None and not optional) or (value is not None and type(value) is not kind):
                raise ValueError(f"ballot configuration: {name} is not {kind.__name__}")
        return cls(**{**data, "ballot_type": BallotType(data["ballot_type"])})

    @classmethod
    def from_json(cls, text: str) -> BallotConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"ballot configuration: not JSON ({error})") from error
        return cls.from_dict(data)


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(BallotConfig))
# What staff set on a cycle's form; the seed is drawn when the cycle is created and never edited.
EDITABLE_FIELDS: tuple[str, ...] = tuple(name for name in FIELDS if name != "tie_break_seed")
_TYPES: dict[str, type] = {
    **{name: str for name in ("ballot_type", "tally_rule", "tally_utility", "tally_completion", "tie_break")},
    **dict.fromkeys(LIMIT_FIELDS, int),
    "allow_revision": bool,
    "tie_break_seed": int,
}


# --- A voter's choices ------------------------------------------------------------------------

_CHOICE_KEYS = {"type", "projects"}
_CUMULATIVE_KEYS = {"type", "projects", "points"}


@dataclass(frozen=True)
class Choices:
    """A valid ballot in its one canonical form (what the ballot log stores and the auditor reads).

    ``projects`` are project ids: sorted ascending, except on a ranked ballot, where they are in the
    voter's order, best first. A cumulative ballot lists the projects given points (sorted) and
    their ``points``, in the same order, each at least 1; other ballots have no points. No project
    appears twice. An empty ballot (no projects) is a blank ballot. Making a value that breaks one
    of these raises ``ValueError``; :func:`pb.services.ballot_rules.validate` says which rule of a
    cycle a voter's form breaks.
    """

    ballot_type: BallotType
    projects: tuple[int, ...]
    points: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        try:
            kind = BallotType(self.ballot_type)
        except ValueError:
            raise ValueError(f"choices: unknown ballot type {self.ballot_type!r}") from None
        object.__setattr__(self, "ballot_type", kind)
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "points", tuple(self.points))
        if not all(type(pid) is int and pid >= 0 for pid in self.projects):
            raise ValueError("choices: project ids are integers, 0 or more")
        if len(set(self.projects)) != len(self.projects):
            raise ValueError("choices: a project appears twice")
        if kind is not BallotType.RANKED and list(self.projects) != sorted(self.projects):
            raise ValueError("choices: projects are sorted (only a ranked ballot keeps the voter's order)")
        if kind is BallotType.CUMULATIVE:
            if len(self.points) != len(self.projects):
                raise ValueError("choices: one number of points for each project")
            if not all(type(p) is int and p >= 1 for p in self.points):
                raise ValueError("choices: points are integers, 1 or more")
        elif self.points:
            raise ValueError("choices: only a cumulative ballot has points")

    def is_empty(self) -> bool:
        """A blank ballot: no project chosen, ranked or given points."""
        return not self.projects

    def total_cost(self, costs: Mapping[int, int]) -> int:
        """The cost of the chosen projects together, from each project's cost by id."""
        return sum(costs[pid] for pid in self.projects)

    def points_by_project(self) -> dict[int, int]:
        """Cumulative ballots: each project's points; other ballots: 1 for each chosen project."""
        if self.ballot_type is BallotType.CUMULATIVE:
            return dict(zip(self.projects, self.points, strict=True))
        return dict.fromkeys(self.projects, 1)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.ballot_type.value, "projects": list(self.projects)}
        if self.ballot_type is BallotType.CUMULATIVE:
            data["points"] = list(self.points)
        return data

    def to_json(self) -> str:
        """The canonical JSON text: sorted keys, no spaces; equal choices give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Choices:
        """Read :meth:`to_json`'s text back; any other text (even the same ballot spaced or ordered
        otherwise) raises ``ValueError``."""
        if not isinstance(text, str):
            raise ValueError("choices: not text")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # numbers too long to read, nesting too deep
            raise ValueError("choices: not JSON") from error
        if not isinstance(data, dict):
            raise ValueError("choices: not a JSON object")
        keys = _CUMULATIVE_KEYS if data.get("type") == BallotType.CUMULATIVE.value else _CHOICE_KEYS
        if set(data) != keys:
            raise ValueError(f"choices: the keys are {', '.join(sorted(keys))}")
        if not isinstance(data["type"], str) or not isinstance(data["projects"], list):
            raise ValueError("choices: type is text and projects a list")
        points = data.get("points", [])
        if not isinstance(points, list):
            raise ValueError("choices: points are a list")
        choices = cls(data["type"], tuple(data["projects"]), tuple(points))
        if choices.to_json() != text:
            raise ValueError("choices: not in the canonical form")
        return choices
