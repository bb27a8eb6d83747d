"""The proposal list worked out in Python from a snapshot of a cycle's proposals, kept per process.

A list page filters a cycle's proposals (district, category, status, words), orders them (a
visitor's own random order, most supported, newest, most commented) and cuts a page. The database
would read and sort every proposal of the cycle for each page (each visitor's random order is
their own), so the list reads them once into a :class:`Listing` of narrow rows and works there:
filters and orders are worked out once per snapshot and reused, and a random page is computed
position by position without shuffling the whole list.

A snapshot is kept under the cycle's proposal stamp (``ProposalActivity``, moved by database
triggers with anything a card or a search shows, counters included) and the cycle's version (its
districts and categories): a change is a new snapshot, nothing is invalidated by hand. A snapshot
read after its stamp can only be newer than the stamp says, never older, so it is never stale
once the next stamp is seen. The folded search texts load on the first search and are carried
over to the next snapshot for the proposals whose version did not change.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pb.lru import LRU
from pb.models import PUBLIC_STATUSES, Proposal
from pb.textsearch import terms

CITYWIDE = "citywide"
KEPT_CYCLES = 64  # snapshots kept per process: one per cycle, the latest
KEPT_SELECTIONS = 256  # filtered and ordered lists kept per snapshot


class CardKey(NamedTuple):
    """What a proposal's card depends on: a page whose cards are all kept (``pb.fragments``) never
    loads the proposals themselves."""

    id: int
    created_at: datetime  # with the id, the row itself (SQLite may give a deleted row's id again)
    version: int
    support_count: int
    comment_count: int
    hidden_at: datetime | None
    author_id: int | None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Row(NamedTuple):
    """A proposal as the list filters and orders it."""

    key: CardKey
    status: str
    district_id: int | None
    category_id: int | None
    listed_at: datetime  # submitted, or created for a draft: "newest" orders by it


_COLUMNS = (
    Proposal.id, Proposal.created_at, Proposal.version, Proposal.support_count, Proposal.comment_count,
    Proposal.hidden_at, Proposal.author_id, Proposal.status, Proposal.district_id, Proposal.category_id,
    func.coalesce(Proposal.submitted_at, Proposal.created_at),
)


def _row(values) -> Row:
    status = values[7]
    return Row(CardKey(*values[:7]), getattr(status, "value", status), values[8], values[9], values[10])


@dataclass(frozen=True)
class Selection:
    """What a list shows: a filter, and an order."""

    query: str = ""
    district: int | str = ""  # a district's id, "citywide", or "" for all
    category: int | str = ""  # a category's id, or "" for all
    status: str = ""  # a public status, "hidden", or ""
    sort: str = "random"  # "random" (then by seed), "supported", "newest" or "commented"


_ORDERS: dict[str, Callable[[Row], tuple]] = {
    "supported": lambda row: (row.key.support_count, row.key.id),
    "newest": lambda row: (row.listed_at, row.key.id),
    "commented": lambda row: (row.key.comment_count, row.key.id),
}


class Listing:
    """A cycle's proposals as of one moment, with the lists worked out from them so far."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows = sorted(rows, key=lambda row: row.key.id)  # the base of every random order
        self._texts: dict[int, tuple[int, str]] | None = None  # id -> (version, folded text)
        self._older: dict[int, tuple[int, str]] = {}  # an older snapshot's texts, to reuse
        self._selections = LRU(KEPT_SELECTIONS)
        self._lock = threading.Lock()

    def texts(self, session: Session) -> dict[int, tuple[int, str]]:
        """The folded search text of each proposal, loaded on the first search (but those an older
        snapshot had for the same version of the proposal)."""
        with self._lock:
            if self._texts is None:
                older = self._older
                texts = {
                    row.key.id: older[row.key.id]
                    for row in self.rows
                    if older.get(row.key.id, (None,))[0] == row.key.version
                }
                missing = [row.key for row in self.rows if row.key.id not in texts]
                found = _search_texts(session, [key.id for key in missing])
                texts |= {key.id: (key.version, found.get(key.id, "")) for key in missing}
                self._texts, self._older = texts, {}
            return self._texts

    def carry_texts(self, older: Listing) -> None:
        """Reuse ``older``'s texts for the proposals whose version did not change."""
        self._older = older._texts or older._older

    def select(self, session: Session, selection: Selection) -> list[Row]:
        """The rows the filter keeps, in the order asked (a random order: by id, shuffled by :func:`page`)."""
        found = self._selections.get(selection)
        if found is None:
            found = self._work_out(session, selection)
            self._selections.put(selection, found)
        return found

    def _work_out(self, session: Session, selection: Selection) -> list[Row]:
        rows: Iterable[Row] = self.rows
        if selection.district == CITYWIDE:
            rows = [row for row in rows if row.district_id is None]
        elif selection.district != "":
            rows = [row for row in rows if row.district_id == selection.district]
        if selection.category != "":
            rows = [row for row in rows if row.category_id == selection.category]
        if selection.status == "hidden":
            rows = [row for row in rows if row.key.hidden_at is not None]
        elif selection.status:
            rows = [row for row in rows if row.status == selection.status]
        words = terms(selection.query)
        if words:
            texts = self.texts(session)
            rows = [row for row in rows if all(word in texts[row.key.id][1] for word in words)]
        order = _ORDERS.get(selection.sort)
        return sorted(rows, key=order, reverse=True) if order else list(rows)

    def page(
        self, session: Session, selection: Selection, *, number: int, per_page: int, seed: int
    ) -> tuple[list[CardKey], int]:
        """Page ``number`` (from 1) of the list: its cards' keys, in order, and the whole list's length."""
        rows = self.select(session, selection)
        start, stop = (number - 1) * per_page, min(number * per_page, len(rows))
        if selection.sort in _ORDERS:
            return [row.key for row in rows[start:stop]], len(rows)
        shuffle = Shuffle(len(rows), seed)
        return [rows[shuffle(position)].key for position in range(start, stop)], len(rows)


class Shuffle:
    """A permutation of ``range(n)`` fixed by a seed, computed one position at a time.

    Three keyed rounds, each a bijection of the integers below the smallest power of two that holds
    ``n`` (multiply by an odd number and add, modulo the power; then fold the high bits into the low
    ones), walked again until the value lands inside ``range(n)`` (fewer than two tries on average):
    each seed gives its own order, and over seeds each proposal is as likely to be at any position,
    so none is favoured by being listed first. A page costs its 20 positions, whatever the list's
    length.
    """

    ROUNDS = 3

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        bits = max(2, (max(n, 2) - 1).bit_length())
        self.mask, self.shift = (1 << bits) - 1, (bits + 1) // 2
        draw = random.Random(seed)
        self.keys = tuple((draw.getrandbits(bits) | 1, draw.getrandbits(bits)) for _ in range(self.ROUNDS))

    def _permute(self, value: int) -> int:
        mask, shift = self.mask, self.shift
        for multiplier, addend in self.keys:
            value = (value * multiplier + addend) & mask
            value ^= value >> shift
        return value

    def __call__(self, position: int) -> int:
        value = self._permute(position)
        while value >= self.n:
            value = self._permute(value)
        return value


def _search_texts(session: Session, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in range(0, len(ids), 5_000):  # bounded IN lists
        found.update(
            session.execute(
                select(Proposal.id, Proposal.search_text).where(Proposal.id.in_(ids[chunk : chunk + 5_000]))
            ).all()
        )
    return found


def public_listing(session: Session, cycle_id: int) -> Listing:
    """The public proposals of the cycle, read now (one query; a second on the first search)."""
    rows = session.execute(
        select(*_COLUMNS).where(Proposal.cycle_id == cycle_id, Proposal.status.in_(PUBLIC_STATUSES))
    )
    return Listing(map(_row, rows))


def own_listing(session: Session, cycle_id: int, author_id: int) -> Listing:
    """The proposals the author wrote in the cycle, drafts included, read now (never kept)."""
    rows = session.execute(select(*_COLUMNS).where(Proposal.cycle_id == cycle_id, Proposal.author_id == author_id))
    return Listing(map(_row, rows))


class ProposalIndex:
    """The latest public :class:`Listing` of each cycle, per process (one per application)."""

    def __init__(self, size: int = KEPT_CYCLES) -> None:
        self._listings = LRU(size)  # cycle id -> ((cycle version, stamp), listing)

    def listing(self, session: Session, cycle_id: int, cycle_version: int, stamp: int) -> Listing:
        """The cycle's public proposals as of ``stamp`` (the cycle's ``proposal_stamp``, read first)."""
        entry = self._listings.get(cycle_id)
        if entry is not None and entry[0] == (cycle_version, stamp):
            return entry[1]
        listing = public_listing(session, cycle_id)
        if entry is not None:
            listing.carry_texts(entry[1])
        self._listings.put(cycle_id, ((cycle_version, stamp), listing))
        return listing

    def clear(self) -> None:
        self._listings.clear()
