"""The append-only, keyed hash chain of staff and admin changes (see ``pb.hashchain``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pb.db import Base, UTCDateTime
from pb.hashchain import GENESIS_HASH, Head, Link

__all__ = ["GENESIS_HASH", "AuditLogEntry", "AuditLogHead"]


class AuditLogEntry(Base):
    """One change. Each entry holds the hash of the one before it and its own keyed hash.

    ``position`` and ``prev_hash`` are unique, so the chain can grow but never fork. Database
    triggers (see the migrations) refuse UPDATE, DELETE and TRUNCATE on this table.
    """

    __tablename__ = "audit_log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)  # 1 for the first entry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # A snapshot of who acted, readable even if the account's e-mail changes later.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def before(self) -> Any:
        return json.loads(self.before_json)

    @property
    def after(self) -> Any:
        return json.loads(self.after_json)

    def payload(self) -> dict[str, Any]:
        """Every field the keyed hash covers (the position and previous hash are added by the chain)."""
        return {
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "before": self.before_json,
            "after": self.after_json,
        }

    def link(self) -> Link:
        return Link(self.position, self.prev_hash, self.payload(), self.entry_hash, ref=self.id)


class AuditLogHead(Base):
    """The one row that says where the chain ends; appends lock it, so they happen one at a time."""

    __tablename__ = "audit_log_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))

    def as_head(self) -> Head:
        return Head(self.count, self.hash)
