"""Voting: who may vote (codes, confirmed accounts), that someone voted, and what was voted.

The trust design (``../shared/DESIGN.md``) keeps three stores with no join key between them:

- the voter roll: :class:`VoterCodeBatch` / :class:`VoterCode` (one-time codes, stored only as keyed
  hashes) and :class:`VoterEligibility` (accounts staff confirmed);
- participation (:class:`Participation`): that a voter took part in a cycle, by which channel, on which
  day; unique per cycle and voter (the double-vote guard); no ballot reference, no time of day, and a
  random id, so that its rows cannot be put in casting order by their keys;
- the ballot store (:class:`Ballot`) and its hash-chained log (:class:`BallotLogEntry`): choices, with
  no voter, address, user agent or timestamp. A voter's ballots share a ``slot``, a keyed hash of the
  voter under the cycle's slot key (:class:`VotingKey`), which is destroyed when voting closes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, str_enum, utcnow
from pb.models.cycle import Cycle, District
from pb.models.user import User


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"  # ballots staff enter from paper (a later issue); the first channel used wins


class BallotStatus(StrEnum):
    COUNTED = "counted"
    REPLACED = "replaced"  # a later ballot of the same voter (same slot) counts instead
    VOIDED = "voided"  # staff voided it before close, with a public reason


class EligibilityBasis(StrEnum):
    IN_PERSON = "in_person"  # staff checked the person's details in person
    REGISTRY = "registry"  # the details matched the voter registry staff imported
    PARTNER = "partner"  # a community partner vouched for a stated residence (no ID needed)


class VoterCodeBatch(Base):
    """A batch of one-time voter codes that staff generated (and may print, hand out or void)."""

    __tablename__ = "voter_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    # The district whose ballot the codes open (None: the voter chooses, for a cycle without districts).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    label: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str] = mapped_column(String(1000), default="")

    cycle: Mapped[Cycle] = relationship()
    district: Mapped[District | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class VoterCode(Base):
    """One code: only its keyed hash and a short prefix (for lookups and rate limits) are kept."""

    __tablename__ = "voter_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("voter_code_batches.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(4))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The day it was first used to vote (a day, not a time: participation's granularity).
    used_on: Mapped[date | None] = mapped_column(Date)
    # Staff voided this code's ballot as misused: it cannot vote again.
    voided: Mapped[bool] = mapped_column(default=False, server_default="0")

    batch: Mapped[VoterCodeBatch] = relationship()


class VoterEligibility(Base):
    """An account staff (or a community partner, through staff) confirmed as a voter of a cycle."""

    __tablename__ = "voter_eligibilities"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    basis: Mapped[EligibilityBasis] = mapped_column(str_enum(EligibilityBasis))
    # What was checked ("driver's licence", "lives at the shelter on King St., vouched by ..."): no ID numbers.
    note: Mapped[str] = mapped_column(String(1000), default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    district: Mapped[District | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])


class Participation(Base):
    """That a voter took part in a cycle: unique per cycle and voter, the double-vote guard.

    ``voter`` is ``account:<user id>`` or ``code:<code id>``. No ballot reference, no time finer
    than the day, and a random primary key (an autoincrementing one would list voters in the
    order their ballots were cast, which the ballot log also shows).
    """

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("cycle_id", "voter"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    voted_on: Mapped[date] = mapped_column(Date)
    # An account voter's confirmation mail waits for the next hourly batch (never sent in casting order).
    confirmation_pending: Mapped[bool] = mapped_column(default=False, server_default="0")


class VotingKey(Base):
    """The cycle's slot key while voting runs; deleted when voting closes, so slots stop naming voters."""

    __tablename__ = "voting_keys"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    slot_key: Mapped[bytes] = mapped_column(LargeBinary(32))


class Ballot(Base):
    """A ballot as counted: choices and where they count, never who cast them or when."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("cycle_id", "receipt"),
        Index("ix_ballots_cycle_id_slot", "cycle_id", "slot"),
    )

    # The random 128-bit ballot id (hex), part of the hashed log entry, so the receipt is unguessable.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    slot: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    # pb.services.ballot_rules.Choices.to_json(): canonical JSON of what the voter chose.
    choices: Mapped[str] = mapped_column(Text)
    status: Mapped[BallotStatus] = mapped_column(str_enum(BallotStatus), default=BallotStatus.COUNTED)
    void_reason: Mapped[str] = mapped_column(String(1000), default="")
    # The first 16 hexadecimal digits of the log entry's hash that cast it.
    receipt: Mapped[str] = mapped_column(String(16))
    log_position: Mapped[int] = mapped_column(BigInteger)


class BallotNonce(Base):
    """A ballot form's one-time nonce once used: a replay finds it and gets the same receipt back.

    ``digest`` is a keyed hash of the cycle, the voter and the nonce, so a nonce copied from one
    voter's page is worth nothing to another; there is no time and no voter here.
    """

    __tablename__ = "ballot_nonces"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    receipt: Mapped[str | None] = mapped_column(String(16))


class BallotLogEntry(Base):
    """One entry of a cycle's public, hash-chained ballot log (cast, void or close)."""

    __tablename__ = "ballot_log_entries"
    __table_args__ = (UniqueConstraint("cycle_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Canonical JSON of the entry (pb.hashchain.canonical_json).
    payload: Mapped[str] = mapped_column(Text)


class BallotLogHead(Base):
    """Where a cycle's ballot log stands; appending locks this row, so entries are written one at a time."""

    __tablename__ = "ballot_log_heads"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # Ballots that count now (cast, minus replaced and voided): the public running number.
    counted: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last batch of confirmation mails was queued (pb.services.voting.send_confirmations).
    confirmations_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VotingActivity(Base):
    """How many ballots were cast in each hour, by channel: the integrity dashboard's one time series.

    A count per hour, written beside the ballot in the same transaction; it names no ballot and no
    voter (participation keeps only the day), so it shows bursts without timing anyone's ballot.
    """

    __tablename__ = "voting_activity"
    __table_args__ = (UniqueConstraint("cycle_id", "hour", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)  # the start of the hour, UTC
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    ballots: Mapped[int] = mapped_column(default=0)
