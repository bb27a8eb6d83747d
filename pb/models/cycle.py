"""Budget cycles: their phases, districts, categories and ballot settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from pb.ballot import BallotConfig, BallotType
from pb.db import Base, UTCDateTime, str_enum, utcnow


class Phase(StrEnum):
    """The phases of a cycle, in the order they happen."""

    PROPOSALS = "proposals"  # residents submit project ideas
    REVIEW = "review"  # deliberation, and staff review of feasibility and cost
    VOTING = "voting"
    RESULTS = "results"


@dataclass(frozen=True)
class PhaseWindow:
    phase: Phase
    starts_at: datetime
    ends_at: datetime | None  # None: the results phase never ends
    closed_early_at: datetime | None = None

    @property
    def effective_end(self) -> datetime | None:
        if self.closed_early_at is None:
            return self.ends_at
        if self.ends_at is None:
            return self.closed_early_at
        return min(self.ends_at, self.closed_early_at)

    def is_open_at(self, moment: datetime) -> bool:
        end = self.effective_end
        return self.starts_at <= moment and (end is None or moment < end)


@dataclass(frozen=True)
class PhaseState:
    """Where a cycle stands at a moment.

    ``current`` is the phase open now, or ``None`` before the first phase and between two phases;
    ``upcoming`` is the next phase to open, if any; ``window`` is the current phase's window.
    """

    current: Phase | None
    upcoming: PhaseWindow | None
    last_started: Phase | None
    window: PhaseWindow | None = None


class PhaseDates:
    """Which phase runs when: from the seven phase dates and the early closures (``closures``, items with
    ``phase`` and ``closed_at``). A cycle is one; so is :class:`pb.services.cycles.CycleGlance`, the few
    columns a kept cycle page reads instead of loading the cycle."""

    proposals_start_at: datetime
    proposals_end_at: datetime
    review_start_at: datetime
    review_end_at: datetime
    voting_start_at: datetime
    voting_end_at: datetime
    results_start_at: datetime

    def timeline(self) -> list[PhaseWindow]:
        closed = {c.phase: c.closed_at for c in self.closures}
        return [
            PhaseWindow(
                Phase.PROPOSALS, self.proposals_start_at, self.proposals_end_at, closed.get(Phase.PROPOSALS)
            ),
            PhaseWindow(Phase.REVIEW, self.review_start_at, self.review_end_at, closed.get(Phase.REVIEW)),
            PhaseWindow(Phase.VOTING, self.voting_start_at, self.voting_end_at, closed.get(Phase.VOTING)),
            PhaseWindow(Phase.RESULTS, self.results_start_at, None, closed.get(Phase.RESULTS)),
        ]

    def phase_state(self, moment: datetime) -> PhaseState:
        current = None
        upcoming = None
        last_started = None
        for window in self.timeline():
            if window.starts_at <= moment:
                last_started = window.phase
                if window.is_open_at(moment):
                    current = window
            elif upcoming is None:
                upcoming = window
        return PhaseState(current and current.phase, upcoming, last_started, current)

    def voting_has_opened(self, moment: datetime) -> bool:
        """Once voting has opened, the ballot settings and the tally rule are frozen."""
        return self.voting_start_at <= moment or any(c.phase is Phase.VOTING for c in self.closures)

    def voting_is_over(self, moment: datetime) -> bool:
        """Voting has opened and is not open any more (its end has passed, or it was closed early)."""
        return self.voting_has_opened(moment) and self.phase_state(moment).current is not Phase.VOTING


class Cycle(PhaseDates, Base):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_fr: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="CAD")
    timezone: Mapped[str] = mapped_column(String(64), default="America/Toronto")
    # Either one budget for the whole cycle or one per district (then this is None).
    budget_cents: Mapped[int | None] = mapped_column(BigInteger)

    proposals_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    proposals_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    results_start_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ballot_type: Mapped[BallotType] = mapped_column(str_enum(BallotType), default=BallotType.APPROVAL)
    min_projects: Mapped[int | None]
    max_projects: Mapped[int | None]
    # Knapsack ballots: the least share of the budget, in percent, a ballot must fill.
    min_budget_share_percent: Mapped[int | None]
    ranking_length: Mapped[int | None]
    points_per_voter: Mapped[int | None]
    max_points_per_project: Mapped[int | None]
    allow_revision: Mapped[bool] = mapped_column(default=True)

    # Proposals and deliberation.
    max_proposals_per_resident: Mapped[int] = mapped_column(default=5, server_default="5")
    allow_citywide_proposals: Mapped[bool] = mapped_column(default=True, server_default="1")
    # Comments and supports are open in the review phase; this opens them during submission too.
    deliberation_during_proposals: Mapped[bool] = mapped_column(default=False, server_default="0")

    # Voting: who may vote, and how the ballot shows its projects.
    vote_with_codes: Mapped[bool] = mapped_column(default=True, server_default="1")
    vote_with_accounts: Mapped[bool] = mapped_column(default=True, server_default="1")
    min_voting_age: Mapped[int | None]  # on the last day of voting; None: no minimum
    noncitizens_may_vote: Mapped[bool] = mapped_column(default=True, server_default="1")
    # Projects in the order staff set rather than in a random order per voter (against position bias).
    fixed_project_order: Mapped[bool] = mapped_column(default=False, server_default="0")

    tally_rule: Mapped[str] = mapped_column(String(40), default="greedy")
    tally_utility: Mapped[str] = mapped_column(String(40), default="cost")
    tally_completion: Mapped[str] = mapped_column(String(40), default="none")
    tie_break: Mapped[str] = mapped_column(String(20), default="cost")
    tie_break_seed: Mapped[int] = mapped_column(default=0)
    # The last phase whose start pb.services.transitions.advance has recorded (None: none yet), kept
    # here so that a page sees from the cycle it loaded whether a transition is due, with no query.
    entered_phase: Mapped[Phase | None] = mapped_column(str_enum(Phase))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic concurrency: every UPDATE checks and bumps it, so an edit made from a stale
    # copy of the cycle fails instead of overwriting a change it never saw.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    districts: Mapped[list[District]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="District.position"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="Category.position"
    )
    closures: Mapped[list[PhaseClosure]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="PhaseClosure.closed_at"
    )

    def name(self, locale: str) -> str:
        return localized(self.name_en, self.name_fr, locale)

    def description(self, locale: str) -> str:
        return localized(self.description_en, self.description_fr, locale)

    @property
    def total_budget_cents(self) -> int:
        if self.budget_cents is not None:
            return self.budget_cents
        return sum(d.budget_cents or 0 for d in self.districts)

    @property
    def has_district_budgets(self) -> bool:
        return self.budget_cents is None

    def ballot_config(self) -> BallotConfig:
        """The ballot type, its limits and the counting rule, as one value (frozen once voting opens)."""
        return BallotConfig.of(self)

class District(Base):
    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("cycle_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    budget_cents: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="districts")

    def name(self, locale: str) -> str:
        return localized(self.name_en, self.name_fr, locale)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("cycle_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="categories")

    def name(self, locale: str) -> str:
        return localized(self.name_en, self.name_fr, locale)


class _OnePerCyclePhase:
    """A row about one phase of one cycle: at most one a cycle and phase."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # a constraint object of its own for each table
        return (UniqueConstraint("cycle_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    phase: Mapped[Phase] = mapped_column(str_enum(Phase))


class PhaseClosure(_OnePerCyclePhase, Base):
    """A phase that staff closed before its scheduled end."""

    __tablename__ = "phase_closures"

    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")

    cycle: Mapped[Cycle] = relationship(back_populates="closures")


class PhaseTransition(_OnePerCyclePhase, Base):
    """A phase a cycle entered, recorded once (``pb.services.transitions.advance``).

    ``at`` is when the phase began (its scheduled start), ``recorded_at`` when it was recorded (later
    when no worker ran at that moment). Entering voting freezes the ballot configuration: its
    canonical JSON (:meth:`pb.ballot.BallotConfig.to_json`) is kept in ``ballot_config``.
    """

    __tablename__ = "phase_transitions"

    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ballot_config: Mapped[str | None] = mapped_column(Text)


def localized(english: str, french: str, locale: str) -> str:
    """The text in the visitor's language, falling back to the other one when it is blank."""
    if locale.startswith("fr"):
        return french or english
    return english or french
