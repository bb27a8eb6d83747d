"""Search that ignores case and accents the same way on every database.

Stored texts keep a folded copy (``fold``: case-folded, accents removed, spaces collapsed) and a
search folds its terms the same way, so "securite" finds "Sécurité" on SQLite and PostgreSQL alike
without extensions or collations.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
MAX_TERMS = 8
MAX_TERM_LENGTH = 50


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip()


def terms(query: str) -> list[str]:
    """The folded words of a search, at most ``MAX_TERMS`` of them, each cut to a sane length."""
    words = [w[:MAX_TERM_LENGTH] for w in fold(query).split(" ") if w]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def like_pattern(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere; ``\\`` escapes the wildcards."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
