"""The election record of a cycle with a published result: the database written out as signed files.

:mod:`pb.record_format` says what the files are; this module gathers them from the database: the
cycle, its projects and budgets and the configuration the count used (``manifest.json``), the
counted ballots of each budget (``ballots-*.pb``, from the ballot store, which ``pb audit`` compares
with the log), the whole ballot log (``log.jsonl``) and the published outcome with its explanation
and payment certificate (``result.json``). The ballots are counted again while the record is built:
if they no longer give the published outcome, no record is made.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from pb import record_format
from pb.ballot import BallotConfig
from pb.hashchain import Head
from pb.models import BallotProject, Cycle, Result
from pb.services import results, voting
from pb.services.errors import DomainError

log = logging.getLogger(__name__)


class SigningKeyMissing(DomainError):
    """No usable signing key at the configured path."""


def load_signing_key(path: str | os.PathLike[str]):
    """The city's Ed25519 private key from its PEM file (``records.signing_key_path``)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise SigningKeyMissing(
            _l("No signing key at %(path)s (records.signing_key_path): make one with pb keys generate.", path=path)
        ) from None
    try:
        return record_format.load_private_key(data)
    except record_format.RecordError as error:
        raise SigningKeyMissing(_l("The signing key at %(path)s is not usable: %(problem)s", path=path,
                                   problem=str(error))) from None


_FINGERPRINTS: dict[tuple[str, int], str] = {}


def key_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """The fingerprint of the signing key's public half (read once per file version), or None without a key."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    cache_key = (os.fspath(path), stat.st_mtime_ns)
    if cache_key not in _FINGERPRINTS:
        try:
            key = load_signing_key(path)
        except SigningKeyMissing:
            return None
        _FINGERPRINTS[cache_key] = record_format.fingerprint(key.public_key())
    return _FINGERPRINTS[cache_key]


def _manifest(session: Session, cycle: Cycle, result: Result, counts: list[results.CountedElection]):
    slugs = {d.id: d.slug for d in cycle.districts}
    rows = session.scalars(
        select(BallotProject)
        .where(BallotProject.cycle_id == cycle.id, BallotProject.confirmed_at.is_not(None))
        .order_by(BallotProject.id)
    )
    budgets = []
    for count in counts:
        district = slugs[count.district_id] if count.district_id is not None else None
        budgets.append(
            record_format.BudgetSpec(
                district,
                int(count.election.budget),
                record_format.ballots_name(district),
                tuple(sorted(int(p.id) for p in count.election.projects)),
            )
        )
    return record_format.Manifest(
        cycle={
            "slug": cycle.slug,
            "name_en": cycle.name_en,
            "name_fr": cycle.name_fr,
            "currency": cycle.currency,
            "timezone": cycle.timezone,
            "voting_start_at": cycle.voting_start_at.isoformat(),
            "voting_end_at": cycle.voting_end_at.isoformat(),
        },
        districts=tuple(
            {"slug": d.slug, "name_en": d.name_en, "name_fr": d.name_fr, "budget_cents": d.budget_cents}
            for d in cycle.districts
        ),
        projects=tuple(
            record_format.ProjectSpec(
                p.id, p.title_en, p.title_fr, p.cost_cents, slugs.get(p.district_id) if p.district_id else None
            )
            for p in rows
        ),
        budgets=tuple(budgets),
        config=BallotConfig.from_json(result.ballot_config),
        log_head=Head.parse(result.log_head),
        counted=result.counted,
        software_version=result.software_version,
        result={
            "id": result.id,
            "published_at": result.published_at.isoformat() if result.published_at else None,
            "corrects": result.corrects_id,
            "correction_reason": result.correction_reason or None,
        },
    )


def build_record(session: Session, cycle: Cycle, key, result_id: int | None = None) -> bytes:
    """The signed record zip of ``cycle``'s published result (``key``: :func:`load_signing_key`): the
    standing one, or the published result ``result_id`` (so that a file named after a result holds
    that result, even if a correction is published meanwhile)."""
    if result_id is None:
        result = results.current_result(session, cycle)
    else:
        result = results.get_published_result(session, cycle, result_id)
    if result is None:
        raise DomainError(_l("The cycle %(slug)s has no published result: its election record is made once "
                             "the result is published.", slug=cycle.slug))
    counts = results.tally_cycle(session, cycle)
    published = json.loads(result.outcome)["counts"]
    manifest = _manifest(session, cycle, result, counts)
    if len(published) != len(counts) or str(voting.log_state(session, cycle).head) != result.log_head:
        raise DomainError(_l("The ballots no longer give the published result: no record can be made."))
    files: dict[str, bytes] = {record_format.MANIFEST: manifest.to_bytes()}
    documents = []
    for budget, count, stored in zip(manifest.budgets, counts, published, strict=True):
        election = record_format.budget_election(
            manifest, budget, (vote.ballot for vote in count.election.votes), count.outcome.selected
        )
        recount = record_format.outcome_document(election, count.outcome)
        if stored["district"] != budget.district or record_format.normalized_outcome(
            recount
        ) != record_format.normalized_outcome(stored["outcome"]):
            raise DomainError(_l("The ballots no longer give the published result: no record can be made."))
        files[budget.file] = record_format.ballots_file(election)
        documents.append(record_format.count_document(manifest, budget, election, count.outcome, stored["outcome"]))
    files[record_format.LOG] = b"".join(record_format.log_line(link) for link in voting.log_links(session, cycle))
    files[record_format.RESULT] = record_format.result_bytes(manifest, documents)
    return record_format.write_record(files, key, result.published_at or result.created_at)


def record_path(folder: str | os.PathLike[str], cycle: Cycle, result_id: int) -> Path:
    """Where the record of the published result ``result_id`` is kept: one file per result."""
    return Path(folder) / f"{cycle.slug}-result-{result_id}.zip"


def download_name(cycle: Cycle) -> str:
    return f"{cycle.slug}-election-record.zip"


@dataclass(frozen=True)
class RecordFile:
    """A record file as it is published: its name for downloads, size and SHA-256."""

    name: str
    size: int
    sha256: str


_DIGESTS: dict[tuple[str, int, int], str] = {}


def record_file(folder: str | os.PathLike[str], cycle: Cycle, result_id: int) -> RecordFile | None:
    """The record of the result ``result_id`` if it has been made (None if not yet); never builds it.

    The file is hashed once per process and file version (a record is written once, whole)."""
    path = record_path(folder, cycle, result_id)
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (os.fspath(path), stat.st_mtime_ns, stat.st_size)
    if key not in _DIGESTS:
        if len(_DIGESTS) > 4096:
            _DIGESTS.clear()
        _DIGESTS[key] = record_format.file_sha256(path)
    return RecordFile(download_name(cycle), stat.st_size, _DIGESTS[key])


def _write_whole(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # two processes building it at once both write whole files
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_record(session: Session, cycle: Cycle, result_id: int, key_path: str, folder: str) -> Path:
    """The record file of the cycle's standing published result (``result_id``), built once per result
    and kept in ``folder``. The key is read only when the file has to be built."""
    path = record_path(folder, cycle, result_id)
    if not path.exists():
        _write_whole(path, build_record(session, cycle, load_signing_key(key_path), result_id))
    return path


_FAILED: set[tuple[int, int]] = set()  # (cycle id, result id) whose record could not be made
RECORDS_PER_ROUND = 3  # each one counts the ballots again: a round does a few, the next ones follow


def build_missing_records(session: Session, key_path: str, folder: str) -> int:
    """Make the record of standing published results that have none yet (the worker's task, so that the
    open-data page can list each record's SHA-256 soon after publication); returns how many were made.

    A few a round, each on its own: one that cannot be made (its ballots no longer give the published
    result) is logged once and left to the record page, which says so, and does not hold up the others.
    Without a signing key nothing is made and nothing fails: the record pages answer 503 and say so."""
    if key_fingerprint(key_path) is None:
        return 0
    made = 0
    for cycle_id, result_id in results.standing_result_ids(session).items():
        cycle = session.get(Cycle, cycle_id)
        if (cycle_id, result_id) in _FAILED or record_path(folder, cycle, result_id).exists():
            continue
        try:
            cached_record(session, cycle, result_id, key_path, folder)
        except DomainError:
            _FAILED.add((cycle_id, result_id))
            log.exception("no election record for %s (result %d)", cycle.slug, result_id)
            continue
        made += 1
        if made == RECORDS_PER_ROUND:
            break
    return made
