"""Appending to, reading and checking the admin audit log (a keyed chain: ``pb.hashchain``).

The key comes with the session: the app's session factory puts it in ``session.info`` (see
``pb.extensions``), so services that record changes need not pass it around. Appends lock the
one-row head, so simultaneous changes are chained one after the other instead of failing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pb import hashchain
from pb.db import utcnow
from pb.hashchain import GENESIS, Head
from pb.models import AuditLogEntry, AuditLogHead, Cycle, User
from pb.services.errors import DomainError

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
    session.add(entry)
    session.flush()  # the entry first: the database lets the head move only to an entry present
    row.count, row.hash = head.count, head.hash
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
# Re-signing: the entries written before the key (revision 0002), and key rotation.


REKEYED = "audit_log.rekeyed"
UNKEYED, OLD_KEY, KEY = "unkeyed", "old_key", "key"
# The database guards a re-key lifts for its own transaction and puts back (see the migrations).
_PG_ROW_GUARD = "audit_log_append_only"
_SQLITE_UPDATE_GUARD = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
)


class RekeyRefused(DomainError):
    """The log does not verify under the schemes it may hold, so nothing was re-signed."""

    def __init__(self, problem: ChainProblem) -> None:
        super().__init__(_l("The audit log does not verify, so nothing was re-signed."))
        self.problem = problem


@dataclass(frozen=True)
class Rekeyed:
    before: Head  # the head before (what was published until now)
    after: Head  # the head after, the re-key entry included (the same as before when nothing was done)
    signed: dict[str, int]  # how many entries were found under each scheme: UNKEYED, OLD_KEY, KEY

    @property
    def resigned(self) -> int:
        return 0 if self.after == self.before else self.before.count


def unkeyed_hash(link: hashchain.Link) -> str:
    """The hash entries had before revision 0002: SHA-256 over their fields and the previous hash."""
    return hashlib.sha256(hashchain.canonical_json({**link.payload, "prev_hash": link.prev_hash})).hexdigest()


def _keyed(key: bytes):
    return lambda link: hashchain.entry_hash(key, link.position, link.prev_hash, link.payload)


def _begin_writing(session: Session) -> None:
    """SQLite: take the write lock now (Python's driver would begin only at the first write)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


def _set_update_guard(session: Session, enabled: bool) -> None:
    """Lift or restore the trigger refusing UPDATE of entries, inside the current transaction."""
    if session.get_bind().dialect.name == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        try:
            session.execute(text(f"ALTER TABLE audit_log_entries {state} TRIGGER {_PG_ROW_GUARD}"))
        except DBAPIError as error:
            raise DomainError(
                _l("Only the owner of the tables (the login migrations use) can re-sign the audit log.")
            ) from error
    elif enabled:
        session.execute(text(_SQLITE_UPDATE_GUARD))
    else:
        session.execute(text("DROP TRIGGER audit_log_no_update"))


def _schemes_of(
    entries: list[AuditLogEntry], schemes: list[tuple[str, Any]], stored: Head, expect: Head | None
) -> dict[str, int]:
    """Which scheme signs each entry, in order (a scheme never comes back after a later one)."""
    signed = dict.fromkeys((name for name, _hash in schemes), 0)
    head, level = GENESIS, 0
    for entry in entries:
        link, position = entry.link(), head.count + 1
        kind = None
        if link.position != position:
            kind = "order"
        elif not hmac.compare_digest(link.prev_hash, head.hash):
            kind = "link"
        else:
            level = next(
                (
                    i
                    for i in range(level, len(schemes))
                    if hmac.compare_digest(schemes[i][1](link), link.hash)
                ),
                -1,
            )
            kind = "content" if level < 0 else None
        if kind is not None:
            raise RekeyRefused(ChainProblem(position, entry.id, kind))
        signed[schemes[level][0]] += 1
        head = Head(position, link.hash)
        if expect is not None and expect.count == position and expect != head:
            raise RekeyRefused(ChainProblem(position, entry.id, "head"))
    for wanted in (stored, expect):
        if wanted is not None and wanted.count > head.count:
            raise RekeyRefused(ChainProblem(head.count + 1, None, "missing"))
    if stored != head:
        raise RekeyRefused(ChainProblem(head.count, None, "head"))
    return signed


def rekey(
    session: Session,
    actor: User | None,
    now: datetime,
    old_key: bytes | None = None,
    expect: Head | None = None,
) -> Rekeyed:
    """Re-sign the whole log with the audit key, after checking it under the schemes it may hold.

    The log may start with entries written before the key (unkeyed SHA-256), then, when
    ``old_key`` is given, entries signed with that previous key, then entries signed with the
    current key. Anything else (an entry that verifies under none of them, a broken link, a head
    that is not the last entry, ``expect`` not on the chain) is refused and nothing changes.
    Because each hash covers the one before it, every entry is re-signed; the log then records
    an ``audit_log.rekeyed`` entry with the old and new heads. When every entry already verifies
    with the key there is nothing to do. Must run as the owner of the tables on PostgreSQL: it
    lifts the guard against UPDATE for its own transaction and puts it back.
    """
    key = audit_key(session)
    _begin_writing(session)
    row = _lock_head(session)
    before = row.as_head()
    entries = list(session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.position)))
    schemes: list[tuple[str, Any]] = [(UNKEYED, unkeyed_hash)]
    if old_key is not None:
        schemes.append((OLD_KEY, _keyed(old_key)))
    schemes.append((KEY, _keyed(key)))
    signed = _schemes_of(entries, schemes, before, expect)
    if signed[KEY] == len(entries):
        return Rekeyed(before, before, signed)
    _set_update_guard(session, False)
    head = GENESIS
    for entry in entries:
        prev_hash = head.hash
        head = hashchain.append(key, head, entry.payload())
        entry.prev_hash, entry.entry_hash = prev_hash, head.hash
    session.flush()
    _set_update_guard(session, True)
    row.hash = head.hash
    session.flush()
    old = {"count": before.count, "hash": before.hash}
    new = {"count": head.count, "hash": head.hash, UNKEYED: signed[UNKEYED], OLD_KEY: signed.get(OLD_KEY, 0)}
    record_change(session, actor, REKEYED, "audit_log", "head", old, new, now=now)
    return Rekeyed(before, current_head(session), signed)


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


@dataclass(frozen=True)
class Subjects:
    """What a page of entries needs to know about their subjects and actors, read in one go."""

    names: dict[tuple[str, str], str]  # by (subject_type, subject_id); actors as ("user", id)
    cycles: dict[str, tuple[str, str]]  # a cycle's currency and time zone now, by subject_id


def subject_names(session: Session, entries: list[AuditLogEntry], locale: str) -> Subjects:
    """Human names of the entries' subjects and actors: one query per kind of subject, whatever the page size."""
    ids: dict[str, set[int]] = {"cycle": set(), "user": set()}
    for entry in entries:
        if entry.subject_type in ids and entry.subject_id.isdigit():
            ids[entry.subject_type].add(int(entry.subject_id))
        if entry.actor_id is not None:
            ids["user"].add(entry.actor_id)
    subjects = Subjects({}, {})
    if ids["cycle"]:
        for cycle in session.scalars(select(Cycle).where(Cycle.id.in_(ids["cycle"]))):
            subjects.names[("cycle", str(cycle.id))] = cycle.name(locale)
            subjects.cycles[str(cycle.id)] = (cycle.currency, cycle.timezone)
    if ids["user"]:
        rows = session.execute(select(User.id, User.display_name, User.email).where(User.id.in_(ids["user"])))
        for user_id, display_name, email in rows:
            subjects.names[("user", str(user_id))] = display_name or email
    return subjects
