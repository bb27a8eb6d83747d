"""The canonical identity of a person on the voter registry: what is hashed to find them.

Standard library only, no Flask, no database. Staff import a registry file and residents type their
details; both go through :func:`canonical_identity`, and the voter registry keeps only a keyed hash
(HMAC-SHA-256) of the result, so the same person gives the same hash however the details are written:

- names (:func:`name_key`): compatibility decomposition (NFKD), accents dropped, case folded, a few
  letters that do not decompose spelt out (``œ`` → ``oe``, ``ø`` → ``o``...), and every space, hyphen,
  apostrophe, period or other separator removed. "Côté-Léger", "cote leger", "COTE LEGER" and
  "CôtéLéger" are the same; so are "O'Neil", "O’Neil" and "ONEIL";
- the date of birth as ``YYYY-MM-DD``;
- the postal code (:func:`postal_code_key`): a Canadian postal code ``A1A 1A1``, any case, with or
  without its space or a hyphen ("h2x 1y4" = "H2X1Y4"); anything else is refused.

What it cannot do: a typo ("Tremblay" typed "Tremblai"), a name changed since the registry was made
(marriage, transition), a move to another postal code, a nickname or a shortened first name ("Bob"
for "Robert", "Marie" for "Marie-Ève Josée"), or names written in another script. Those are not
guessed at (a fuzzy match would let one person claim another's line): the resident sees staff, who
confirm them in person.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

MAX_NAME_LENGTH = 200
"""Characters a name may have as typed: longer ones are refused unread."""

VERSION = "pb-registry-v1"
"""The first field of every canonical identity: a later change of the rules gives other hashes."""

_SEPARATOR = "\x1f"  # the unit separator: never part of a key, so fields cannot run into each other

# Letters that NFKD does not split into a base letter and an accent.
_SPELT_OUT = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d",
     "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "ŀ": "l", "Ŀ": "l"}
)

# Canada Post: no D, F, I, O, Q or U anywhere; no W or Z as the first letter.
_POSTAL_CODE = re.compile(r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]")
_POSTAL_IGNORED = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


class IdentityError(ValueError):
    """A detail that cannot be part of an identity; ``field`` names it (never its value)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid {field}")
        self.field = field


def name_key(text: str) -> str:
    """A name as the registry compares it: ``"Côté-Léger"`` → ``"coteleger"``; ``""`` when nothing is left."""
    if not isinstance(text, str) or len(text) > MAX_NAME_LENGTH:
        return ""
    if text.isascii():  # most names in a registry file: the same result, a hundred times faster
        return _NOT_ASCII_ALNUM.sub("", text.lower())
    return _unicode_name_key(text)


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65_536)  # first names and common last names repeat through a file
def _unicode_name_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELT_OUT))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKD", kept.translate(_SPELT_OUT).casefold())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def postal_code_key(text: str) -> str | None:
    """``"h2x 1y4"`` → ``"H2X1Y4"``; ``None`` when it is not a Canadian postal code."""
    if not isinstance(text, str) or len(text) > 20:
        return None
    compact = _POSTAL_IGNORED.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not compact.isascii() or not _POSTAL_CODE.fullmatch(compact):
        return None
    return compact


def canonical_identity(last_name: str, first_names: str, birth_date: date, postal_code: str) -> str:
    """The one string that stands for these details; :class:`IdentityError` names the first bad one."""
    last = name_key(last_name)
    if not last:
        raise IdentityError("last_name")
    first = name_key(first_names)
    if not first:
        raise IdentityError("first_names")
    if not isinstance(birth_date, date) or isinstance(birth_date, datetime):
        raise IdentityError("birth_date")
    postal = postal_code_key(postal_code)
    if postal is None:
        raise IdentityError("postal_code")
    return identity_of_keys(last, first, birth_date, postal)


def identity_of_keys(last: str, first: str, birth_date: date, postal: str) -> str:
    """:func:`canonical_identity` of details already put through :func:`name_key` and :func:`postal_code_key`."""
    return _SEPARATOR.join((VERSION, last, first, birth_date.isoformat(), postal))
