"""Casting, revising and voiding ballots; the ballot log; receipts; closing the vote.

The trust design (``../shared/DESIGN.md``), as it is carried out here:

- Casting is one transaction (:func:`cast_ballot`): the one-time nonce is recorded first (a replay
  or a double click finds it and gets the same receipt, writing nothing), the choices are checked
  against the configuration frozen when voting opened, the participation row is inserted (its unique
  (cycle, voter) constraint is the double-vote guard), then, last, under a lock on the ballot log's
  head, the ballot and its log entry are written (with the head, the nonce's receipt and the hour's
  count: one statement on PostgreSQL). The caller commits once, so the lock is held briefly.
- The ballot store knows no voter: a voter's ballots share a ``slot``, HMAC(slot key, voter), and the
  slot key (:class:`pb.models.VotingKey`) is deleted when voting closes (:func:`close_voting`).
- The log (:class:`pb.models.BallotLogEntry`) is a hash chain anyone can check: the hash is
  HMAC-SHA-256 under the public key :data:`BALLOT_LOG_KEY` (a published constant, so no secret is
  needed to verify it) over the entry's position, the previous hash and the entry. A cast entry holds
  a random 128-bit ballot id, so its hash cannot be guessed; the receipt is its first 16 digits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from pb import hashchain
from pb.ballot import BallotConfig
from pb.lru import LRU
from pb.models import (
    Ballot,
    BallotLogEntry,
    BallotLogHead,
    BallotNonce,
    BallotProject,
    BallotStatus,
    Channel,
    Cycle,
    Participation,
    Phase,
    PhaseTransition,
    User,
    VoterCode,
    VoterEligibility,
    VotingActivity,
    VotingKey,
)
from pb.services import ballot_rules
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.outbox import queue_mail
from pb.services.transitions import ON_ENTER, advance_if_due, frozen_ballot_config
from pb.voter_codes import derive_key

VOTING_KEY_INFO = "pb.voting_key"
FROZEN_MEMO_INFO = "pb.voting.frozen"  # a FrozenMemo shared by every session of one session factory
# The ballot log's hashes are keyed with this published constant: anyone can recompute them.
BALLOT_LOG_KEY = b"pb ballot log v1"
RECEIPT_LENGTH = 16
_CONFIG_MEMO, _PROJECTS_MEMO = "pb.voting.config", "pb.voting.projects"  # hexadecimal digits: 64 bits
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_RECEIPT_TYPED = re.compile(r"[^0-9a-f]")


# --- Keys ------------------------------------------------------------------------------------------


def voting_key(session: Session, purpose: str) -> bytes:
    """A key derived from the voting key (configuration, never in the database) for one purpose."""
    master = session.info.get(VOTING_KEY_INFO)
    if not master:
        raise RuntimeError("this session has no voting key: open it with the app's session factory")
    return derive_key(master, purpose)


def _keyed(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


# --- Voters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """Someone entitled to vote in a cycle, as the casting sees them (from a code or an account).

    ``ref`` names the voter in the participation row: ``account:<user id>`` or ``code:<code id>``.
    """

    ref: str
    district_id: int | None
    user: User | None = None
    code_id: int | None = None
    # Whether this voter has voted, when the row that named them says so (None: ask the participation
    # rows). A code is marked used by the very transaction that records its participation.
    voted: bool | None = None

    @property
    def is_account(self) -> bool:
        return self.user is not None


# --- Opening and closing ---------------------------------------------------------------------------


def open_ballot_log(session: Session, cycle: Cycle, transition: PhaseTransition, now: datetime) -> None:
    """Entering voting: the slot key is drawn and the empty ballot log starts."""
    if session.get(VotingKey, cycle.id) is None and session.get(BallotLogHead, cycle.id) is None:
        session.add(VotingKey(cycle_id=cycle.id, slot_key=secrets.token_bytes(32)))
        session.add(BallotLogHead(cycle_id=cycle.id, count=0, hash=hashchain.GENESIS_HASH, counted=0))
        session.flush()


def _seal_on_results(session: Session, cycle: Cycle, transition: PhaseTransition, now: datetime) -> None:
    seal_ballot_log(session, cycle, now)


def voting_open(cycle: Cycle, now: datetime) -> bool:
    """The server's clock decides: the voting window is open and was not closed early."""
    return cycle.phase_state(now).current is Phase.VOTING


def require_voting_open(cycle: Cycle, now: datetime) -> None:
    if voting_open(cycle, now):
        return
    if not cycle.voting_has_opened(now):
        raise DomainError(_l("Voting has not opened yet for this cycle."))
    raise DomainError(_l("Voting is over for this cycle: no ballot can be cast or changed any more."))


def seal_ballot_log(session: Session, cycle: Cycle, now: datetime) -> bool:
    """Once voting is over: delete the slot key and append the closing entry (once). True if it sealed now."""
    if voting_open(cycle, now) or not cycle.voting_has_opened(now):
        return False
    head = _lock_head(session, cycle)
    if head is None or head.closed_at is not None:
        return False
    session.execute(VotingKey.__table__.delete().where(VotingKey.cycle_id == cycle.id))
    _append(session, head, {"kind": "close", "counted": head.counted})
    head.closed_at = now
    session.flush()
    return True


def close_voting(session: Session, actor: User, cycle: Cycle, reason: str, now: datetime) -> bool:
    """Staff close voting now (idempotent: closing a closed vote changes nothing and returns False)."""
    from pb.services.cycles import close_phase  # cycles imports nothing of voting; the edge stays one-way

    if voting_open(cycle, now):
        close_phase(session, actor, cycle, reason, now, expected=Phase.VOTING)
    elif not cycle.voting_has_opened(now):
        raise DomainError(_l("Voting has not opened yet for this cycle."))
    return seal_ballot_log(session, cycle, now)


def seal_due(session_factory, now: datetime) -> int:
    """The worker's round: seal the log of every cycle whose voting is over (each commits on its own)."""
    with session_factory() as session:
        rows = session.execute(
            select(BallotLogHead.cycle_id).where(BallotLogHead.closed_at.is_(None))
        ).scalars().all()
    sealed = 0
    for cycle_id in rows:
        with session_factory() as session, session.begin():
            cycle = session.get(Cycle, cycle_id)
            if cycle is not None and seal_ballot_log(session, cycle, now):
                sealed += 1
    return sealed


ON_ENTER[Phase.VOTING].append(open_ballot_log)
ON_ENTER[Phase.RESULTS].append(_seal_on_results)


# --- The ballot ------------------------------------------------------------------------------------


class FrozenMemo(LRU):
    """What cannot change once a cycle's voting has opened, read once per process (per session factory,
    so per application) instead of once per request: the frozen ballot configuration and the projects
    on offer. Keys name the cycle by id and creation time (a test database reusing an id is another
    cycle) and everything else the value depends on; a bounded LRU. Nothing about a voter goes in.

    The slot key is deliberately not kept here: it is destroyed at close, and a copy in memory would
    outlive it.
    """

    def __init__(self, size: int = 1024) -> None:
        super().__init__(size)


def _frozen_memo(session: Session, cycle: Cycle) -> FrozenMemo | None:
    """The process's memo, when ``cycle``'s voting has opened (so what it holds is frozen)."""
    if cycle.entered_phase not in (Phase.VOTING, Phase.RESULTS):
        return None
    return session.info.get(FROZEN_MEMO_INFO)


@dataclass(frozen=True)
class Place:
    """A district or category as a ballot shows it (a copy: the rows stay in their session)."""

    id: int
    name_en: str
    name_fr: str
    position: int

    def name(self, locale: str) -> str:
        if locale.startswith("fr"):
            return self.name_fr or self.name_en
        return self.name_en or self.name_fr


@dataclass(frozen=True)
class OfferedProject:
    """A project on a voter's ballot, as the ballot pages and the casting read it (an immutable copy of
    the frozen :class:`BallotProject`, so one process can keep it for every request)."""

    id: int
    title_en: str
    title_fr: str
    description_en: str
    description_fr: str
    cost_cents: int
    district_id: int | None
    category_id: int | None
    district: Place | None
    category: Place | None

    def title(self, locale: str) -> str:
        return self.title_fr if locale.startswith("fr") else self.title_en

    def description(self, locale: str) -> str:
        return self.description_fr if locale.startswith("fr") else self.description_en


def _place(row) -> Place | None:
    return None if row is None else Place(row.id, row.name_en, row.name_fr, row.position)


def ballot_projects(session: Session, cycle: Cycle, district_id: int | None) -> list[BallotProject]:
    """The confirmed projects a voter of ``district_id`` may choose: that district's and city-wide ones.

    Once voting has opened the list is frozen, so a session reads it once (the ballot page and the
    cast of one request, or a simulation's thousands of casts, share it).
    """
    frozen = cycle.entered_phase in (Phase.VOTING, Phase.RESULTS)
    memo = session.info.setdefault(_PROJECTS_MEMO, {}) if frozen else {}
    if (cycle.id, district_id) in memo:
        return memo[cycle.id, district_id]
    statement = select(BallotProject).where(
        BallotProject.cycle_id == cycle.id, BallotProject.confirmed_at.is_not(None)
    )
    if district_id is not None:
        statement = statement.where(
            (BallotProject.district_id == district_id) | BallotProject.district_id.is_(None)
        )
    elif cycle.has_district_budgets:
        statement = statement.where(BallotProject.district_id.is_(None))
    projects = list(
        session.scalars(
            statement.order_by(BallotProject.position, BallotProject.id).options(
                joinedload(BallotProject.district), joinedload(BallotProject.category)
            )
        )
    )
    memo[cycle.id, district_id] = projects
    return projects


def offered_projects(session: Session, cycle: Cycle, district_id: int | None) -> tuple[OfferedProject, ...]:
    """:func:`ballot_projects` as immutable copies, read once per process once voting has opened.

    The copies carry the names of their district and category, which staff may still correct
    during voting: such an edit moves the cycle's version, which is part of the key.
    """
    memo = _frozen_memo(session, cycle)
    key = ("projects", cycle.id, cycle.created_at, cycle.version, district_id)
    offered = memo.get(key) if memo is not None else None
    if offered is None:
        offered = tuple(
            OfferedProject(
                p.id, p.title_en, p.title_fr, p.description_en, p.description_fr, p.cost_cents,
                p.district_id, p.category_id, _place(p.district), _place(p.category),
            )
            for p in ballot_projects(session, cycle, district_id)
        )
        if memo is not None:
            memo.put(key, offered)
    return offered


def ballot_budget(cycle: Cycle, district_id: int | None) -> int:
    """The budget a voter's ballot is about: their district's when districts have budgets, else the cycle's."""
    if cycle.has_district_budgets and district_id is not None:
        district = next((d for d in cycle.districts if d.id == district_id), None)
        return (district.budget_cents or 0) if district is not None else 0
    return cycle.total_budget_cents


def ballot_config(session: Session, cycle: Cycle, now: datetime) -> BallotConfig:
    """The configuration voting opened with (recording the opening first when it is due); frozen, so a
    session reads it once."""
    advance_if_due(session, cycle, now)
    memo = session.info.setdefault(_CONFIG_MEMO, {})
    config = memo.get(cycle.id) or _frozen_config(session, cycle)
    if config is None:
        raise DomainError(_l("Voting has not opened yet for this cycle."))
    memo[cycle.id] = config
    return config


def _frozen_config(session: Session, cycle: Cycle) -> BallotConfig | None:
    """:func:`frozen_ballot_config`, read once per process once voting has opened (it never changes)."""
    memo = _frozen_memo(session, cycle)
    key = ("config", cycle.id, cycle.created_at)
    config = memo.get(key) if memo is not None else None
    if config is None:
        config = frozen_ballot_config(session, cycle)
        if memo is not None and config is not None:
            memo.put(key, config)
    return config


def shuffled(projects: list[BallotProject], seed: str) -> list[BallotProject]:
    """The projects in an order of their own for one ballot form (against position bias)."""
    return sorted(projects, key=lambda p: hashlib.sha256(f"{seed}|{p.id}".encode()).digest())


def new_nonce() -> str:
    """The one-time nonce a ballot form carries (128 bits)."""
    return secrets.token_urlsafe(16)


# --- Casting ---------------------------------------------------------------------------------------


class _Title:
    """A project's title in the language the message is read in (evaluated late, like the messages)."""

    def __init__(self, english: str, french: str) -> None:
        self.english, self.french = english, french

    def __str__(self) -> str:
        from flask_babel import get_locale

        locale = get_locale()
        return self.french if locale is not None and locale.language == "fr" else self.english


@dataclass(frozen=True)
class Cast:
    receipt: str
    replaced: bool = False  # a revision: this ballot replaces the voter's earlier one
    replayed: bool = False  # the same form sent again: nothing was written


def cast_ballot(
    session: Session,
    cycle: Cycle,
    voter: Voter,
    raw: ballot_rules.RawChoices,
    nonce: str,
    now: datetime,
    channel: Channel = Channel.ONLINE,
) -> Cast:
    """Cast ``voter``'s ballot (or replace it, when the cycle allows revision); flushes, never commits."""
    require_voting_open(cycle, now)
    config = ballot_config(session, cycle, now)
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise DomainError(_l("This ballot form is not valid any more. Open the ballot again."))

    # 1. The nonce: a repeated or replayed submission gets the first one's receipt and writes nothing.
    digest = _keyed(voting_key(session, "ballot nonces"), f"{cycle.id}|{voter.ref}|{nonce}")
    if not _insert_new(session, BallotNonce, digest=digest, cycle_id=cycle.id, receipt=None):
        receipt = session.scalar(select(BallotNonce.receipt).where(BallotNonce.digest == digest))
        if receipt is None:
            raise DomainError(
                _l("This ballot is being cast already. Wait a moment, then check your receipt.")
            ) from None
        return Cast(receipt, replayed=True)

    # 2. The choices, against the frozen configuration and the projects this voter may choose.
    projects = offered_projects(session, cycle, voter.district_id)
    options = [ballot_rules.Option(p.id, p.cost_cents, _Title(p.title_en, p.title_fr)) for p in projects]
    choices = ballot_rules.validate(
        config, ballot_budget(cycle, voter.district_id), options, raw, currency=cycle.currency
    )

    # 3. Participation: the unique (cycle, voter) constraint lets one ballot in per voter. An account's
    # row is marked for the next confirmation batch as it goes in (send_confirmations).
    replacing = False
    if not _insert_new(
        session,
        Participation,
        id=secrets.token_hex(16),
        cycle_id=cycle.id,
        voter=voter.ref,
        channel=channel,
        district_id=voter.district_id,
        voted_on=now.date(),
        confirmation_pending=voter.user is not None,
    ):
        previous = session.scalar(
            select(Participation).where(Participation.cycle_id == cycle.id, Participation.voter == voter.ref)
        )
        if previous is None:  # pragma: no cover - the row that conflicted is committed
            raise RuntimeError("a participation conflicted with no row")
        if previous.channel is not channel:
            raise DomainError(_l("A paper ballot was already counted for you; it is the one that counts.")) from None
        if not config.allow_revision:
            raise DomainError(_l("You have already voted in this cycle, and ballots cannot be changed.")) from None
        replacing = True
        if voter.user is not None:
            # Mailed with the next hourly batch (send_confirmations), never in casting order.
            session.execute(
                update(Participation)
                .where(Participation.cycle_id == cycle.id, Participation.voter == voter.ref)
                .values(confirmation_pending=True)
                .execution_options(synchronize_session=False)
            )
    if voter.code_id is not None:
        session.execute(
            update(VoterCode)
            .where(VoterCode.id == voter.code_id, VoterCode.used_on.is_(None))
            .values(used_on=now.date())
            .execution_options(synchronize_session=False)
        )

    # 4. Last, under the log head's lock (every cast of the cycle waits for it, so it is held for as few
    # statements as can be): replace the voter's counted ballot, write the new one and its entry, give
    # the nonce its receipt, count the hour's ballot (a row every cast of the hour updates too), commit.
    locked = _lock_head_and_key(session, cycle)
    if locked is None or locked[1] is None or locked[0].closed_at is not None:
        raise DomainError(_l("Voting is over for this cycle: no ballot can be cast or changed any more."))
    head, slot_key = locked
    slot = _keyed(slot_key, voter.ref)
    replaced = 0
    if replacing:
        replaced = session.execute(
            update(Ballot)
            .where(Ballot.cycle_id == cycle.id, Ballot.slot == slot, Ballot.status == BallotStatus.COUNTED)
            .values(status=BallotStatus.REPLACED)
            .execution_options(synchronize_session=False)
        ).rowcount
    ballot_id = secrets.token_hex(16)
    district = next((d.slug for d in cycle.districts if d.id == voter.district_id), None)
    payload = {
        "kind": "cast",
        "ballot": ballot_id,
        "slot": slot,
        "district": district,
        "channel": channel.value,
        "choices": json.loads(choices.to_json()),
    }
    new = hashchain.append(BALLOT_LOG_KEY, hashchain.Head(head.count, head.hash), payload)
    receipt = new.hash[:RECEIPT_LENGTH]
    _write_cast(
        session,
        head,
        entry={
            "cycle_id": cycle.id,
            "position": new.count,
            "prev_hash": head.hash,
            "hash": new.hash,
            "payload": hashchain.canonical_json(payload).decode(),
        },
        ballot={
            "id": ballot_id,
            "cycle_id": cycle.id,
            "district_id": voter.district_id,
            "slot": slot,
            "channel": channel,
            "choices": choices.to_json(),
            "status": BallotStatus.COUNTED,
            "void_reason": "",
            "receipt": receipt,
            "log_position": new.count,
        },
        counted=head.counted + 1 - replaced,
        nonce=digest,
        activity=(cycle, channel, now),
    )
    return Cast(receipt, replaced=replacing)


def _write_cast(session: Session, head: BallotLogHead, *, entry: dict, ballot: dict, counted: int, nonce: str,
                activity: tuple[Cycle, Channel, datetime]) -> None:
    """Under the head's lock: the log entry, the ballot, the new head, the nonce's receipt and the hour's
    count. On PostgreSQL in one statement (data-modifying WITH clauses on five different tables: one round
    trip while the lock is held, instead of five); elsewhere one statement each."""
    cycle, channel, now = activity
    heads = BallotLogHead.__table__
    write_entry = BallotLogEntry.__table__.insert().values(**entry)
    write_ballot = Ballot.__table__.insert().values(**ballot)
    write_nonce = BallotNonce.__table__.update().where(BallotNonce.digest == nonce).values(receipt=ballot["receipt"])
    move_head = (
        heads.update()
        .where(heads.c.cycle_id == head.cycle_id)
        .values(count=entry["position"], hash=entry["hash"], counted=counted)
    )
    if session.get_bind().dialect.name == "postgresql":
        bump = (
            _activity_bump(cycle, channel, now).returning(VotingActivity.__table__.c.ballots).cte("bump")
        )
        bumped = select(func.count()).select_from(bump).scalar_subquery()
        statement = (
            move_head.add_cte(write_entry.cte("entry"), write_ballot.cte("ballot"), write_nonce.cte("nonce"))
            .returning(bumped)
        )
        if not session.execute(statement).scalar_one():
            _count_activity(session, cycle, channel, now)  # the hour's first ballot: its row is made
    else:
        for write in (write_entry, write_ballot, move_head, write_nonce):
            session.execute(write)
        _count_activity(session, cycle, channel, now)
    # The session's copy of the head is the row as written (nothing left for a flush to write).
    for name, value in (("count", entry["position"]), ("hash", entry["hash"]), ("counted", counted)):
        set_committed_value(head, name, value)


def _insert_new(session: Session, model, **values) -> bool:
    """Insert a row unless its unique key is taken (then nothing, and False), in one statement.

    ``INSERT ... ON CONFLICT DO NOTHING``: under a concurrent insert of the same key, PostgreSQL waits
    for the other transaction and then does nothing, so the caller reads the row it committed; no
    savepoint round trips, and the transaction stays usable.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    # RETURNING says whether a row went in (an INSERT's rowcount is not reliable across drivers).
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return session.execute(statement).first() is not None


def _activity_bump(cycle: Cycle, channel: Channel, now: datetime):
    """This hour's count of ballots, one more (no row yet: nothing)."""
    table = VotingActivity.__table__
    hour = now.replace(minute=0, second=0, microsecond=0)
    return (
        table.update()
        .where(table.c.cycle_id == cycle.id, table.c.hour == hour, table.c.channel == channel)
        .values(ballots=table.c.ballots + 1)
    )


def _count_activity(session: Session, cycle: Cycle, channel: Channel, now: datetime) -> None:
    """One more ballot in this hour's count (the row is made once; its unique key settles a race)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    bump = _activity_bump(cycle, channel, now)
    if session.execute(bump).rowcount:
        return
    if not _insert_new(session, VotingActivity, cycle_id=cycle.id, hour=hour, channel=channel, ballots=1):
        session.execute(bump)


CONFIRMATION_BATCH = timedelta(hours=1)


def send_confirmations(session_factory, now: datetime) -> int:
    """The worker's round: mail the accounts that voted since the last batch that their ballot was cast.

    Mail is not queued as each ballot is cast: the outbox's rows and times would list the voters in
    the order of the ballot log, which is published, and so name each voter's ballot. Instead, once an
    hour per cycle, the accounts whose participation is marked pending are mailed in a random order,
    all stamped with the batch's time. The mail holds neither the choices nor the receipt (the receipt
    is shown on screen); it says in which cycle a ballot was cast. Returns how many were queued.
    """
    sent = 0
    with session_factory() as session:
        due = session.scalars(
            select(BallotLogHead.cycle_id).where(
                (BallotLogHead.confirmations_at.is_(None)) | (BallotLogHead.confirmations_at <= now - CONFIRMATION_BATCH)
            )
        ).all()
    for cycle_id in due:
        with session_factory() as session, session.begin():
            head = session.execute(
                select(BallotLogHead).where(BallotLogHead.cycle_id == cycle_id).with_for_update()
            ).scalar_one()
            if head.confirmations_at is not None and head.confirmations_at > now - CONFIRMATION_BATCH:
                continue  # another worker sent this batch
            pending = session.execute(
                select(Participation.id, Participation.voter).where(
                    Participation.cycle_id == cycle_id, Participation.confirmation_pending.is_(True)
                )
            ).all()
            head.confirmations_at = now
            if not pending:
                continue
            cycle = session.get(Cycle, cycle_id)
            ids = [int(voter.split(":", 1)[1]) for _, voter in pending if voter.startswith("account:")]
            users = list(session.scalars(select(User).where(User.id.in_(ids))))
            secrets.SystemRandom().shuffle(users)
            for user in users:
                _queue_confirmation(session, cycle, user, now)
            session.execute(
                update(Participation)
                .where(Participation.id.in_([row.id for row in pending]))
                .values(confirmation_pending=False)
                .execution_options(synchronize_session=False)
            )
            sent += len(users)
    return sent


def _queue_confirmation(session: Session, cycle: Cycle, user: User, now: datetime) -> None:
    """The confirmation mail, in the account's language: a ballot was cast; no choices, no receipt."""
    from flask_babel import force_locale, gettext

    locale = user.locale or "en_CA"
    with force_locale(locale):
        name = cycle.name(locale)
        subject = gettext("Your ballot in %(cycle)s was cast", cycle=name)
        lines = [
            gettext("Your ballot in %(cycle)s was cast and will be counted.", cycle=name),
            "",
            gettext(
                "If you changed your ballot, only the last one you cast counts. Once voting is over, you can "
                "check with the receipt shown on screen that it was counted. This message does not say how "
                "you voted, and no one at the city can find out."
            ),
            "",
            gettext("If you did not vote, tell the city at once: someone may have used your account."),
        ]
    queue_mail(session, user.email, subject, "\n".join(lines), now)


# --- Voiding ---------------------------------------------------------------------------------------


def void_ballot(session: Session, actor: User, cycle: Cycle, voter: Voter, reason: str, now: datetime) -> bool:
    """Void the counted ballot of a misused code or account (found through its slot), before close.

    Recorded in the ballot log (with the public reason) and in the admin audit log (who, whose code or
    account; never the choices). Returns False when that voter has no counted ballot.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for voiding the ballot: it is published."), field="reason")
    require_voting_open(cycle, now)
    head = _lock_head(session, cycle)
    key = session.get(VotingKey, cycle.id)
    if head is None or key is None or head.closed_at is not None:
        raise DomainError(_l("Voting is over for this cycle: no ballot can be voided any more."))
    slot = _keyed(key.slot_key, voter.ref)
    ballot = session.scalar(
        select(Ballot).where(Ballot.cycle_id == cycle.id, Ballot.slot == slot, Ballot.status == BallotStatus.COUNTED)
    )
    if ballot is None:
        return False
    ballot.status = BallotStatus.VOIDED
    ballot.void_reason = reason
    _bar(session, cycle, voter, now)
    _append(session, head, {"kind": "void", "ballot": ballot.id, "reason": reason})
    head.counted -= 1
    session.flush()
    record_change(session, actor, "ballot.void", "voter", voter.ref, None, {"reason": reason}, now=now)
    return True


def _bar(session: Session, cycle: Cycle, voter: Voter, now: datetime) -> None:
    """A voided voter cannot vote again: their code is voided, their account's eligibility revoked."""
    if voter.code_id is not None:
        session.execute(
            update(VoterCode).where(VoterCode.id == voter.code_id).values(voided=True)
            .execution_options(synchronize_session=False)
        )
    if voter.user is not None:
        session.execute(
            update(VoterEligibility)
            .where(VoterEligibility.cycle_id == cycle.id, VoterEligibility.user_id == voter.user.id)
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


# --- The log ---------------------------------------------------------------------------------------


def _lock_head(session: Session, cycle: Cycle) -> BallotLogHead | None:
    return session.execute(
        select(BallotLogHead)
        .where(BallotLogHead.cycle_id == cycle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _lock_head_and_key(session: Session, cycle: Cycle) -> tuple[BallotLogHead, bytes | None] | None:
    """The log head, locked, and the slot key (None once destroyed), in one round trip.

    Sealing deletes the key under this same lock and marks the head closed, so a caller that finds
    the head open holds a key that is still valid.
    """
    row = session.execute(
        select(BallotLogHead, VotingKey.slot_key)
        .outerjoin(VotingKey, VotingKey.cycle_id == BallotLogHead.cycle_id)
        .where(BallotLogHead.cycle_id == cycle.id)
        .with_for_update(of=BallotLogHead)
        .execution_options(populate_existing=True)
    ).first()
    return None if row is None else (row[0], row[1])


def _append(session: Session, head: BallotLogHead, payload: dict) -> BallotLogEntry:
    new = hashchain.append(BALLOT_LOG_KEY, hashchain.Head(head.count, head.hash), payload)
    entry = BallotLogEntry(
        cycle_id=head.cycle_id,
        position=new.count,
        prev_hash=head.hash,
        hash=new.hash,
        payload=hashchain.canonical_json(payload).decode(),
    )
    session.add(entry)
    head.count, head.hash = new.count, new.hash
    return entry


@dataclass(frozen=True)
class LogState:
    """What the public cycle page shows while voting runs: how many ballots count, and the log's head."""

    counted: int
    head: hashchain.Head
    closed: bool


def log_state(session: Session, cycle: Cycle) -> LogState | None:
    head = session.get(BallotLogHead, cycle.id)
    if head is None:
        return None
    return LogState(head.counted, hashchain.Head(head.count, head.hash), head.closed_at is not None)


def log_links(session: Session, cycle: Cycle):
    """The log's entries in order, as :mod:`pb.hashchain` verifies them."""
    rows = session.execute(
        select(BallotLogEntry.position, BallotLogEntry.prev_hash, BallotLogEntry.payload, BallotLogEntry.hash)
        .where(BallotLogEntry.cycle_id == cycle.id)
        .order_by(BallotLogEntry.position)
    )
    for position, prev_hash, payload, digest in rows:
        yield hashchain.Link(position, prev_hash, json.loads(payload), digest, position)


def verify_log(session: Session, cycle: Cycle) -> hashchain.Verification:
    state = log_state(session, cycle)
    expect = [state.head] if state is not None else []
    return hashchain.verify(BALLOT_LOG_KEY, log_links(session, cycle), expect=expect)


# --- Receipts --------------------------------------------------------------------------------------


class ReceiptStatus(StrEnum):
    COUNTED = "counted"
    REPLACED = "replaced"
    VOIDED = "voided"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReceiptCheck:
    status: ReceiptStatus
    receipt: str
    reason: str = ""


def format_receipt(receipt: str) -> str:
    """``1a2b-3c4d-5e6f-7a8b``: groups of four, as printed and mailed."""
    return "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def normalize_receipt(text: str) -> str | None:
    """What a person typed (any case, dashes, spaces) as the 16 digits of a receipt, or None."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    cleaned = re.sub(r"[\s\-\u2010-\u2015]", "", text.lower())
    if len(cleaned) != RECEIPT_LENGTH or _RECEIPT_TYPED.search(cleaned):
        return None
    return cleaned


def check_receipt(session: Session, cycle: Cycle, text: str) -> ReceiptCheck:
    receipt = normalize_receipt(text)
    if receipt is None:
        raise DomainError(
            _l("A receipt has 16 characters: digits and the letters a to f, as in 1a2b-3c4d-5e6f-7a8b."),
            field="receipt",
        )
    row = session.execute(
        select(Ballot.status, Ballot.void_reason).where(Ballot.cycle_id == cycle.id, Ballot.receipt == receipt)
    ).first()
    if row is None:
        return ReceiptCheck(ReceiptStatus.UNKNOWN, receipt)
    return ReceiptCheck(ReceiptStatus(row.status.value), receipt, row.void_reason)


def counted_ballots(session: Session, cycle: Cycle) -> int:
    return session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.cycle_id == cycle.id, Ballot.status == BallotStatus.COUNTED)
    ) or 0


def config_for(session: Session, cycle: Cycle) -> BallotConfig:
    """The frozen configuration when voting has opened, else the cycle's current one (for previews)."""
    return _frozen_config(session, cycle) or cycle.ballot_config()
