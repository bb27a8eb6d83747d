"""Proposals: project ideas residents submit to a cycle, their translations and status history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, str_enum, utcnow
from pb.models.cycle import Category, Cycle, District
from pb.models.user import User


class ProposalStatus(StrEnum):
    DRAFT = "draft"  # only the author sees it
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    FEASIBLE = "feasible"
    NOT_FEASIBLE = "not_feasible"  # always with a public reason
    MERGED = "merged"  # into another proposal (``merged_into``)
    ON_BALLOT = "on_ballot"
    WITHDRAWN = "withdrawn"  # by its author


# Statuses the public sees (a draft is its author's alone).
PUBLIC_STATUSES = tuple(s for s in ProposalStatus if s is not ProposalStatus.DRAFT)
LANGUAGES = ("en", "fr")


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        # The list's filter, count and random order read only this index (ids, no wide rows).
        Index("ix_proposals_cycle_status_id", "cycle_id", "status", "id"),
        # "Most supported" and "most commented": the first page is the index's last entries.
        Index("ix_proposals_cycle_supports", "cycle_id", "support_count", "id"),
        Index("ix_proposals_cycle_comments", "cycle_id", "comment_count", "id"),
        Index("ix_proposals_cycle_submitted", "cycle_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus), default=ProposalStatus.DRAFT)

    language: Mapped[str] = mapped_column(String(2))  # the language it is written in: "en" or "fr"
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    # None: city-wide (when the cycle allows it).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    location: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Numeric(8, 6, asdecimal=False))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    beneficiaries: Mapped[str] = mapped_column(String(1000), default="")
    estimated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    partner: Mapped[str] = mapped_column(String(200), default="")
    # Shown publicly as "a resident of <district>" instead of by name; staff always see the author.
    show_author_name: Mapped[bool] = mapped_column(default=True)

    # One optional photo, stored as a file (see ``pb.photos``): its name there and its alt text.
    photo_name: Mapped[str | None] = mapped_column(String(100))
    photo_alt: Mapped[str] = mapped_column(String(300), default="")

    # Moderation: a hidden proposal stays findable with the moderators' public reason.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))

    # Case- and accent-folded title, summary, description and translations, for search on any database.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Kept by the services that add and remove supports and comments, so lists sort without counting.
    support_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    cycle: Mapped[Cycle] = relationship()
    author: Mapped[User] = relationship()
    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    translations: Mapped[list[ProposalTranslation]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan"
    )
    history: Mapped[list[ProposalStatusChange]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalStatusChange.id"
    )

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def translation(self, language: str) -> ProposalTranslation | None:
        return next((t for t in self.translations if t.language == language), None)


class ProposalTranslation(Base):
    """The proposal's texts in the other official language, added by staff and shown as a translation."""

    __tablename__ = "proposal_translations"
    __table_args__ = (UniqueConstraint("proposal_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text)
    translated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    translated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="translations")


class ProposalStatusChange(Base):
    """One step of a proposal's public history: who moved it from what to what, when and why."""

    __tablename__ = "proposal_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    # None for the first step (a draft submitted); "hidden"/"restored" steps keep the status.
    from_status: Mapped[ProposalStatus | None] = mapped_column(str_enum(ProposalStatus))
    to_status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus))
    # What happened, when it is not a plain status change: "hidden", "restored", "edited", "merged".
    event: Mapped[str] = mapped_column(String(20), default="status")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    public_reason: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    proposal: Mapped[Proposal] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class ProposalActivity(Base):
    """A counter per cycle that moves whenever anything its proposal pages show changes: a proposal,
    its translation, history, review, comments or counters, or the name of one of their authors.

    Database triggers move it (migration 0017), in the same transaction as the change and whatever
    code makes it, so pages kept under it (``pb.fragments``, ``pb.services.proposal_index``) cannot
    miss a change. On PostgreSQL the triggers are deferred to the commit, so two transactions never
    wait for each other's counter while holding a proposal's row."""

    __tablename__ = "proposal_activity"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
