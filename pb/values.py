"""Values as people write them and as the database keeps them: money, moments, time zones, slugs.

Standard library only (no Flask, no database), so services, forms, commands and the demo share one
reading of each value. A value that cannot be read raises :class:`ValueError`; the caller says why
in the user's language (a form error, or a :class:`pb.services.errors.DomainError`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Budgets and costs live in BIGINT columns, in cents.
MAX_CENTS = 2**63 - 1

# A leading 0 group ("0.125") is a typo, not thousands.
_GROUPING = re.compile(r"^[1-9]\d{0,2}(?:[ ,.]\d{3})+$")


def parse_money(text: str) -> int:
    """Dollars and cents as written by people, to integer cents, exactly (never through float).

    Accepts ``250000``, ``250000.00``, ``250,000.00``, ``250 000,00``, ``$1,234.5`` and
    ``1 234,56 $``. The last ``.`` or ``,`` followed by one or two digits is the decimal mark;
    any other separator must group digits by three. Raises :class:`ValueError` otherwise.
    """
    cleaned = text.strip()
    for symbol in ("CA$", "CAD", "$"):
        cleaned = cleaned.replace(symbol, "")
    for space in ("\u00a0", "\u202f", "\u2009", "'"):
        cleaned = cleaned.replace(space, " ")
    cleaned = re.sub(r" +", " ", cleaned.strip())
    if not cleaned or cleaned.startswith(("-", "+")):
        raise ValueError("not an amount")
    whole, cents = cleaned, "00"
    decimal = re.search(r"[.,](\d{1,2})$", cleaned)
    if decimal:
        whole, cents = cleaned[: decimal.start()], decimal.group(1).ljust(2, "0")
        if not whole:
            whole = "0"
    if whole.isdigit():
        digits = whole
    else:
        separators = set(re.findall(r"[ ,.]", whole))
        if (
            len(separators) != 1
            or not _GROUPING.match(whole)
            or (decimal and cleaned[decimal.start()] in separators)
        ):
            raise ValueError("not an amount")
        digits = re.sub(r"[ ,.]", "", whole)
    return int(digits) * 100 + int(cents)


def format_money_input(cents: int | None) -> str:
    """Cents as the plain text a money input shows (``250000.00``), readable in both languages."""
    if cents is None:
        return ""
    return f"{cents // 100}.{cents % 100:02d}"


def is_valid_timezone(name: str) -> bool:
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_to_utc(moment: datetime, timezone: str) -> datetime:
    """A wall-clock time in ``timezone`` (naive) as a UTC-aware datetime."""
    return moment.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def utc_to_local(moment: datetime, timezone: str) -> datetime:
    """A UTC-aware datetime as the naive wall-clock time in ``timezone`` (for a form)."""
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def to_minute(moment: datetime) -> datetime:
    """A UTC-aware datetime to the minute (phase dates have no seconds); refuses naive datetimes."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass UTC-aware datetimes")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def iso_utc(moment: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC (as records and the audit log keep it); ``None`` stays ``None``."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens, at most 60 characters (``item`` if none)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "item"
