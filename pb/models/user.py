"""Accounts and the roles granted to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    # A resident volunteer who helps turn proposals into ballot projects (reviews drafts; staff confirm).
    DELEGATE = "delegate"
    AUDITOR = "auditor"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Changes whenever the password does, so that reset links and sessions issued before stop working.
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's identity (``get_id``); moving it on ends every session of the account.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when the owner follows the mailed confirmation link; taking part (proposing, commenting,
    # supporting, voting) needs it. Accounts made by staff or by ``pb create-admin`` start confirmed.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mail about followed proposals: "daily" (one digest a day at most), "immediate" or "off".
    notify_mode: Mapped[str] = mapped_column(String(10), default="daily", server_default="daily")
    # Events (status changes, comments) up to this time have been considered for this person's mail;
    # ``last_digest_at``: when the last daily digest went (see ``pb.services.notifications``).
    notified_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="RoleGrant.user_id"
    )

    @property
    def roles(self) -> frozenset[Role]:
        """Every account is a resident; other roles are granted."""
        return frozenset({Role.RESIDENT, *(grant.role for grant in self.role_grants)})

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def has_role(self, role: Role | str) -> bool:
        role = Role(role)
        # An admin can do everything staff can.
        return role in self.roles or (role is Role.STAFF and Role.ADMIN in self.roles)

    # Flask-Login's user protocol, written out so that models do not import Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session identity: the account and its session generation (see ``end_sessions``)."""
        return f"{self.id}:{self.session_generation}"


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])
