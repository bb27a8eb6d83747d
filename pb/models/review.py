"""Review of proposals by staff and budget delegates, and the ballot projects that come out of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pb.db import Base, UTCDateTime, str_enum, utcnow
from pb.models.cycle import Category, Cycle, District
from pb.models.proposal import Proposal
from pb.models.user import User


class Feasibility(StrEnum):
    FEASIBLE = "feasible"
    NOT_FEASIBLE = "not_feasible"  # always with a public reason


class ReviewAssignment(Base):
    """Staff ask a reviewer (staff or a budget delegate) to review a proposal."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship(
        backref=backref("review_assignments", cascade="all, delete-orphan", order_by="ReviewAssignment.id")
    )
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])


class Review(Base):
    """A proposal's one review: its current state, and who drafted and who confirmed it.

    Reviewers (assigned delegates, any staff) draft it; staff confirm it, which decides the
    proposal's status. ``internal_notes`` are for reviewers only: never on a public page or export.
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    feasibility: Mapped[Feasibility | None] = mapped_column(str_enum(Feasibility))
    public_reason: Mapped[str] = mapped_column(String(1000), default="")  # required when not feasible
    cost_estimate_cents: Mapped[int | None] = mapped_column(BigInteger)
    civil_liberties: Mapped[str] = mapped_column(String(2000), default="")  # surveillance, privacy, policing
    equity: Mapped[str] = mapped_column(String(2000), default="")  # who benefits, which groups are reached
    partner_capacity: Mapped[str] = mapped_column(String(2000), default="")
    public_summary: Mapped[str] = mapped_column(String(2000), default="")
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    # A reviewer may suggest that this proposal duplicates another; staff confirm the merge.
    merge_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    merge_reason: Mapped[str] = mapped_column(String(1000), default="")
    merge_suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The drafter's role when they drafted ("delegate" or "staff"), as the public page names it.
    drafted_by_role: Mapped[str] = mapped_column(String(20), default="")
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal: Mapped[Proposal] = relationship(
        foreign_keys=[proposal_id], backref=backref("review", uselist=False, cascade="all, delete-orphan")
    )
    merge_into: Mapped[Proposal | None] = relationship(foreign_keys=[merge_into_id])
    drafted_by: Mapped[User | None] = relationship(foreign_keys=[drafted_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


ballot_project_proposals = Table(
    "ballot_project_proposals",
    Base.metadata,
    Column("project_id", ForeignKey("ballot_projects.id", ondelete="CASCADE"), primary_key=True),
    # A proposal becomes at most one ballot project.
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True, unique=True),
)


class BallotProject(Base):
    """A project on the ballot: frozen once voting opens.

    Staff make confirmed projects; a budget delegate's project is a draft (``confirmed_at`` is None)
    until staff confirm it, and only confirmed projects are on the ballot.
    """

    __tablename__ = "ballot_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    title_en: Mapped[str] = mapped_column(String(150))
    title_fr: Mapped[str] = mapped_column(String(150))
    description_en: Mapped[str] = mapped_column(String(1000))
    description_fr: Mapped[str] = mapped_column(String(1000))
    cost_cents: Mapped[int] = mapped_column(BigInteger)
    # None: city-wide.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(default=0)
    # Who drafted it, and their role then ("delegate" or "staff").
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    drafted_by_role: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cycle: Mapped[Cycle] = relationship()
    district: Mapped[District | None] = relationship()
    category: Mapped[Category | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    proposals: Mapped[list[Proposal]] = relationship(secondary=ballot_project_proposals, order_by=Proposal.id)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def title(self, locale: str) -> str:
        return self.title_fr if locale.startswith("fr") else self.title_en

    def description(self, locale: str) -> str:
        return self.description_fr if locale.startswith("fr") else self.description_en
