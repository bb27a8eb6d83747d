"""Who may vote in a cycle: one-time voter codes, and accounts staff confirmed.

Voter codes are drawn from :mod:`secrets` (:mod:`pb.voter_codes`) and kept only as keyed hashes
(HMAC-SHA-256 under a key derived from the voting key, which lives in the configuration) with a
four-character prefix. A batch's codes exist in clear only in the file handed to staff when the batch
is made: if it is lost, the batch is voided and a new one made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from pb import permissions, voter_codes
from pb.models import (
    Cycle,
    District,
    EligibilityBasis,
    User,
    VoterCode,
    VoterCodeBatch,
    VoterEligibility,
)
from pb.services.accounts import check_can_take_part
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.voting import Voter, voting_key

MAX_BATCH_SIZE = 20_000
CODE_KEY_PURPOSE = "voter codes"


def _require_staff(actor: User) -> None:
    if not permissions.can_manage_voters(actor):
        raise DomainError(_l("Only staff can manage voters."))


def _district(cycle: Cycle, district_id: int | None, *, required: bool) -> District | None:
    if district_id is None:
        if required:
            raise DomainError(
                _l("Choose a district: this cycle's budget is divided between districts."), field="district"
            )
        return None
    district = next((d for d in cycle.districts if d.id == district_id), None)
    if district is None:
        raise DomainError(_l("Choose one of this cycle's districts."), field="district")
    return district


def _voting_not_over(cycle: Cycle, now: datetime) -> None:
    if cycle.voting_is_over(now):
        raise DomainError(_l("Voting is over for this cycle: its voters can no longer change."))


# --- Voter codes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewBatch:
    batch: VoterCodeBatch
    codes: list[str]  # in clear: shown once, in the file handed to staff, then never again


def create_code_batch(
    session: Session,
    actor: User,
    cycle: Cycle,
    size: int,
    district_id: int | None,
    label: str,
    now: datetime,
) -> NewBatch:
    _require_staff(actor)
    _voting_not_over(cycle, now)
    if not cycle.vote_with_codes:
        raise DomainError(_l("This cycle does not use voter codes; turn them on in the cycle's settings first."))
    if not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
        raise DomainError(
            _l("A batch holds from 1 to %(most)s codes.", most=f"{MAX_BATCH_SIZE:,}"), field="size"
        )
    district = _district(cycle, district_id, required=cycle.has_district_budgets)
    label = (label or "").strip()
    batch = VoterCodeBatch(
        cycle_id=cycle.id,
        district_id=district.id if district else None,
        label=label,
        size=size,
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    key = voting_key(session, CODE_KEY_PURPOSE)
    codes = voter_codes.generate_many(size)
    session.execute(
        VoterCode.__table__.insert(),
        [
            {"batch_id": batch.id, "prefix": voter_codes.prefix(code), "digest": voter_codes.digest(key, code),
             "voided": False}
            for code in codes
        ],
    )
    record_change(
        session,
        actor,
        "voter_codes.create_batch",
        "voter_code_batch",
        batch.id,
        None,
        {"cycle": cycle.slug, "size": size, "district": district.slug if district else None, "label": label},
        now=now,
    )
    return NewBatch(batch, codes)


def void_batch(session: Session, actor: User, batch: VoterCodeBatch, reason: str, now: datetime) -> None:
    """No code of the batch opens a ballot any more (ballots already cast with them still count)."""
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for voiding the batch."), field="reason")
    if batch.is_void:
        raise DomainError(_l("This batch is void already."))
    batch.voided_at, batch.voided_by_id, batch.void_reason = now, actor.id, reason
    session.flush()
    record_change(
        session, actor, "voter_codes.void_batch", "voter_code_batch", batch.id, None, {"reason": reason}, now=now
    )


@dataclass(frozen=True)
class BatchUsage:
    batch: VoterCodeBatch
    used: int


def list_batches(session: Session, cycle: Cycle) -> list[BatchUsage]:
    """The cycle's batches, newest first, each with how many of its codes were used (never which)."""
    used = (
        select(func.count())
        .select_from(VoterCode)
        .where(VoterCode.batch_id == VoterCodeBatch.id, VoterCode.used_on.is_not(None))
        .scalar_subquery()
    )
    rows = session.execute(
        select(VoterCodeBatch, used)
        .where(VoterCodeBatch.cycle_id == cycle.id)
        .options(joinedload(VoterCodeBatch.district), joinedload(VoterCodeBatch.created_by))
        .order_by(VoterCodeBatch.id.desc())
    )
    return [BatchUsage(batch, count) for batch, count in rows]


def get_batch(session: Session, cycle: Cycle, batch_id: int) -> VoterCodeBatch | None:
    return session.scalar(
        select(VoterCodeBatch).where(VoterCodeBatch.cycle_id == cycle.id, VoterCodeBatch.id == batch_id)
    )


def code_voter(session: Session, cycle: Cycle, text: str, *, withdrawn_too: bool = False) -> Voter:
    """The voter a typed code stands for; a wrong, void or other cycle's code is refused (one message).

    ``withdrawn_too``: staff voiding a misused ballot find a code of a voided batch as well (its
    ballot, cast before the batch was voided, still counts until they void it).
    """
    code = voter_codes.normalize(text) if isinstance(text, str) else None
    wrong = DomainError(
        _l("This code is not valid for this vote. Check each character, or ask the staff who gave it to you."),
        field="code",
    )
    if code is None:
        raise wrong
    row = session.execute(
        select(VoterCode, VoterCodeBatch)
        .join(VoterCodeBatch, VoterCode.batch_id == VoterCodeBatch.id)
        .where(VoterCode.digest == voter_codes.digest(voting_key(session, CODE_KEY_PURPOSE), code))
    ).first()
    if row is None or row.VoterCodeBatch.cycle_id != cycle.id:
        raise wrong
    if (row.VoterCodeBatch.is_void or row.VoterCode.voided) and not withdrawn_too:
        raise DomainError(_l("This code was withdrawn by the city. Ask staff for a new one."), field="code")
    return Voter(
        f"code:{row.VoterCode.id}", row.VoterCodeBatch.district_id, code_id=row.VoterCode.id,
        voted=row.VoterCode.used_on is not None,
    )


def voter_for_code_id(session: Session, cycle: Cycle, code_id: int) -> Voter | None:
    """The voter of a code checked earlier in this session (None if it was voided since)."""
    row = session.execute(
        select(VoterCode, VoterCodeBatch)
        .join(VoterCodeBatch, VoterCode.batch_id == VoterCodeBatch.id)
        .where(VoterCode.id == code_id, VoterCodeBatch.cycle_id == cycle.id)
    ).first()
    if row is None or row.VoterCodeBatch.is_void or row.VoterCode.voided:
        return None
    return Voter(
        f"code:{code_id}", row.VoterCodeBatch.district_id, code_id=code_id, voted=row.VoterCode.used_on is not None
    )


# --- Accounts --------------------------------------------------------------------------------------


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def confirm_voter(
    session: Session,
    actor: User,
    cycle: Cycle,
    user: User,
    *,
    basis: EligibilityBasis,
    district_id: int | None,
    note: str,
    birth_date: date | None,
    citizen: bool,
    now: datetime,
) -> VoterEligibility:
    """Staff confirm an account as a voter of ``cycle`` (in person, from the registry or on a partner's word).

    The cycle's rules are checked here: its minimum age on the last day of voting (the birth date is
    checked, not kept) and whether non-citizens vote. ``note`` says what was checked (never an ID number).
    """
    _require_staff(actor)
    _voting_not_over(cycle, now)
    if not cycle.vote_with_accounts:
        raise DomainError(_l("This cycle does not let accounts vote; it uses voter codes only."))
    check_can_take_part(user)
    basis = EligibilityBasis(basis)
    note = (note or "").strip()
    if basis is not EligibilityBasis.REGISTRY and not note:
        raise DomainError(
            _l("Say what was checked (for example: a lease, a letter from a shelter, a partner's word)."),
            field="note",
        )
    if cycle.min_voting_age is not None:
        if birth_date is None:
            raise DomainError(
                _l("Enter the date of birth: this vote has a minimum age of %(age)s.", age=cycle.min_voting_age),
                field="birth_date",
            )
        if age_on(birth_date, cycle.voting_end_at.date()) < cycle.min_voting_age:
            raise DomainError(
                _l("This person is under %(age)s on the last day of voting, the minimum age of this vote.",
                   age=cycle.min_voting_age),
                field="birth_date",
            )
    if not cycle.noncitizens_may_vote and not citizen:
        raise DomainError(_l("Only citizens vote in this cycle."), field="citizen")
    district = _district(cycle, district_id, required=cycle.has_district_budgets)
    row = session.scalar(
        select(VoterEligibility).where(VoterEligibility.cycle_id == cycle.id, VoterEligibility.user_id == user.id)
    )
    before = None
    if row is None:
        row = VoterEligibility(cycle_id=cycle.id, user_id=user.id)
        session.add(row)
    else:
        if row.revoked_at is None:
            raise DomainError(_l("This account is a confirmed voter of this cycle already."))
        before = {"revoked_at": row.revoked_at.isoformat()}
    row.basis, row.note, row.district_id = basis, note, district.id if district else None
    row.confirmed_by_id, row.confirmed_at, row.revoked_at = actor.id, now, None
    session.flush()
    record_change(
        session,
        actor,
        "voter.confirm",
        "user",
        user.id,
        before,
        {"cycle": cycle.slug, "basis": basis.value, "district": district.slug if district else None, "note": note},
        now=now,
    )
    return row


def revoke_voter(session: Session, actor: User, eligibility: VoterEligibility, reason: str, now: datetime) -> None:
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason."), field="reason")
    if eligibility.revoked_at is not None:
        raise DomainError(_l("This account is not a confirmed voter any more."))
    eligibility.revoked_at = now
    session.flush()
    record_change(
        session, actor, "voter.revoke", "user", eligibility.user_id, None,
        {"cycle_id": eligibility.cycle_id, "reason": reason}, now=now,
    )


def account_voter(session: Session, cycle: Cycle, user: User, *, revoked_too: bool = False) -> Voter | None:
    """The voter a signed-in account is in ``cycle``, or None when it is not a confirmed voter.

    ``revoked_too``: staff voiding a misused ballot find an account revoked since it voted as well.
    """
    if not cycle.vote_with_accounts or not getattr(user, "is_authenticated", False):
        return None
    statement = select(VoterEligibility).where(
        VoterEligibility.cycle_id == cycle.id, VoterEligibility.user_id == user.id
    )
    if not revoked_too:
        statement = statement.where(VoterEligibility.revoked_at.is_(None))
    row = session.scalar(statement)
    if row is None:
        return None
    return Voter(f"account:{user.id}", row.district_id, user=user)


def get_voter(session: Session, cycle: Cycle, eligibility_id: int) -> VoterEligibility | None:
    """One confirmation of ``cycle`` by its id (for the staff page that revokes it)."""
    return session.scalar(
        select(VoterEligibility)
        .where(VoterEligibility.cycle_id == cycle.id, VoterEligibility.id == eligibility_id)
        .options(joinedload(VoterEligibility.user))
    )


def list_voters(session: Session, cycle: Cycle) -> list[VoterEligibility]:
    return list(
        session.scalars(
            select(VoterEligibility)
            .where(VoterEligibility.cycle_id == cycle.id)
            .options(
                joinedload(VoterEligibility.user),
                joinedload(VoterEligibility.district),
                joinedload(VoterEligibility.confirmed_by),
            )
            .order_by(VoterEligibility.confirmed_at.desc())
        )
    )
