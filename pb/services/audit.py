"""Appending to, reading and checking the admin audit log (a keyed chain: ``pb.hashchain``).

The key comes with the session: the app's session factory puts it in ``session.info`` (see
``pb.extensions``), so services that record changes need not pass it around. Appends lock the
one-row head, so simultaneous changes are chained one after the other instead of failing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from pb import hashchain
from pb.db import utcnow
from pb.hashchain import GENESIS, Head
from pb.models import AuditLogEntry, AuditLogHead, Cycle, User

AUDIT_KEY_INFO = "pb.audit_key"
_PENDING_HEADS = "pb.audit_pending_heads"
log = logging.getLogger("pb.audit")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def audit_key(session: Session) -> bytes:
    key = session.info.get(AUDIT_KEY_INFO)
    if not key:
        raise RuntimeError("this session has no audit key: open it with the app's session factory")
    return key.encode() if isinstance(key, str) else key


def current_head(session: Session) -> Head:
    """The head as stored (what the transparency page publishes)."""
    row = session.get(AuditLogHead, 1, populate_existing=True)
    return row.as_head() if row is not None else GENESIS


def _lock_head(session: Session) -> AuditLogHead:
    """The head row, locked until the transaction ends (SQLite: writers are serialized anyway)."""
    return session.execute(
        select(AuditLogHead)
        .where(AuditLogHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def record_change(
    session: Session,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    before: Any,
    after: Any,
    now: datetime | None = None,
) -> AuditLogEntry:
    """Append one entry after the current head. ``actor`` None means the command line."""
    key = audit_key(session)
    row = _lock_head(session)
    entry = AuditLogEntry(
        created_at=(now or utcnow()).astimezone(UTC).replace(microsecond=0),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "command line",
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before_json=_canonical(before),
        after_json=_canonical(after),
    )
    head = hashchain.append(key, row.as_head(), entry.payload())
    entry.position, entry.prev_hash, entry.entry_hash = head.count, row.hash, head.hash
    row.count, row.hash = head.count, head.hash
    session.add(entry)
    session.flush()
    session.info.setdefault(_PENDING_HEADS, []).append(head)
    return entry


@event.listens_for(Session, "after_commit")
def _log_committed_heads(session: Session) -> None:
    """Each committed append writes the new head to the application log, outside the database."""
    for head in session.info.pop(_PENDING_HEADS, ()):
        log.info("audit log head %s", head)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_heads(session: Session) -> None:
    session.info.pop(_PENDING_HEADS, None)


# ---------------------------------------------------------------------------------------------
# Checking.


@dataclass(frozen=True)
class ChainProblem:
    position: int
    entry_id: int | None
    # "order", "link", "content", "missing", "head" (see pb.hashchain.verify), or "checkpoint":
    # the entry a check stopped at last time is gone or changed.
    kind: str


@dataclass(frozen=True)
class ChainCheck:
    entries: int  # how many entries this check hashed
    head: Head  # how far the chain verified
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _links(session: Session, after: int) -> Iterator[hashchain.Link]:
    query = select(AuditLogEntry).where(AuditLogEntry.position > after).order_by(AuditLogEntry.position)
    for entry in session.scalars(query.execution_options(yield_per=500)):
        yield entry.link()


def verify_chain(session: Session, since: Head = GENESIS, expect: Head | None = None) -> ChainCheck:
    """Re-hash every entry after the checkpoint ``since`` (all of them by default) with the key.

    The chain must also reach the stored head and pass through ``expect`` (a head published
    earlier), so a removed tail shows. Reports the first entry where the chain breaks.
    """
    key = audit_key(session)
    stored = current_head(session)
    if since.count:
        at_checkpoint = session.scalar(
            select(AuditLogEntry.entry_hash).where(AuditLogEntry.position == since.count)
        )
        if at_checkpoint != since.hash or stored.count < since.count:
            return ChainCheck(0, since, (ChainProblem(since.count, None, "checkpoint"),))
    heads = [stored] if expect is None else [stored, expect]
    result = hashchain.verify(key, _links(session, since.count), start=since, expect=heads)
    problem = result.problem
    problems = () if problem is None else (ChainProblem(problem.position, problem.ref, problem.kind),)
    return ChainCheck(result.head.count - since.count, result.head, problems)


# ---------------------------------------------------------------------------------------------
# Reading.


@dataclass(frozen=True)
class EntryFilter:
    actor: str = ""  # part of the acting account's e-mail ("command line" for the command line)
    action: str = ""
    since: date | None = None  # UTC days, both included
    until: date | None = None


def _filtered(query, wanted: EntryFilter):
    if wanted.actor.strip():
        escaped = wanted.actor.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(AuditLogEntry.actor_label).like(f"%{escaped}%", escape="\\"))
    if wanted.action:
        query = query.where(AuditLogEntry.action == wanted.action)
    if wanted.since is not None:
        query = query.where(AuditLogEntry.created_at >= datetime.combine(wanted.since, time(), UTC))
    if wanted.until is not None:
        end = datetime.combine(wanted.until + timedelta(days=1), time(), UTC)
        query = query.where(AuditLogEntry.created_at < end)
    return query


def list_entries(
    session: Session, wanted: EntryFilter, limit: int | None = None, offset: int = 0
) -> tuple[list[AuditLogEntry], int]:
    """The entries ``wanted`` selects, newest first, and how many there are in all."""
    total = session.scalar(_filtered(select(func.count(AuditLogEntry.id)), wanted)) or 0
    query = _filtered(select(AuditLogEntry), wanted).order_by(AuditLogEntry.position.desc())
    entries = session.scalars(query.limit(limit).offset(offset)).all()
    return list(entries), total


def recorded_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLogEntry.action).distinct().order_by(AuditLogEntry.action)))


def subject_names(session: Session, entries: list[AuditLogEntry], locale: str) -> dict[tuple[str, str], str]:
    """Human names of the entries' subjects and actors: one query per kind of subject, whatever the page size.

    Keys are ``(subject_type, subject_id)``; actors are listed as ``("user", id)``.
    """
    ids: dict[str, set[int]] = {"cycle": set(), "user": set()}
    for entry in entries:
        if entry.subject_type in ids and entry.subject_id.isdigit():
            ids[entry.subject_type].add(int(entry.subject_id))
        if entry.actor_id is not None:
            ids["user"].add(entry.actor_id)
    names: dict[tuple[str, str], str] = {}
    if ids["cycle"]:
        for cycle in session.scalars(select(Cycle).where(Cycle.id.in_(ids["cycle"]))):
            names[("cycle", str(cycle.id))] = cycle.name(locale)
    if ids["user"]:
        rows = session.execute(select(User.id, User.display_name, User.email).where(User.id.in_(ids["user"])))
        for user_id, display_name, email in rows:
            names[("user", str(user_id))] = display_name or email
    return names


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str | None  # None: the field was not there
    after: str | None


def readable_value(value: Any) -> str:
    """A JSON value as short plain text: lists joined with "; ", objects as "key: value"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "; ".join(readable_value(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {readable_value(item)}" for key, item in sorted(value.items()))
    return str(value)


def field_changes(entry: AuditLogEntry) -> list[FieldChange]:
    """The entry's before and after, field by field."""
    before, after = _as_fields(entry.before), _as_fields(entry.after)
    return [
        FieldChange(
            name,
            readable_value(before[name]) if name in before else None,
            readable_value(after[name]) if name in after else None,
        )
        for name in sorted(before.keys() | after.keys())
    ]


def _as_fields(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {} if value is None else {"value": value}
