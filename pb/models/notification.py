"""How far mail about followed proposals has got: one shared bookmark, and the news waiting for each person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pb.db import Base, UTCDateTime

BOOKMARK_ID = 1


class NotificationBookmark(Base):
    """One row (id 1): status changes and comments up to ``read_until`` have been read by a round.

    Missing until the first round, which then reads every past event once.
    """

    __tablename__ = "notification_bookmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    read_until: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingNotification(Base):
    """One piece of news (a comment or a status change) for one follower, until their next mail.

    Written by the round that reads the event; deleted by the round in which the person is due
    (each time, or once a day for a digest), whether or not the news is still worth telling then.
    """

    __tablename__ = "pending_notifications"
    __table_args__ = (
        CheckConstraint("(comment_id IS NULL) <> (status_change_id IS NULL)", name="one_event"),
        UniqueConstraint("user_id", "comment_id"),
        UniqueConstraint("user_id", "status_change_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    status_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal_status_changes.id", ondelete="CASCADE")
    )
