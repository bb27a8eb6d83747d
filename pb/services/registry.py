"""The voter registry: staff import it as CSV; residents whose details match become voters.

Importing (:func:`import_registry`, staff only): a CSV file (UTF-8 with or without a byte order mark,
else Windows-1252; comma or semicolon) whose header names the columns ``last_name``, ``first_names``,
``birth_date`` (YYYY-MM-DD), ``postal_code``, ``district`` (a slug or a name in English or French;
required when the cycle divides its budget between districts) and ``citizen`` (yes, no, oui, non;
required only when non-citizens may not vote). Other columns are ignored. Each row is accepted or
rejected with a reason (line, column, reason code: never the row's content, in the report, the
database or the logs). Rows of people under the cycle's minimum age on the last day of voting, and
of non-citizens when only citizens vote, are rejected: the registry keeps only people who may vote,
so it needs no date or citizenship, only a keyed hash of the identity (:mod:`pb.registry_identity`)
and the district.

A new import *replaces* the registry: every unmatched line of earlier imports is removed and the
file's rows are added. Lines that already confirmed an account stay (the account was confirmed from
them, and they must not confirm a second one); the report counts how many of them the new file no
longer lists, for staff to review on the voters page (their confirmations stand until staff revoke
them).

Matching (:func:`match_registry`): a signed-in resident with a confirmed e-mail types the same four
details; the same digest confirms their account (:class:`pb.models.VoterEligibility`, basis
``registry``, no staff member) once, and the line then refuses any other account. The typed details
are hashed and forgotten. No match says what to do (see staff in person, or a community partner),
never which detail differed.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pb import permissions
from pb.models import (
    Cycle,
    District,
    EligibilityBasis,
    User,
    VoterEligibility,
    VoterRegistryEntry,
    VoterRegistryImport,
)
from pb.registry_identity import (
    IdentityError,
    canonical_identity,
    identity_of_keys,
    name_key,
    postal_code_key,
)
from pb.services.accounts import check_can_take_part
from pb.services.audit import record_change
from pb.services.eligibility import age_on
from pb.services.errors import DomainError
from pb.services.voting import voting_key

KEY_PURPOSE = "voter registry"
MAX_FILE_BYTES = 10 * 1024 * 1024  # 200,000 rows of the five columns take about 9 MB
MAX_ROWS = 200_000
MAX_STORED_REJECTIONS = 1_000  # the report keeps the first ones; the counts cover all
EARLIEST_BIRTH_YEAR = 1900
MATCH_NOTE = "Matched the voter registry"
INSERT_CHUNK = 5_000

COLUMNS = ("last_name", "first_names", "birth_date", "postal_code", "district", "citizen")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YES = frozenset({"yes", "oui", "y", "o"})
_NO = frozenset({"no", "non", "n"})


class Reason(StrEnum):
    """Why a row was rejected (what the import report stores; the message is shown in the reader's language)."""

    MISSING = "missing"
    BAD_NAME = "bad_name"
    BAD_DATE = "bad_date"
    BAD_POSTAL_CODE = "bad_postal_code"
    UNKNOWN_DISTRICT = "unknown_district"
    BAD_CITIZEN = "bad_citizen"
    NOT_CITIZEN = "not_citizen"
    UNDER_AGE = "under_age"
    DUPLICATE = "duplicate"
    EXTRA_CELLS = "extra_cells"


REASON_MESSAGES = {
    Reason.MISSING: _l("Empty: this column is required."),
    Reason.BAD_NAME: _l("Not a name: it needs at least one letter and at most 200 characters."),
    Reason.BAD_DATE: _l("Not a date of birth written YYYY-MM-DD (for example 1980-05-17)."),
    Reason.BAD_POSTAL_CODE: _l("Not a Canadian postal code (for example H2X 1Y4)."),
    Reason.UNKNOWN_DISTRICT: _l("Not a district of this cycle (give its short name or its name)."),
    Reason.BAD_CITIZEN: _l("Write yes, no, oui or non."),
    Reason.NOT_CITIZEN: _l("Not a citizen: only citizens vote in this cycle."),
    Reason.UNDER_AGE: _l("Under the minimum age of this vote on the last day of voting."),
    Reason.DUPLICATE: _l("The same person as on an earlier line."),
    Reason.EXTRA_CELLS: _l("More cells than the header has columns."),
}


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: Reason

    @property
    def message(self):
        return REASON_MESSAGES[self.reason]


@dataclass(frozen=True)
class ImportReport:
    record: VoterRegistryImport
    rejections: list[Rejection]  # the first MAX_STORED_REJECTIONS
    matched_not_in_file: int  # lines that confirmed an account and that this file no longer lists

    @property
    def accepted(self) -> int:
        return self.record.rows_accepted

    @property
    def rejected(self) -> int:
        return self.record.rows_rejected


def digest(key: bytes, identity: str) -> str:
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()


def _require_staff(actor: User) -> None:
    if not permissions.can_manage_voters(actor):
        raise DomainError(_l("Only staff can manage voters."))


def _usable(cycle: Cycle, now: datetime) -> None:
    if not cycle.vote_with_accounts:
        raise DomainError(_l("This cycle does not let accounts vote; it uses voter codes only."))
    if cycle.voting_is_over(now):
        raise DomainError(_l("Voting is over for this cycle: its voters can no longer change."))


# --- Reading the file ------------------------------------------------------------------------------


def _file_error(message) -> DomainError:
    return DomainError(message, field="file")


def _decode(data: bytes) -> str:
    if not data.strip():
        raise _file_error(_l("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(
            _l("The file is larger than %(size)s MB: split it by district or remove other columns.",
               size=MAX_FILE_BYTES // (1024 * 1024))
        )
    if b"\x00" in data:
        raise _file_error(
            _l("This is not a CSV text file (it contains NUL bytes). Save it as “CSV UTF-8” and try again.")
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error(_l("The file's characters cannot be read. Save it as “CSV UTF-8” and try again."))


def _rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (column names, lowercased) and the rows with their line numbers."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise _file_error(_l("Line 1 cannot be read as CSV.")) from error
    names = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in header or []]
    if not any(names):
        raise _file_error(_l("The first line must name the columns: last_name, first_names, birth_date, postal_code."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _file_error(
                    _l("Line %(line)s cannot be read as CSV (a quote left open?).", line=reader.line_num)
                ) from error
            yield reader.line_num, row

    return names, rows()


def _required_columns(cycle: Cycle) -> list[str]:
    required = ["last_name", "first_names", "birth_date", "postal_code"]
    if cycle.has_district_budgets:
        required.append("district")
    if not cycle.noncitizens_may_vote:
        required.append("citizen")
    return required


def _district_lookup(cycle: Cycle) -> dict[str, District]:
    lookup: dict[str, District] = {}
    for district in cycle.districts:
        for text in (district.slug, district.name_en, district.name_fr):
            key = name_key(text)
            if key:
                lookup.setdefault(key, district)
    return lookup


def _birth_date(text: str, last_day: date) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if value.year >= EARLIEST_BIRTH_YEAR and value <= last_day else None


@dataclass(frozen=True)
class _Row:
    digest: str
    district_id: int | None


def _read_row(cells: dict[str, str], cycle: Cycle, districts: dict[str, District], key: bytes) -> _Row | Rejection:
    """A row's digest and district, or why it is rejected (the first problem, column by column)."""

    def reject(column: str, reason: Reason) -> Rejection:
        return Rejection(0, column, reason)

    names = []
    for column in ("last_name", "first_names"):
        value = cells.get(column, "")
        if not value.strip():
            return reject(column, Reason.MISSING)
        folded = name_key(value)
        if not folded:
            return reject(column, Reason.BAD_NAME)
        names.append(folded)
    last_day = cycle.voting_end_at.date()
    raw_date = cells.get("birth_date", "").strip()
    if not raw_date:
        return reject("birth_date", Reason.MISSING)
    birth = _birth_date(raw_date, last_day)
    if birth is None:
        return reject("birth_date", Reason.BAD_DATE)
    raw_postal = cells.get("postal_code", "")
    if not raw_postal.strip():
        return reject("postal_code", Reason.MISSING)
    postal = postal_code_key(raw_postal)
    if postal is None:
        return reject("postal_code", Reason.BAD_POSTAL_CODE)
    district = None
    raw_district = cells.get("district", "").strip()
    if raw_district:
        district = districts.get(name_key(raw_district))
        if district is None:
            return reject("district", Reason.UNKNOWN_DISTRICT)
    elif cycle.has_district_budgets:
        return reject("district", Reason.MISSING)
    if not cycle.noncitizens_may_vote:
        answer = cells.get("citizen", "").strip().casefold()
        if not answer:
            return reject("citizen", Reason.MISSING)
        if answer in _NO:
            return reject("citizen", Reason.NOT_CITIZEN)
        if answer not in _YES:
            return reject("citizen", Reason.BAD_CITIZEN)
    if cycle.min_voting_age is not None and age_on(birth, last_day) < cycle.min_voting_age:
        return reject("birth_date", Reason.UNDER_AGE)
    identity = identity_of_keys(names[0], names[1], birth, postal)
    return _Row(digest(key, identity), district.id if district else None)


def _clean_file_name(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name.strip()[:200]


def import_registry(
    session: Session, actor: User, cycle: Cycle, data: bytes, file_name: str, now: datetime
) -> ImportReport:
    """Read a registry file and make it the cycle's registry (see the module's docstring); staff only."""
    _require_staff(actor)
    _usable(cycle, now)
    header, rows = _rows(_decode(data))
    missing = [column for column in _required_columns(cycle) if column not in header]
    if missing:
        raise _file_error(
            _l("The first line must name these columns: %(columns)s.", columns=", ".join(missing))
        )
    positions = {name: header.index(name) for name in COLUMNS if name in header}
    districts = _district_lookup(cycle)
    key = voting_key(session, KEY_PURPOSE)

    accepted: dict[str, int | None] = {}  # digest -> district id, in file order
    rejections: list[Rejection] = []
    rejected = 0
    count = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank lines (and the trailing one of many spreadsheets) are not rows
        count += 1
        if count > MAX_ROWS:
            raise _file_error(
                _l("The file has more than %(rows)s rows: split it by district.", rows=f"{MAX_ROWS:,}")
            )
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
            result: _Row | Rejection = Rejection(0, "", Reason.EXTRA_CELLS)
        else:
            cells = {name: row[index] if index < len(row) else "" for name, index in positions.items()}
            result = _read_row(cells, cycle, districts, key)
            if isinstance(result, _Row) and result.digest in accepted:
                result = Rejection(0, "", Reason.DUPLICATE)
        if isinstance(result, Rejection):
            rejected += 1
            if len(rejections) < MAX_STORED_REJECTIONS:
                rejections.append(Rejection(line, result.column, result.reason))
        else:
            accepted[result.digest] = result.district_id

    matched = set(
        session.scalars(
            select(VoterRegistryEntry.digest).where(
                VoterRegistryEntry.cycle_id == cycle.id, VoterRegistryEntry.matched_at.is_not(None)
            )
        )
    )
    replaced = session.execute(
        delete(VoterRegistryEntry).where(
            VoterRegistryEntry.cycle_id == cycle.id, VoterRegistryEntry.matched_at.is_(None)
        )
    ).rowcount
    record = VoterRegistryImport(
        cycle_id=cycle.id,
        file_name=_clean_file_name(file_name),
        imported_by_id=actor.id,
        imported_at=now,
        rows_accepted=len(accepted),
        rows_rejected=rejected,
        entries_replaced=replaced,
        rejections=json.dumps([[r.line, r.column, r.reason.value] for r in rejections]),
    )
    session.add(record)
    session.flush()
    new = [
        {"cycle_id": cycle.id, "import_id": record.id, "digest": value, "district_id": district_id}
        for value, district_id in accepted.items()
        if value not in matched
    ]
    for start in range(0, len(new), INSERT_CHUNK):
        session.execute(VoterRegistryEntry.__table__.insert(), new[start : start + INSERT_CHUNK])
    not_in_file = len(matched - accepted.keys())
    record_change(
        session,
        actor,
        "voter_registry.import",
        "voter_registry_import",
        record.id,
        None,
        {
            "cycle": cycle.slug,
            "accepted": len(accepted),
            "rejected": rejected,
            "replaced": replaced,
            "matched_not_in_file": not_in_file,
        },
        now=now,
    )
    return ImportReport(record, rejections, not_in_file)


# --- What staff see --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryState:
    entries: int
    matched: int
    last_import: VoterRegistryImport | None

    @property
    def rejections(self) -> list[Rejection]:
        if self.last_import is None:
            return []
        return [
            Rejection(line, column, Reason(reason))
            for line, column, reason in json.loads(self.last_import.rejections or "[]")
        ]


def registry_state(session: Session, cycle: Cycle) -> RegistryState:
    counts = session.execute(
        select(func.count(), func.count(VoterRegistryEntry.matched_at)).where(VoterRegistryEntry.cycle_id == cycle.id)
    ).one()
    last = session.scalar(
        select(VoterRegistryImport)
        .where(VoterRegistryImport.cycle_id == cycle.id)
        .options(joinedload(VoterRegistryImport.imported_by))
        .order_by(VoterRegistryImport.id.desc())
        .limit(1)
    )
    return RegistryState(counts[0], counts[1], last)


def has_registry(session: Session, cycle: Cycle) -> bool:
    return session.scalar(
        select(VoterRegistryImport.id).where(VoterRegistryImport.cycle_id == cycle.id).limit(1)
    ) is not None


def current_eligibility(session: Session, cycle: Cycle, user: User) -> VoterEligibility | None:
    """The account's voter confirmation in ``cycle`` (revoked or not), whatever its basis."""
    return session.scalar(
        select(VoterEligibility).where(VoterEligibility.cycle_id == cycle.id, VoterEligibility.user_id == user.id)
    )


# --- Residents -------------------------------------------------------------------------------------

NO_MATCH = _l(
    "These details are not on the voter registry of this cycle. Check how you wrote them (your names as "
    "on your identity papers, your date of birth, the postal code where you live). If they are right, "
    "see city staff in person, or ask a community partner to vouch for you: you can still vote."
)
TAKEN = _l(
    "These details already confirmed another account as a voter. Each person votes once: see city staff "
    "in person and they will sort it out."
)


def match_registry(
    session: Session,
    user: User,
    cycle: Cycle,
    *,
    last_name: str,
    first_names: str,
    birth_date: date | None,
    postal_code: str,
    now: datetime,
) -> VoterEligibility:
    """Confirm ``user`` as a voter of ``cycle`` when their details are on its registry; the details are not kept."""
    _usable(cycle, now)
    check_can_take_part(user)
    current = current_eligibility(session, cycle, user)
    if current is not None:
        if current.revoked_at is None:
            raise DomainError(_l("Your account is a confirmed voter of this cycle already."))
        raise DomainError(_l("Staff withdrew your account's confirmation as a voter. See city staff in person."))
    try:
        identity = canonical_identity(last_name, first_names, birth_date, postal_code)  # type: ignore[arg-type]
    except IdentityError as error:
        messages = {
            "last_name": _l("Enter your last name."),
            "first_names": _l("Enter your first names."),
            "birth_date": _l("Enter your date of birth."),
            "postal_code": _l("Enter a Canadian postal code, for example H2X 1Y4."),
        }
        raise DomainError(messages[error.field], field=error.field) from None
    value = digest(voting_key(session, KEY_PURPOSE), identity)
    entry = session.scalar(
        select(VoterRegistryEntry).where(VoterRegistryEntry.cycle_id == cycle.id, VoterRegistryEntry.digest == value)
    )
    if entry is None:
        raise DomainError(NO_MATCH)
    # The line is claimed only if no one claimed it first: two accounts racing for it, one wins.
    claimed = session.execute(
        update(VoterRegistryEntry)
        .where(VoterRegistryEntry.id == entry.id, VoterRegistryEntry.matched_at.is_(None))
        .values(matched_user_id=user.id, matched_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise DomainError(TAKEN)
    row = VoterEligibility(
        cycle_id=cycle.id,
        user_id=user.id,
        district_id=entry.district_id,
        basis=EligibilityBasis.REGISTRY,
        note=MATCH_NOTE,
        confirmed_by_id=None,
        confirmed_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same account matched in a simultaneous request
        raise DomainError(_l("Your account is a confirmed voter of this cycle already.")) from None
    district = entry.district
    record_change(
        session,
        user,
        "voter.registry_match",
        "user",
        user.id,
        None,
        {"cycle": cycle.slug, "basis": EligibilityBasis.REGISTRY.value, "district": district.slug if district else None},
        now=now,
    )
    return row
