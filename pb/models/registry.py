"""The voter registry: who may vote in a cycle, as staff imported it, kept only as keyed hashes.

A line of the registry (:class:`VoterRegistryEntry`) is the HMAC-SHA-256 (under a key derived from the
voting key, which lives in the configuration) of a canonical identity (:mod:`pb.registry_identity`:
last name, first names, date of birth, postal code), plus the district whose ballot it opens. No
name, address, date or postal code is stored in clear: the age and citizenship rules are applied when
the file is imported (rows that fail them are not stored), so nothing else is needed to match.

A resident who types the same details gets the same digest and becomes a voter
(:class:`pb.models.VoterEligibility`, basis ``registry``); the line then records which account it
confirmed, and it confirms no other. ``matched_at`` stays set even if that account is deleted, so a
line that served once cannot serve a second account.

Each import is a :class:`VoterRegistryImport` (counts and the reasons rows were rejected, by line
and column, never their content). A new import replaces the cycle's unmatched lines; matched lines
stay, since accounts were confirmed from them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, utcnow
from pb.models.cycle import Cycle, District
from pb.models.user import User


class VoterRegistryImport(Base):
    """One registry file staff imported for a cycle: who, when, and how many rows were taken."""

    __tablename__ = "voter_registry_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows_accepted: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    # Unmatched lines of earlier imports that this one removed.
    entries_replaced: Mapped[int] = mapped_column(default=0)
    # JSON list of [line, column, reason code] for the first rejected rows: no content of any row.
    rejections: Mapped[str] = mapped_column(Text, default="[]")

    cycle: Mapped[Cycle] = relationship()
    imported_by: Mapped[User | None] = relationship()


class VoterRegistryEntry(Base):
    """One person on the registry: a keyed hash of their identity and their district, nothing in clear."""

    __tablename__ = "voter_registry_entries"
    __table_args__ = (UniqueConstraint("cycle_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    import_id: Mapped[int] = mapped_column(ForeignKey("voter_registry_imports.id", ondelete="CASCADE"), index=True)
    # HMAC-SHA-256 (hex) of pb.registry_identity.canonical_identity(...) under the "voter registry" key.
    digest: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    # The account this line confirmed (one at most); matched_at stays if the account is deleted.
    matched_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    district: Mapped[District | None] = relationship()
