"""The election record: what its files are called, what they hold, how they are signed and read back.

A record is one zip file, written by ``pb record export`` (:mod:`pb.services.records` builds it
from the database) and checked by ``pb audit`` (:mod:`pb.audit_command`), which share this module.
Standard library, :mod:`pb.tally` and the ``cryptography`` package only: no Flask, no database.

The members:

``manifest.json``
    Canonical JSON (:func:`pb.hashchain.canonical_json`): the cycle (slug, names, currency, voting
    dates), its districts, every counted project (id, titles, cost in cents, district), one entry
    per budget counted (district or ``null`` for the whole city, budget in cents, its ballots
    file, its project ids), the ballot configuration frozen when voting opened
    (:meth:`pb.ballot.BallotConfig.to_dict`: ballot type and limits, rule, utility, completion,
    tie-break and seed), the sealed ballot log's head (``COUNT:HASH``), the number of ballots
    counted, the software version, and the published result (id, publication time, what it corrects).
``ballots-<district>.pb`` (``ballots-city.pb`` for a cycle with one budget)
    The counted ballots of one budget in the pabulib format (https://pabulib.org/format), with no
    voter data: voters are numbered after the ballots are sorted. Amounts are in cents.
``log.jsonl``
    The whole hash-chained ballot log, one canonical JSON object a line:
    ``{"entry": {...}, "hash": "...", "position": 1, "prev": "..."}``. Hashes are HMAC-SHA-256 under
    the published key ``BALLOT_LOG_KEY`` (:mod:`pb.hashchain` says over what).
``result.json``
    Canonical JSON: the published result and, for each budget, the outcome exactly as published
    (:func:`pb.tally.report.outcome_json`), its explanation in sentences and, for the Method of
    Equal Shares, the payment certificate (who paid what for each project).
``public_key.pem``
    The Ed25519 public key of the city (compare its fingerprint with the one the city published).
``SHA256SUMS``
    ``sha256sum`` format (``<hex>  <name>``), one line per member above, sorted by name
    (``sha256sum -c SHA256SUMS`` checks them).
``SHA256SUMS.sig``
    The raw 64-byte Ed25519 signature of ``SHA256SUMS`` (``openssl pkeyutl -verify -pubin -inkey
    public_key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`` checks it).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pb.ballot import BallotConfig
from pb.ballot_tally import ballot_kind, tally_limits
from pb.hashchain import Head, Link, canonical_json
from pb.tally import (
    ApprovalBallot,
    Ballot,
    CumulativeBallot,
    Election,
    Outcome,
    Project,
    RankedBallot,
    Vote,
    pabulib,
)
from pb.tally.certificate import GroupPayment, PaymentCertificate, ProjectPayments
from pb.tally.election import exact, format_amount
from pb.tally.report import explanation, outcome_json

FORMAT = "pb-election-record"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOG = "log.jsonl"
RESULT = "result.json"
PUBLIC_KEY = "public_key.pem"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
# The ballot log's hashes are keyed with this published constant (pb.services.voting writes them).
BALLOT_LOG_KEY = b"pb ballot log v1"
CITY = "city"  # the ballots file of a cycle with one budget: ballots-city.pb
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([^/\\\n]+)$")


class RecordError(ValueError):
    """A member of the record is malformed: the message says what, ``file`` and ``entry`` where."""

    def __init__(self, message: str, file: str | None = None, entry: str | None = None) -> None:
        super().__init__(message)
        self.file, self.entry = file, entry

    def __str__(self) -> str:
        where = ", ".join(filter(None, [self.file, self.entry]))
        return f"{where}: {self.args[0]}" if where else str(self.args[0])


def ballots_name(district: str | None) -> str:
    """The ballots file of one budget: ``ballots-<district slug>.pb``, or ``ballots-city.pb``."""
    return f"ballots-{district or CITY}.pb"


# --- Keys and signatures ---------------------------------------------------------------------


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM: (private key, PKCS#8 unencrypted; public key, SubjectPublicKeyInfo)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private, public_pem(key.public_key())


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise RecordError(f"not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RecordError("the private key is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as error:
        raise RecordError(f"not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise RecordError("the public key is not an Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in 16 groups of 4 hexadecimal digits."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


# --- SHA256SUMS ------------------------------------------------------------------------------


def file_sha256(path) -> str:
    """The SHA-256 of a file on disk, read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """``sha256sum`` output for ``files``, sorted by name."""
    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)).encode()


def read_sha256sums(data: bytes) -> dict[str, str]:
    """Name -> hex digest; a malformed or repeated line raises :class:`RecordError`."""
    sums: dict[str, str] = {}
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise RecordError("not ASCII text", SUMS) from None
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUM_LINE.match(line)
        if match is None:
            raise RecordError("not a sha256sum line", SUMS, f"line {number}")
        digest, name = match.groups()
        if name in sums:
            raise RecordError(f"{name} is listed twice", SUMS, f"line {number}")
        sums[name] = digest
    return sums


# --- The zip ---------------------------------------------------------------------------------


def write_record(files: Mapping[str, bytes], key: Ed25519PrivateKey, when: datetime) -> bytes:
    """The signed zip of ``files`` (manifest, ballots, log, result), dated ``when`` so it is reproducible."""
    members = {**files, PUBLIC_KEY: public_pem(key.public_key())}
    sums = sha256sums(members)
    members[SUMS] = sums
    members[SIGNATURE] = key.sign(sums)
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def read_record(source: str | bytes | io.BufferedIOBase) -> dict[str, bytes]:
    """Every member of a record zip (a path, bytes or a file); :class:`RecordError` if it is not one."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with zipfile.ZipFile(source) as archive:
            files: dict[str, bytes] = {}
            for info in archive.infolist():
                name = info.filename
                if info.is_dir() or "/" in name or "\\" in name or name in files:
                    raise RecordError(f"unexpected member {name!r}")
                files[name] = archive.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise RecordError(f"not a zip file ({error})") from None
    for name in (MANIFEST, SUMS, SIGNATURE, LOG, RESULT):
        if name not in files:
            raise RecordError(f"the record has no {name}")
    return files


# --- The manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    id: int
    title_en: str
    title_fr: str
    cost_cents: int
    district: str | None


@dataclass(frozen=True)
class BudgetSpec:
    """One count: a district's budget (or the whole city's) and the projects its voters could choose."""

    district: str | None
    budget_cents: int
    file: str
    projects: tuple[int, ...]


@dataclass(frozen=True)
class Manifest:
    cycle: Mapping[str, Any]  # slug, name_en, name_fr, currency, timezone, voting_start_at, voting_end_at
    districts: tuple[Mapping[str, Any], ...]  # slug, name_en, name_fr, budget_cents
    projects: tuple[ProjectSpec, ...]
    budgets: tuple[BudgetSpec, ...]
    config: BallotConfig
    log_head: Head
    counted: int
    software_version: str
    result: Mapping[str, Any]  # id, published_at, corrects, correction_reason

    @property
    def project_by_id(self) -> dict[int, ProjectSpec]:
        return {p.id: p for p in self.projects}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "cycle": dict(self.cycle),
            "districts": [dict(d) for d in self.districts],
            "projects": [
                {"id": p.id, "title_en": p.title_en, "title_fr": p.title_fr, "cost_cents": p.cost_cents,
                 "district": p.district}
                for p in self.projects
            ],
            "budgets": [
                {"district": b.district, "budget_cents": b.budget_cents, "file": b.file, "projects": list(b.projects)}
                for b in self.budgets
            ],
            "ballot_config": self.config.to_dict(),
            "log_head": str(self.log_head),
            "counted": self.counted,
            "software_version": self.software_version,
            "result": dict(self.result),
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_dict()) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Read :meth:`to_bytes` back, checking every field; :class:`RecordError` names the first problem."""
        document = _json(data, MANIFEST)
        try:
            return cls._from_dict(document)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, RecordError):
                raise
            problem = f"missing {error}" if isinstance(error, KeyError) else str(error)
            raise RecordError(problem, MANIFEST) from None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> Manifest:
        if d.get("format") != FORMAT or d.get("format_version") != FORMAT_VERSION:
            raise RecordError(f"not a {FORMAT} version {FORMAT_VERSION} manifest", MANIFEST)
        cycle = d["cycle"]
        if not isinstance(cycle, dict) or not _SLUG.match(str(cycle.get("slug", ""))):
            raise ValueError("cycle: no valid slug")
        districts = tuple(d["districts"])
        slugs = {str(x["slug"]) for x in districts}
        projects = []
        for p in d["projects"]:
            spec = ProjectSpec(_int(p["id"], "project id"), str(p["title_en"]), str(p["title_fr"]),
                               _int(p["cost_cents"], "project cost"), p["district"])
            if spec.cost_cents < 0 or (spec.district is not None and spec.district not in slugs):
                raise RecordError(f"project {spec.id}: bad cost or district", MANIFEST, f"project {spec.id}")
            projects.append(spec)
        ids = {p.id for p in projects}
        if len(ids) != len(projects):
            raise ValueError("a project is listed twice")
        budgets = []
        for b in d["budgets"]:
            spec = BudgetSpec(b["district"], _int(b["budget_cents"], "budget"), str(b["file"]),
                              tuple(_int(x, "project id") for x in b["projects"]))
            where = f"budget {spec.district or CITY}"
            if spec.file != ballots_name(spec.district) or not set(spec.projects) <= ids or spec.budget_cents < 0:
                raise RecordError("bad file name, project or amount", MANIFEST, where)
            if spec.district is not None and spec.district not in slugs:
                raise RecordError("unknown district", MANIFEST, where)
            budgets.append(spec)
        if len({b.district for b in budgets}) != len(budgets) or not budgets:
            raise ValueError("budgets: none, or one listed twice")
        if None in {b.district for b in budgets} and len(budgets) > 1:
            raise ValueError("budgets: a city-wide budget beside district budgets")
        counted = _int(d["counted"], "counted")
        return cls(
            cycle=cycle,
            districts=districts,
            projects=tuple(projects),
            budgets=tuple(budgets),
            config=BallotConfig.from_dict(d["ballot_config"]),
            log_head=Head.parse(str(d["log_head"])),
            counted=counted,
            software_version=str(d["software_version"]),
            result=dict(d["result"]),
        )


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{what} is not a whole number: {value!r}")
    return value


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise RecordError(f"not JSON ({error})", name) from None


# --- The ballots files -----------------------------------------------------------------------

_PABULIB_RULES = {("greedy", "cost", "none"): "greedy", ("mes", "cost", "none"): "equalshares",
                  ("mes", "cost", "add1"): "equalshares/add1"}


def ballot_sort_key(ballot: Ballot) -> str:
    """A canonical text of a ballot, to sort the anonymous ballots files by."""
    return canonical_json(ballot_json(ballot)).decode()


def budget_election(
    manifest: Manifest, budget: BudgetSpec, ballots: Iterable[Ballot], selected: Iterable[str] = ()
) -> Election:
    """The election of one budget as its ballots file holds it: projects with names, the ballots sorted
    and numbered from 1, the ballot limits of the manifest's configuration, and META for pabulib readers."""
    config = manifest.config
    specs = manifest.project_by_id
    ordered = sorted(ballots, key=ballot_sort_key)
    supporters = dict.fromkeys((str(pid) for pid in budget.projects), 0)
    for ballot in ordered:
        for pid in ballot.project_ids():
            supporters[pid] = supporters.get(pid, 0) + 1
    chosen = set(selected)
    projects = tuple(
        Project(
            str(pid),
            specs[pid].cost_cents,
            specs[pid].title_en,
            (("votes", str(supporters[str(pid)])), ("selected", "1" if str(pid) in chosen else "0")),
        )
        for pid in sorted(budget.projects)
    )
    district = next((d for d in manifest.districts if d["slug"] == budget.district), None)
    meta = [
        ("description", f"{manifest.cycle['name_en']} (pb election record)"),
        ("country", "Canada"),
        ("unit", str(manifest.cycle["name_en"])),
        *([("subunit", str(district["name_en"]))] if district is not None else []),
        ("instance", str(manifest.cycle["slug"])),
        ("num_projects", str(len(projects))),
        ("num_votes", str(len(ordered))),
        ("budget", str(budget.budget_cents)),
        ("vote_type", {"approval": "approval", "ranked": "ordinal", "cumulative": "cumulative"}[
            ballot_kind(config.ballot_type).value]),
        *([("rule", rule)] if (rule := _PABULIB_RULES.get(
            (config.tally_rule, config.tally_utility, config.tally_completion))) else []),
        ("date_begin", _pabulib_date(manifest.cycle.get("voting_start_at"))),
        ("date_end", _pabulib_date(manifest.cycle.get("voting_end_at"))),
        ("language", "en"),
        ("comment", f"Amounts are in cents of {manifest.cycle['currency']}. Written by pb; the election "
                    "record's manifest.json holds the full ballot configuration."),
    ]
    votes = tuple(Vote(str(number), ballot) for number, ballot in enumerate(ordered, 1))
    return Election(
        budget.budget_cents, projects, votes, ballot_kind(config.ballot_type),
        tally_limits(config, budget.budget_cents), tuple(meta),
    )


def ballots_file(election: Election) -> bytes:
    """The ballots file of :func:`budget_election`'s election (pabulib text, UTF-8)."""
    return pabulib.dumps(election).encode("utf-8")


def read_ballots_file(data: bytes, name: str) -> Election:
    """A ballots file read back strictly (every ballot within the file's limits); :class:`RecordError` if not."""
    try:
        return pabulib.loads(pabulib.decode(data))
    except pabulib.PabulibError as error:
        raise RecordError(str(error.reason), name, f"line {error.line}" if error.line else None) from None
    except ValueError as error:
        raise RecordError(str(error), name) from None


def money_unit(manifest: Manifest) -> str:
    """What the amounts of a record are counted in: ``CAD cents``."""
    return f"{manifest.cycle['currency']} cents"


def count_document(
    manifest: Manifest, budget: BudgetSpec, election: Election, outcome: Outcome, published: Mapping[str, Any]
) -> dict[str, Any]:
    """One count of ``result.json``: the published outcome, its explanation and its payment certificate."""
    return {
        "district": budget.district,
        "budget_cents": budget.budget_cents,
        "file": budget.file,
        "outcome": dict(published),
        "explanation": explanation(election, outcome, money_unit(manifest)),
        "certificate": certificate_json(outcome.certificate) if outcome.certificate is not None else None,
    }


def _pabulib_date(text: Any) -> str:
    try:
        return datetime.fromisoformat(str(text)).strftime("%d.%m.%Y")
    except ValueError:
        return "None"


def without_names(election: Election) -> Election:
    """The election with its projects' names and extra columns dropped (as the server counted it)."""
    return replace(election, projects=tuple(Project(p.id, p.cost) for p in election.projects), meta=())


# --- Ballots and certificates as JSON --------------------------------------------------------


def ballot_json(ballot: Ballot) -> dict[str, Any]:
    if isinstance(ballot, ApprovalBallot):
        return {"approve": sorted(ballot.projects, key=_id_order)}
    if isinstance(ballot, RankedBallot):
        return {"rank": list(ballot.ranking)}
    return {"points": [[pid, format_amount(points)] for pid, points in ballot.points]}


def _id_order(pid: str) -> tuple[int, str]:
    return (int(pid), pid) if pid.isdigit() else (-1, pid)


def ballot_from_json(data: Any) -> Ballot:
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("a ballot is an object with one key: approve, rank or points")
    [(key, value)] = data.items()
    if not isinstance(value, list):
        raise ValueError("a ballot's projects are a list")
    if key == "approve":
        return ApprovalBallot(frozenset(str(pid) for pid in value))
    if key == "rank":
        return RankedBallot(tuple(str(pid) for pid in value))
    if key == "points":
        return CumulativeBallot(tuple((str(pid), exact(str(points))) for pid, points in value))
    raise ValueError(f"unknown ballot key {key!r}")


def certificate_json(certificate: PaymentCertificate) -> dict[str, Any]:
    return {
        "share": format_amount(certificate.share),
        "groups": [{"ballot": ballot_json(ballot), "voters": n} for ballot, n in certificate.groups],
        "projects": [
            {"project_id": p.project_id, "cost": format_amount(p.cost),
             "payments": [{"group": g.group, "amount": format_amount(g.amount)} for g in p.payments]}
            for p in certificate.projects
        ],
    }


def certificate_from_json(data: Mapping[str, Any]) -> PaymentCertificate:
    """Read :func:`certificate_json` back; ``ValueError`` (or ``KeyError``, ``TypeError``) if malformed."""
    return PaymentCertificate(
        share=exact(str(data["share"])),
        groups=tuple((ballot_from_json(g["ballot"]), _int(g["voters"], "voters")) for g in data["groups"]),
        projects=tuple(
            ProjectPayments(
                str(p["project_id"]), exact(str(p["cost"])),
                tuple(GroupPayment(_int(g["group"], "group"), exact(str(g["amount"]))) for g in p["payments"]),
            )
            for p in data["projects"]
        ),
    )


# --- The log ---------------------------------------------------------------------------------


def log_line(link: Link) -> bytes:
    return canonical_json({"position": link.position, "prev": link.prev_hash, "hash": link.hash,
                           "entry": dict(link.payload)}) + b"\n"


_LOG_LINE = re.compile(
    rb'\{"entry":(\{.*\}),"hash":"([0-9a-f]{64})","position":([1-9][0-9]{0,14}),"prev":"([0-9a-f]{64})"\}', re.S
)


def read_log(data: bytes) -> Iterable[Link]:
    """The log's links in file order (``ref`` names the line); a malformed line raises :class:`RecordError`.

    Each link keeps the entry's bytes as read (``text``), which is what the chain's hashes cover."""
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue
        match = _LOG_LINE.fullmatch(line)
        if match is None:
            raise RecordError("not a log line: {entry, hash, position, prev} in canonical JSON", LOG, f"line {number}")
        text, digest, position, prev = match.groups()
        payload = _json(text, LOG)
        if not isinstance(payload, dict):
            raise RecordError("an entry is not a JSON object", LOG, f"line {number}")
        yield Link(int(position), prev.decode(), payload, digest.decode(), f"line {number}", text)


# --- The result ------------------------------------------------------------------------------


def normalized_outcome(document: Mapping[str, Any]) -> dict[str, Any]:
    """An outcome's JSON without what does not depend on the count: the software version, the
    currency and project names (the server counts without them; the ballots files carry them)."""
    outcome = {key: value for key, value in document.items() if key not in ("pb_version", "currency")}
    if isinstance(outcome.get("rounds"), list):
        outcome["rounds"] = [
            {k: v for k, v in r.items() if k != "name"} if isinstance(r, dict) else r for r in outcome["rounds"]
        ]
    return outcome


def outcome_document(election: Election, outcome: Outcome) -> dict[str, Any]:
    """The outcome's JSON, as the server stores it (:func:`pb.tally.report.outcome_json`)."""
    return outcome_json(election, outcome)


def result_bytes(manifest: Manifest, counts: list[dict[str, Any]]) -> bytes:
    """``result.json``: the published result (as in the manifest) and one document per count."""
    return canonical_json({"result": dict(manifest.result), "counts": counts}) + b"\n"


def read_result(data: bytes) -> dict[str, Any]:
    """``result.json``: ``{"result": {...}, "counts": [{"district", "budget_cents", "file", "outcome",
    "explanation", "certificate"}]}``; a malformed document raises :class:`RecordError`."""
    document = _json(data, RESULT)
    if not isinstance(document, dict) or not isinstance(document.get("counts"), list):
        raise RecordError("no counts", RESULT)
    for count in document["counts"]:
        if not isinstance(count, dict) or not {"district", "budget_cents", "file", "outcome"} <= set(count):
            raise RecordError("a count without district, budget_cents, file or outcome", RESULT)
        if not isinstance(count["outcome"], dict):
            raise RecordError("an outcome is not an object", RESULT, f"budget {count['district'] or CITY}")
    return document

