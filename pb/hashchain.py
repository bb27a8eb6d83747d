"""A keyed hash chain: the admin audit log now, the ballot log later (standard library only).

Each entry is a JSON object. Its hash is HMAC-SHA-256, under a key kept outside the database,
over a canonical JSON of the entry's position, the previous entry's hash and the entry itself.
Without the key no one can write an entry that verifies; because every hash covers the one
before it, a changed, inserted, removed or reordered entry breaks the chain from there on.
What the chain alone cannot show is a removed *tail*: for that the head (how many entries and
the last hash) is published, and a verifier compares it with ``expect``.

Verification can start from a checkpoint: a head already verified earlier. Only the entries
after it are re-hashed (the checkpoint itself is trusted; a full check starts at ``GENESIS``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Head:
    """Where a chain stands: how many entries it holds and the hash of the last one."""

    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``COUNT:HASH`` as printed by ``str(head)``; raises ``ValueError`` otherwise."""
        count, sep, digest = text.strip().partition(":")
        if not sep or not count.isdigit() or not _HASH.match(digest):
            raise ValueError("expected COUNT:HASH, e.g. 12:3f5a… (64 hexadecimal digits)")
        return cls(int(count), digest)


GENESIS = Head(0, GENESIS_HASH)


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(key: bytes, position: int, prev_hash: str, payload: Mapping[str, Any]) -> str:
    """The keyed hash of the entry at ``position`` (1 for the first) that follows ``prev_hash``."""
    return entry_hash_of_text(key, position, prev_hash, canonical_json(dict(payload)))


def entry_hash_of_text(key: bytes, position: int, prev_hash: str, payload_json: bytes) -> str:
    """:func:`entry_hash` of an entry given as its canonical JSON bytes (as a published log stores it).

    The hashed message is the canonical JSON of ``{"entry", "position", "prev"}``, written out here
    so that a verifier of a long published log hashes the bytes it read instead of writing them again.
    """
    message = b'{"entry":%b,"position":%d,"prev":%b}' % (payload_json, position, canonical_json(prev_hash))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def append(key: bytes, head: Head, payload: Mapping[str, Any]) -> Head:
    """The head after appending ``payload``; its ``hash`` is the new entry's hash."""
    position = head.count + 1
    return Head(position, entry_hash(key, position, head.hash, payload))


@dataclass(frozen=True)
class Link:
    """One stored entry as a verifier reads it back. ``ref`` names it in reports (e.g. a row id)."""

    position: int
    prev_hash: str
    payload: Mapping[str, Any]
    hash: str
    ref: Any = None
    # The payload's canonical JSON as stored, when the reader has it: hashed as it is.
    text: bytes | None = None


@dataclass(frozen=True)
class Problem:
    position: int  # the first entry that does not verify (for "missing": one past the last one)
    kind: str  # "order", "link", "content", "missing", "head"
    ref: Any = None


@dataclass(frozen=True)
class Verification:
    head: Head  # the head as far as the chain verified
    problem: Problem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(
    key: bytes, links: Iterable[Link], start: Head = GENESIS, expect: Iterable[Head] = ()
) -> Verification:
    """Check ``links`` (in order) as the continuation of ``start``; stop at the first problem.

    ``order``: a position is missing or repeated; ``link``: the entry does not name the hash of
    the one before it; ``content``: its hash is not the keyed hash of its content (changed, or
    written without the key). ``expect`` holds heads published earlier: the chain must pass
    through each of them (it may have grown since); ``missing``: the chain ends before one;
    ``head``: the entry at its position has another hash. Heads before ``start`` are not checked.
    """
    wanted = {head.count: head for head in expect if head.count >= start.count}
    head = start
    if wanted.get(head.count, head) != head:
        return Verification(head, Problem(head.count, "head"))
    for link in links:
        position = head.count + 1
        if link.position != position:
            return Verification(head, Problem(position, "order", link.ref))
        if not hmac.compare_digest(link.prev_hash, head.hash):
            return Verification(head, Problem(position, "link", link.ref))
        if link.text is not None:  # hash the stored bytes as they are (a long published log)
            expected = entry_hash_of_text(key, position, head.hash, link.text)
        else:
            expected = entry_hash(key, position, head.hash, link.payload)
        if not hmac.compare_digest(expected, link.hash):
            return Verification(head, Problem(position, "content", link.ref))
        head = Head(position, link.hash)
        if wanted.get(position, head) != head:
            return Verification(head, Problem(position, "head", link.ref))
    if any(count > head.count for count in wanted):
        return Verification(head, Problem(head.count + 1, "missing"))
    return Verification(head, None)
