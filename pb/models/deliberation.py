"""Deliberation on proposals: comments (one level of replies), supports, follows and flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, utcnow
from pb.models.proposal import Proposal
from pb.models.user import User


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_proposal_created", "proposal_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # A reply names the comment it answers; replies cannot be answered (one level).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="en")
    # Indexed alone for the notification round, which reads the comments newer than its bookmark.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    parent: Mapped[Comment | None] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list[Comment]] = relationship(back_populates="parent", order_by="Comment.id")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Support(Base):
    """One resident's support for one proposal; the unique constraint makes a second one impossible."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """A person who wants mail when a proposal changes status or gets a comment (authors follow their own)."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flag(Base):
    """A resident's report that a proposal or a comment breaks the rules, with their reason."""

    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint("(proposal_id IS NULL) <> (comment_id IS NULL)", name="one_subject"),
        # One open flag per person and subject (a NULL never collides in a plain unique constraint);
        # once moderators have acted on it, the same person may flag the subject again.
        Index(
            "uq_flags_user_proposal",
            "user_id",
            "proposal_id",
            unique=True,
            sqlite_where=text("comment_id IS NULL AND resolved_at IS NULL"),
            postgresql_where=text("comment_id IS NULL AND resolved_at IS NULL"),
        ),
        Index(
            "uq_flags_user_comment",
            "user_id",
            "comment_id",
            unique=True,
            sqlite_where=text("proposal_id IS NULL AND resolved_at IS NULL"),
            postgresql_where=text("proposal_id IS NULL AND resolved_at IS NULL"),
        ),
        Index("ix_flags_open", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a moderator acts on the flag (hides or keeps the subject).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    proposal: Mapped[Proposal | None] = relationship(foreign_keys=[proposal_id])
    comment: Mapped[Comment | None] = relationship(foreign_keys=[comment_id])
