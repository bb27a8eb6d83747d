"""Appending to and checking the admin audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb.db import utcnow
from pb.models import AuditLogEntry, User
from pb.models.audit_log import GENESIS_HASH


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def head_hash(session: Session) -> str:
    latest = session.scalar(select(AuditLogEntry.entry_hash).order_by(AuditLogEntry.id.desc()).limit(1))
    return latest or GENESIS_HASH


def record_change(
    session: Session,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    before: Any,
    after: Any,
) -> AuditLogEntry:
    """Append one entry chained to the current head. ``actor`` None means the command line."""
    entry = AuditLogEntry(
        created_at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "command line",
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before_json=_canonical(before),
        after_json=_canonical(after),
        prev_hash=head_hash(session),
    )
    entry.entry_hash = entry.computed_hash()
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    kind: str  # "link": it does not follow the entry before it; "content": it does not match its hash


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(session: Session) -> ChainCheck:
    """Re-compute every hash and link; report the first entry where the chain breaks."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    count = 0
    for entry in session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id)):
        count += 1
        if entry.prev_hash != expected_prev:
            problems.append(ChainProblem(entry.id, "link"))
        if entry.computed_hash() != entry.entry_hash:
            problems.append(ChainProblem(entry.id, "content"))
        expected_prev = entry.entry_hash
    return ChainCheck(count, tuple(problems))
