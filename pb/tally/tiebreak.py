"""Tie-breaking between projects that a rule ranks equally.

A tie-break is an explicit value recorded in every outcome, so anyone re-running the
tally resolves ties the same way:

* ``id``: the project id compared as a string, smallest first ("10" < "9"). This is
  what pabutools does; use it to compare with published reference outcomes.
* ``cost``: the cheapest project first; then the one with more supporters; then a lot
  drawn once from the recorded seed. The lot orders projects by the SHA-256 of
  ``"<seed>:<project id>"`` (smallest digest first), so it can be re-drawn by hand or in
  any language. This is the equalshares.net recommendation and the default for cycles.
* ``refuse``: a tie raises :class:`UnresolvedTie` naming the tied projects, for a
  jurisdiction whose rules say a tie must be settled outside the count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pb.tally.election import Amount


class TieBreakMethod(StrEnum):
    ID = "id"
    COST = "cost"
    REFUSE = "refuse"


class UnresolvedTie(Exception):
    def __init__(self, project_ids: Sequence[str]):
        self.project_ids = tuple(sorted(project_ids))
        super().__init__("tied projects: " + ", ".join(self.project_ids))


@dataclass(frozen=True, slots=True)
class TieBreak:
    method: TieBreakMethod = TieBreakMethod.COST
    seed: int = 0

    @classmethod
    def parse(cls, method: str, seed: int = 0) -> TieBreak:
        return cls(TieBreakMethod(method), seed)

    def lot(self, project_id: str) -> bytes:
        return hashlib.sha256(f"{self.seed}:{project_id}".encode()).digest()

    def sort_key(
        self, cost: Callable[[str], Amount], supporters: Callable[[str], int]
    ) -> Callable[[str], tuple]:
        """A key under which the project that wins a tie sorts first.

        ``refuse`` orders like ``id`` here; rules call :meth:`choose` where a tie matters.
        """
        if self.method is TieBreakMethod.COST:
            return lambda pid: (cost(pid), -supporters(pid), self.lot(pid))
        return lambda pid: pid

    def choose(
        self,
        tied: Sequence[str],
        cost: Callable[[str], Amount],
        supporters: Callable[[str], int],
    ) -> str:
        """The winner among projects a rule ranks equally (``tied`` is non-empty)."""
        if len(tied) == 1:
            return tied[0]
        if self.method is TieBreakMethod.REFUSE:
            raise UnresolvedTie(tied)
        return min(tied, key=self.sort_key(cost, supporters))

    def describe(self) -> str:
        if self.method is TieBreakMethod.COST:
            return f"cost, then supporters, then lot (seed {self.seed})"
        return self.method.value
