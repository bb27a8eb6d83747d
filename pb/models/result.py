"""A cycle's counted result: drafted by staff after voting closes, then published for good.

A result keeps what it was computed from (the frozen ballot configuration, the sealed ballot log's
head and the software version) and the outcome of each count, as the canonical JSON that
:func:`pb.tally.report.outcome_json` writes (one count per budget: the cycle's, or each district's).
A published result is never changed: a correction is a new result that names the one it corrects,
with a public reason.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, str_enum, utcnow
from pb.models.cycle import Cycle
from pb.models.user import User


class ResultStatus(StrEnum):
    DRAFT = "draft"  # staff review it; nothing of it is public
    PUBLISHED = "published"
    DISCARDED = "discarded"  # a draft replaced by a newer count before publication


class Result(Base):
    __tablename__ = "results"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    status: Mapped[ResultStatus] = mapped_column(str_enum(ResultStatus), default=ResultStatus.DRAFT)
    # What the count used: pb.ballot.BallotConfig.to_json() frozen when voting opened, and the sealed log.
    ballot_config: Mapped[str] = mapped_column(Text)
    log_head: Mapped[str] = mapped_column(String(90))  # "COUNT:HASH" (pb.hashchain.Head)
    counted: Mapped[int] = mapped_column(BigInteger)  # ballots counted
    # Canonical JSON: {"counts": [{"district": slug or null, "budget_cents": n, "outcome": {...}}]}
    outcome: Mapped[str] = mapped_column(Text)
    software_version: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A correction names the published result it replaces, with the public reason.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("results.id", ondelete="RESTRICT"))
    correction_reason: Mapped[str] = mapped_column(Text, default="")

    cycle: Mapped[Cycle] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    corrects: Mapped[Result | None] = relationship(remote_side=[id])

    @property
    def is_published(self) -> bool:
        return self.status is ResultStatus.PUBLISHED
