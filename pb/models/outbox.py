"""Mail waiting to be delivered: written in the transaction of the change that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pb.db import Base, UTCDateTime, str_enum


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker until ``next_attempt_at``
    SENT = "sent"
    FAILED = "failed"  # given up: a permanent refusal, or too many attempts


class OutboxMail(Base):
    """One message, rendered in the recipient's language when it was queued.

    The body (which may hold a one-time link) is erased once the mail is sent or given up.
    A worker claims a due mail by setting ``status`` to sending, a fresh ``claim_token`` and
    ``next_attempt_at`` to the end of its claim; a claim left by a worker that died expires.
    """

    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
