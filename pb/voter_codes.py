"""One-time voter codes: generation, display, what a person typed, and how they are stored.

Standard library only (the architecture test enforces it), no Flask, no database: the voting
services call these functions and keep the results.

A code is 16 characters drawn with :mod:`secrets` from :data:`ALPHABET`: the capital letters and
digits without the characters people confuse when they read a slip or type it (``0 O 1 I L``).
That leaves 31 characters, not 32: A-Z less I, L, O is 23 letters, 2-9 is 8 digits, and no other
character that a person types without thinking is left to add. A code therefore carries
16 x log2(31) = 79.3 bits, which is :data:`ENTROPY_BITS`. That is what matters for the storage
decision: a secret that nobody can guess in 2^79 tries needs no slow hash, so a code is stored as
HMAC-SHA-256 (:func:`digest`) under a key kept outside the database, never in clear.

What a person types is read by :func:`normalize`: any case, spaces, dashes (ASCII, en and em
dashes, the minus sign...) and invisible characters anywhere, so a pasted ``ABCD-EFGH-JKMN-PQRS``
or a typed ``abcd efgh jkmn pqrs`` both work. Look-alike characters are *not* mapped: since
neither ``0`` nor ``O`` (nor ``1``, ``I``, ``L``) is in the alphabet, there is nothing they could
stand for without guessing, so a text containing one is refused (``None``) and the form can say
which characters codes never contain (:data:`LOOK_ALIKES`).

Keys: the voting code holds one master key (configuration, outside the database) and derives one
key per purpose with :func:`derive_key` (``"voter codes"``, ``"registry"``, ``"ballot nonces"``...),
so a digest made for one purpose is useless for another.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""The 31 characters of a code: capital letters and digits without ``0 O 1 I L``."""

LOOK_ALIKES = "0O1IL"
"""Characters that codes never contain because they are mistaken for one another."""

LENGTH = 16
"""Characters in a code."""

GROUP = 4
"""Characters in each group of :func:`display`, and in :func:`prefix`."""

ENTROPY_BITS = LENGTH * math.log2(len(ALPHABET))
"""Bits of entropy of a code drawn by :func:`generate` (79.3)."""

PREFIX_BITS = GROUP * math.log2(len(ALPHABET))
"""Bits a stored :func:`prefix` gives away (19.8); ``ENTROPY_BITS - PREFIX_BITS`` (59.5) stay secret."""

MIN_KEY_BYTES = 16
"""Shorter keys are refused: they would be weaker than the codes they protect."""

# What a person may type between the characters of a code: every kind of space (str.isspace), the
# dashes and hyphens of keyboards and word processors, and the invisible characters a copy can carry.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_IGNORED = frozenset(_DASHES + _INVISIBLE)
_ACCEPTED = frozenset(ALPHABET)
_UPPER = {ord(c): ord(c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"}
# A typed code with generous separators is well under this; anything longer is refused unread.
_MAX_TYPED = 64


def generate() -> str:
    """A new code: 16 characters of :data:`ALPHABET`, each drawn independently by :mod:`secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def generate_many(n: int) -> list[str]:
    """``n`` distinct new codes, in the order drawn.

    Distinct within the batch; two batches colliding is as likely as guessing a code, and the
    unique index on the stored digest is what refuses it.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"the number of codes must be a non-negative integer, not {n!r}")
    codes: dict[str, None] = {}  # a dict keeps the drawing order
    while len(codes) < n:
        codes[generate()] = None
    return list(codes)


def normalize(text: str) -> str | None:
    """The 16-character code a person meant by ``text``, or ``None`` if it cannot be a code.

    Case, spaces, dashes and invisible characters are ignored wherever they are; any other
    character outside :data:`ALPHABET` (a look-alike such as ``O``, a NUL, a lone surrogate, an
    accented letter) or any other length gives ``None``. Texts longer than 64 characters are
    refused without being read.
    """
    if not isinstance(text, str) or len(text) > _MAX_TYPED:
        return None
    kept = [c for c in text if not (c in _IGNORED or c.isspace())]
    if len(kept) != LENGTH:
        return None
    code = "".join(kept).translate(_UPPER)  # ASCII only: str.upper() would turn "ſ" into "S"
    if not _ACCEPTED.issuperset(code):
        return None
    return code


def _valid(code: str) -> str:
    normalized = normalize(code)
    if normalized is None:
        raise ValueError("not a voter code")  # never echo the value: it may be a real code
    return normalized


def display(code: str) -> str:
    """The code as printed and shown: four groups of four joined by dashes, ``ABCD-EFGH-JKMN-PQRS``."""
    code = _valid(code)
    return "-".join(code[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def digest(key: bytes, code: str) -> str:
    """HMAC-SHA-256 (lowercase hex) of the normalized code under ``key``: what the database stores.

    ``key`` comes from :func:`derive_key` and lives outside the database, so a copy of the database
    alone gives no way to test a guess offline. ``code`` may be typed or displayed form.
    """
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the key must be at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, _valid(code).encode("ascii"), hashlib.sha256).hexdigest()


def prefix(code: str) -> str:
    """The first four characters of the normalized code, stored in clear beside the digest.

    It serves as a short lookup key and as the bucket for rate-limiting wrong codes (someone who
    has seen part of a slip cannot try the rest quickly). Storing it costs little: four characters
    are 4 x log2(31) = 19.8 bits, so 12 characters, 59.5 bits, stay secret. Online, a guesser
    who knows a prefix still faces 2^59 possibilities behind a rate limit; offline, even with the
    HMAC key as well, finding one code would take about 2^58 HMAC computations on average. With
    100,000 codes in a cycle a prefix is shared by about 0.1 codes, so it identifies rows almost
    uniquely without being usable as the secret.
    """
    return _valid(code)[:GROUP]


def derive_key(master: bytes | str, purpose: str) -> bytes:
    """The 32-byte key for one ``purpose``: HMAC-SHA-256(master, b"pb " + purpose).

    One master key in the configuration; a separate key per use (``"voter codes"``, ``"registry"``,
    ``"ballot nonces"``...), so that no digest made for one use can be matched against another.
    A ``str`` master is encoded as UTF-8.
    """
    if isinstance(master, str):
        master = master.encode("utf-8")
    if not isinstance(master, bytes) or len(master) < MIN_KEY_BYTES:
        raise ValueError(f"the master key must be at least {MIN_KEY_BYTES} bytes")
    if not isinstance(purpose, str) or not purpose.strip():
        raise ValueError("a key needs a purpose")
    return hmac.new(master, b"pb " + purpose.encode("utf-8"), hashlib.sha256).digest()
