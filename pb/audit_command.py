"""``pb audit FILE.zip [--pubkey FILE] [--cross-check]``: check an election record offline.

Runs with no database, no configuration and no Flask app: the standard library, :mod:`pb.tally`,
:mod:`pb.hashchain`, :mod:`pb.ballot`, :mod:`pb.record_format` and the ``cryptography`` package.
It prints one line per check (``ok``, ``FAIL`` or ``skip``), then ``VERIFIED`` when every check
passed. The checks, in order:

``signature``       SHA256SUMS is signed by the city's key (``--pubkey``; else the key in the record,
                    whose fingerprint must then be compared with the one the city published);
``hashes``          every file of the record is listed in SHA256SUMS with its SHA-256, and no other;
``manifest``        manifest.json is complete and consistent;
``log``             the ballot log is one unbroken hash chain, in order, ending at the manifest's
                    head, with a single close entry at its end, and voids that name counted ballots;
``valid ballots``   every counted ballot of the log is valid for the manifest (type, projects of its
                    budget, ballot limits);
``ballot files``    each ballots file reads strictly and has the manifest's budget, projects, costs
                    and limits;
``counted ballots`` the log's counted ballots (the last of each slot, voided ones left out) are, as
                    multisets, the ballots of the ballots files, and their number the close entry's;
``certificate``     the Method of Equal Shares payment certificates hold (pb.tally.certificate);
``tally``           counting the ballots files again with the manifest's rule gives result.json;
``cross-check``     (with ``--cross-check``) pabutools, when installed, funds the same projects.

Exit status: 0 verified; 1 a check failed (the line names the check, the file and the entry);
2 unreadable input (not a record zip, a missing member, an unreadable key file).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import pb.record_format as rf
from pb.ballot import BallotType, Choices
from pb.ballot_tally import ballot_kind, tally_ballot, tally_limits, tally_rule
from pb.hashchain import verify
from pb.tally import Ballot, BallotKind, BallotLimits, Election, Outcome, UnresolvedTie
from pb.tally._gc import paused_gc
from pb.tally.certificate import verify_certificate
from pb.tally.report import explanation
from pb.tally_command import UsageError, _isatty, _Parser

PROG = "pb audit"
PROGRESS_MIN_ENTRIES = 20_000  # a progress bar for logs at least this long, on a terminal
PROGRESS_EVERY = 4096  # entries between two updates


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check a participatory budgeting election record offline: its signature, its files, "
        "the ballot log, the ballots and the count.",
        epilog="Exit status: 0 verified, 1 a check failed, 2 unreadable input.",
    )
    parser.add_argument("record", metavar="FILE.zip", help="the election record (pb record export)")
    parser.add_argument(
        "--pubkey",
        metavar="FILE",
        help="the city's public key (PEM); without it the key inside the record is used, which proves "
        "nothing until its fingerprint is compared with the one the city published",
    )
    parser.add_argument(
        "--cross-check", action="store_true", help="also count with pabutools, when installed, where it has the rule"
    )
    return parser


class CheckFailed(Exception):
    """A check found a problem: ``file`` and ``entry`` say where."""

    def __init__(self, message: str, file: str | None = None, entry: str | None = None) -> None:
        super().__init__(message)
        self.file, self.entry = file, entry

    @classmethod
    def of(cls, error: rf.RecordError) -> CheckFailed:
        return cls(str(error.args[0]), error.file, error.entry)


class Skipped(Exception):
    """A check that cannot run (an earlier one failed, or it does not apply)."""


class Progress:
    """A bar on stderr while the log is read, only when stderr is a terminal."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total = stream, total
        self.enabled = total >= PROGRESS_MIN_ENTRIES and _isatty(stream)
        self._last = 0.0

    def update(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        width = 30
        filled = width * done // max(self.total, 1)
        self.stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,}")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@dataclass
class Slot:
    ballot: str
    district: str | None
    choices: Any  # the log's choices object (its JSON text is checked by "valid ballots")
    where: str


@dataclass
class Audit:
    files: dict[str, bytes]
    public_key: bytes | None
    cross_check: bool
    out: TextIO
    err: TextIO
    failed: list[str] = field(default_factory=list)
    manifest: rf.Manifest | None = None
    counted: dict[str, Slot] | None = None  # slot -> the ballot that counts
    close_counted: int | None = None
    elections: dict[str | None, Election] | None = None
    recounts: dict[str | None, Outcome] | None = None
    result: dict[str, Any] | None = None
    _tallied: dict | None = None

    # --- running -------------------------------------------------------------------------------

    def run(self) -> bool:
        checks: list[tuple[str, Callable[[], str]]] = [
            ("signature", self.check_signature),
            ("hashes", self.check_hashes),
            ("manifest", self.check_manifest),
            ("log", self.check_log),
            ("valid ballots", self.check_valid_ballots),
            ("ballot files", self.check_ballot_files),
            ("counted ballots", self.check_counted_ballots),
            ("tally", self.check_tally),
            ("certificate", self.check_certificate),
        ]
        if self.cross_check:
            checks.append(("cross-check", self.check_with_pabutools))
        with paused_gc():  # a large record is many small objects and no cycles: see pb.tally._gc
            self._run(checks)
        if self.failed:
            self.out.write(f"NOT VERIFIED: {len(self.failed)} check(s) failed: {', '.join(self.failed)}\n")
            return False
        self.out.write("VERIFIED\n")
        return True

    def _run(self, checks: list[tuple[str, Callable[[], str]]]) -> None:
        for name, check in checks:
            try:
                detail = check()
            except Skipped as skip:
                self._line("skip", name, str(skip))
            except CheckFailed as failure:
                where = ", ".join(filter(None, [failure.file, failure.entry]))
                self._line("FAIL", name, f"{where}: {failure}" if where else str(failure))
                self.failed.append(name)
            else:
                self._line("ok", name, detail)

    def _line(self, status: str, name: str, detail: str) -> None:
        self.out.write(f"{status:<5} {name}: {' '.join(detail.split())}\n")
        self.out.flush()

    def _need(self, *what: str) -> None:
        missing = [name for name in what if getattr(self, name) is None]
        if missing:
            raise Skipped(f"needs the {', '.join(missing)} that an earlier check could not read")

    # --- signature and hashes ------------------------------------------------------------------

    def check_signature(self) -> str:
        inside = self.public_key is None
        pem = self.files.get(rf.PUBLIC_KEY) if inside else self.public_key
        if pem is None:
            raise CheckFailed("the record has no public key; give the city's with --pubkey", rf.PUBLIC_KEY)
        try:
            key = rf.load_public_key(pem)
        except rf.RecordError as error:
            raise CheckFailed(str(error), rf.PUBLIC_KEY if inside else "--pubkey") from None
        if not rf.signature_valid(key, self.files[rf.SIGNATURE], self.files[rf.SUMS]):
            raise CheckFailed(
                f"not signed by the key with fingerprint {rf.fingerprint(key)}", rf.SIGNATURE
            )
        if inside:
            self.err.write(
                f"{PROG}: warning: checked with the key inside the record; compare its fingerprint "
                f"{rf.fingerprint(key)} with the one the city published, or use --pubkey\n"
            )
            return f"{rf.SUMS} is signed by the key in the record, fingerprint {rf.fingerprint(key)} (compare it " \
                "with the one the city published)"
        return f"{rf.SUMS} is signed by the given key, fingerprint {rf.fingerprint(key)}"

    def check_hashes(self) -> str:
        try:
            sums = rf.read_sha256sums(self.files[rf.SUMS])
        except rf.RecordError as error:
            raise CheckFailed.of(error) from None
        present = set(self.files) - {rf.SUMS, rf.SIGNATURE}
        for name in sorted(present - set(sums)):
            raise CheckFailed("not listed in SHA256SUMS", name)
        for name in sorted(set(sums) - present):
            raise CheckFailed("listed in SHA256SUMS but not in the record", name)
        for name in sorted(sums):
            if not hmac.compare_digest(hashlib.sha256(self.files[name]).hexdigest(), sums[name]):
                raise CheckFailed("its SHA-256 is not the one in SHA256SUMS", name)
        return f"{len(sums)} files match SHA256SUMS"

    # --- manifest and log ----------------------------------------------------------------------

    def check_manifest(self) -> str:
        try:
            manifest = rf.Manifest.from_bytes(self.files[rf.MANIFEST])
        except rf.RecordError as error:
            raise CheckFailed.of(error) from None
        for budget in manifest.budgets:
            if budget.file not in self.files:
                raise CheckFailed("the record has no such ballots file", budget.file)
        self.manifest = manifest
        cycle = manifest.cycle
        return (
            f"cycle {cycle['slug']}, {len(manifest.projects)} projects, {len(manifest.budgets)} budget(s), "
            f"rule {manifest.config.tally_rule} ({manifest.config.tally_utility} utility, completion "
            f"{manifest.config.tally_completion}, tie-break {manifest.config.tie_break} seed "
            f"{manifest.config.tie_break_seed}), {manifest.counted:,} ballots counted"
        )

    def check_log(self) -> str:
        self._need("manifest")
        manifest = self.manifest
        data = self.files[rf.LOG]
        progress = Progress(self.err, data.count(b"\n"))
        slots: dict[str, Slot] = {}
        ballot_slot: dict[str, str | None] = {}  # every ballot id cast, with its slot while it counts
        closed: list[int] = []  # the close entry's counted number

        def entries() -> Iterable:
            for number, link in enumerate(rf.read_log(data), 1):
                if number % PROGRESS_EVERY == 0:
                    progress.update(number, "log")
                if closed:
                    raise CheckFailed("an entry after the close entry", rf.LOG, str(link.ref))
                self._apply(link, slots, ballot_slot, closed)
                yield link

        try:
            verification = verify(rf.BALLOT_LOG_KEY, entries(), expect=[manifest.log_head])
        except rf.RecordError as error:
            raise CheckFailed.of(error) from None
        finally:
            progress.clear()
        problem = verification.problem
        if problem is not None:
            what = {
                "order": "position out of order (an entry missing, repeated or moved)",
                "link": "does not name the hash of the entry before it",
                "content": "its hash is not the hash of its content (changed)",
                "missing": f"the log ends before the manifest's head {manifest.log_head}",
                "head": f"the chain does not pass through the manifest's head {manifest.log_head}",
            }[problem.kind]
            raise CheckFailed(what, rf.LOG, str(problem.ref or f"position {problem.position}"))
        if verification.head != manifest.log_head:
            raise CheckFailed(
                f"the log goes on after the manifest's head {manifest.log_head} (to {verification.head})", rf.LOG
            )
        if not closed:
            raise CheckFailed("the log has no close entry: voting was not sealed", rf.LOG)
        if closed[0] != len(slots):
            raise CheckFailed(
                f"the close entry says {closed[0]:,} ballots count, the log gives {len(slots):,}", rf.LOG, "close entry"
            )
        self.counted, self.close_counted = slots, closed[0]
        head = verification.head
        return f"{head.count:,} entries chained to the manifest's head {head.count}:{head.hash[:16]}…, sealed; " \
            f"{len(slots):,} ballots count"

    def _apply(self, link, slots: dict[str, Slot], ballot_slot: dict[str, str | None], closed: list[int]) -> None:
        entry, where = link.payload, f"{link.ref} (position {link.position})"
        kind = entry.get("kind")
        if kind == "cast":
            if set(entry) != {"kind", "ballot", "slot", "district", "channel", "choices"} or not isinstance(
                entry["ballot"], str
            ) or not isinstance(entry["slot"], str):
                raise CheckFailed("a cast entry has the keys kind, ballot, slot, district, channel, choices",
                                  rf.LOG, where)
            if entry["ballot"] in ballot_slot:
                raise CheckFailed(f"ballot {entry['ballot']} is cast twice", rf.LOG, where)
            previous = slots.get(entry["slot"])
            if previous is not None:
                ballot_slot[previous.ballot] = None  # replaced: the last ballot of a slot counts
            slots[entry["slot"]] = Slot(entry["ballot"], entry["district"], entry["choices"], where)
            ballot_slot[entry["ballot"]] = entry["slot"]
        elif kind == "void":
            slot = ballot_slot.get(entry.get("ballot"))
            if slot is None:
                raise CheckFailed("a void entry names a ballot that does not count", rf.LOG, where)
            del slots[slot]
            ballot_slot[entry["ballot"]] = None
        elif kind == "close":
            if type(entry.get("counted")) is not int:
                raise CheckFailed("a close entry without its number of counted ballots", rf.LOG, where)
            closed.append(entry["counted"])
        else:
            raise CheckFailed(f"unknown entry kind {kind!r}", rf.LOG, where)

    # --- ballots -------------------------------------------------------------------------------

    def _budget_of(self, district: str | None):
        budgets = self.manifest.budgets
        if len(budgets) == 1 and budgets[0].district is None:
            return budgets[0]
        return next((b for b in budgets if b.district == district), None)

    def _counted_choices(self) -> dict[str | None, dict[tuple, tuple[int, Slot]]]:
        """Per budget, the log's distinct counted choices: how many ballots make each, and the first one."""
        if self._tallied is not None:
            return self._tallied
        per_budget: dict[str | None, dict[tuple, tuple[int, Slot]]] = {b.district: {} for b in self.manifest.budgets}
        budget_of: dict[str | None, rf.BudgetSpec | None] = {}
        for slot in self.counted.values():
            if slot.district not in budget_of:
                budget_of[slot.district] = self._budget_of(slot.district)
            budget = budget_of[slot.district]
            if budget is None:
                raise CheckFailed(f"a counted ballot of district {slot.district!r}, which has no budget",
                                  rf.LOG, slot.where)
            choices = slot.choices
            try:
                key = (choices["type"], tuple(choices["projects"]), tuple(choices.get("points", ())))
                hash(key)
            except (TypeError, KeyError):
                key = ("?", _choices_text(choices), ())
            group = per_budget[budget.district]
            seen = group.get(key)
            group[key] = (1, slot) if seen is None else (seen[0] + 1, seen[1])
        self._tallied = per_budget
        return per_budget

    def check_valid_ballots(self) -> str:
        self._need("manifest", "counted")
        config = self.manifest.config
        costs = {str(p.id): p.cost_cents for p in self.manifest.projects}
        distinct = 0
        for district, group in self._counted_choices().items():
            budget = self._budget_of(district)
            allowed = frozenset(str(pid) for pid in budget.projects)
            limits = tally_limits(config, budget.budget_cents)
            for _n, slot in group.values():
                distinct += 1
                problem = _ballot_problem(config, allowed, limits, costs, slot.choices)
                if problem is not None:
                    raise CheckFailed(f"ballot {slot.ballot}: {problem}", rf.LOG, slot.where)
        return f"{len(self.counted):,} counted ballots ({distinct:,} distinct) follow the ballot rules"

    def check_ballot_files(self) -> str:
        self._need("manifest")
        manifest = self.manifest
        elections: dict[str | None, Election] = {}
        for budget in manifest.budgets:
            name = budget.file
            try:
                election = rf.read_ballots_file(self.files[name], name)
            except rf.RecordError as error:
                raise CheckFailed.of(error) from None
            if election.budget != budget.budget_cents:
                raise CheckFailed(f"budget {election.budget}, the manifest says {budget.budget_cents}", name, "META")
            wanted = {str(pid): manifest.project_by_id[pid].cost_cents for pid in budget.projects}
            found = {p.id: p.cost for p in election.projects}
            for pid in sorted(set(wanted) | set(found)):
                if found.get(pid) != wanted.get(pid):
                    raise CheckFailed(
                        f"project {pid} costs {found.get(pid)} here, {wanted.get(pid)} in the manifest", name,
                        f"project {pid}",
                    )
            if election.kind is not ballot_kind(manifest.config.ballot_type):
                raise CheckFailed(f"{election.kind} ballots, the manifest's are {manifest.config.ballot_type}", name)
            if election.limits != tally_limits(manifest.config, budget.budget_cents):
                raise CheckFailed("the ballot limits in META are not the manifest's", name, "META")
            elections[budget.district] = election
        self.elections = elections
        return f"{len(elections)} ballots file(s) read: {sum(len(e.votes) for e in elections.values()):,} ballots"

    def check_counted_ballots(self) -> str:
        self._need("manifest", "counted", "elections")
        if self.close_counted != self.manifest.counted:
            raise CheckFailed(f"the manifest says {self.manifest.counted:,} ballots count, the log "
                              f"{self.close_counted:,}", rf.MANIFEST, "counted")
        for district, group in self._counted_choices().items():
            budget = self._budget_of(district)
            from_log: Counter = Counter()
            for n, slot in group.values():
                try:
                    from_log[tally_ballot(_choices(slot.choices))] += n
                except ValueError as error:
                    raise CheckFailed(f"unreadable choices: {error}", rf.LOG, slot.where) from None
            in_file = Counter(vote.ballot for vote in self.elections[district].votes)
            if from_log != in_file:
                extra, missing = in_file - from_log, from_log - in_file
                if extra:
                    ballot, n = next(iter(extra.items()))
                    raise CheckFailed(
                        f"{n} ballot(s) {_shown(ballot)} more than the log counts", budget.file,
                        f"voter {_voter_of(self.elections[district], ballot)}",
                    )
                ballot, n = next(iter(missing.items()))
                raise CheckFailed(f"{n} counted ballot(s) {_shown(ballot)} of the log missing", budget.file)
        return f"the log's {len(self.counted):,} counted ballots are the ballots files' (last ballot of each " \
            "slot, voided ones left out)"

    # --- the count -----------------------------------------------------------------------------

    def check_tally(self) -> str:
        self._need("manifest", "elections")
        try:
            result = rf.read_result(self.files[rf.RESULT])
        except rf.RecordError as error:
            raise CheckFailed.of(error) from None
        manifest = self.manifest
        if result.get("result") != dict(manifest.result):
            raise CheckFailed("the published result is not the manifest's", rf.RESULT, "result")
        counts = result["counts"]
        if [(c["district"], c["budget_cents"], c["file"]) for c in counts] != [
            (b.district, b.budget_cents, b.file) for b in manifest.budgets
        ]:
            raise CheckFailed("the counts are not the manifest's budgets", rf.RESULT)
        rule = tally_rule(manifest.config)
        recounts: dict[str | None, Outcome] = {}
        funded = []
        for budget, count in zip(manifest.budgets, counts, strict=True):
            where = f"budget {budget.district or rf.CITY}"
            election = self.elections[budget.district]
            try:
                outcome = rule.count(election)
            except (ValueError, UnresolvedTie) as error:
                raise CheckFailed(f"the count fails: {error}", budget.file) from None
            recounts[budget.district] = outcome
            mine = rf.normalized_outcome(rf.outcome_document(election, outcome))
            published = rf.normalized_outcome(count["outcome"])
            for key in sorted(set(mine) | set(published)):
                if mine.get(key) != published.get(key):
                    raise CheckFailed(
                        f"{key}: published {_short(published.get(key))}, the count gives {_short(mine.get(key))}",
                        rf.RESULT, where,
                    )
            if count.get("explanation") != explanation(election, outcome, rf.money_unit(manifest)):
                raise CheckFailed("the explanation is not the count's", rf.RESULT, where)
            funded.append(f"{where}: {len(outcome.selected)} funded")
        self.result, self.recounts = result, recounts
        return f"{rule.rule} counted again from the ballots files gives result.json ({'; '.join(funded)})"

    def check_certificate(self) -> str:
        self._need("recounts", "result")
        if self.manifest.config.tally_rule != "mes":
            for count in self.result["counts"]:
                if count.get("certificate") is not None:
                    raise CheckFailed("a payment certificate for a rule other than equal shares", rf.RESULT)
            raise Skipped("no Method of Equal Shares count: no payment certificate")
        for budget, count in zip(self.manifest.budgets, self.result["counts"], strict=True):
            where = f"budget {budget.district or rf.CITY}"
            try:
                certificate = rf.certificate_from_json(count["certificate"])
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
                raise CheckFailed(f"unreadable payment certificate ({error})", rf.RESULT, where) from None
            outcome = replace(self.recounts[budget.district], certificate=certificate)
            problems = verify_certificate(self.elections[budget.district], outcome)
            if problems:
                raise CheckFailed(f"payment certificate: {problems[0]}", rf.RESULT, where)
        return "every project funded by equal shares is paid in full by its supporters, none over their share"

    def check_with_pabutools(self) -> str:
        self._need("recounts")
        try:
            import pabutools  # noqa: F401
        except ImportError:
            raise Skipped("pabutools is not installed (pip install pabutools)") from None
        config = self.manifest.config
        key = (config.tally_rule, config.tally_utility, config.tally_completion)
        if key not in PABUTOOLS_RULES or ballot_kind(config.ballot_type) is not BallotKind.APPROVAL:
            raise Skipped(f"pabutools has no rule matching {'/'.join(key)} on {config.ballot_type} ballots")
        for budget in self.manifest.budgets:
            theirs = _pabutools_selection(self.files[budget.file], key)
            ours = set(self.recounts[budget.district].selected)
            if theirs != ours:
                raise CheckFailed(
                    f"pabutools funds {sorted(theirs, key=_id_key)}, the count {sorted(ours, key=_id_key)} "
                    "(a tie broken otherwise shows here too)", budget.file,
                )
        return f"pabutools funds the same projects ({'/'.join(key)})"


# --- helpers ---------------------------------------------------------------------------------


def _choices_text(choices: Any) -> str:
    return json.dumps(choices, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _choices(data: Any) -> Choices:
    """The log's choices object as :class:`Choices` (which checks its form); ``ValueError`` if it is not one."""
    if not isinstance(data, dict):
        raise ValueError("choices: not a JSON object")
    cumulative = data.get("type") == BallotType.CUMULATIVE.value
    if set(data) != ({"type", "projects", "points"} if cumulative else {"type", "projects"}):
        raise ValueError("choices: the keys are type and projects (and points on a cumulative ballot)")
    if not isinstance(data["projects"], list) or not isinstance(data.get("points", []), list):
        raise ValueError("choices: projects and points are lists")
    return Choices(data["type"], tuple(data["projects"]), tuple(data.get("points", ())))


def _ballot_problem(
    config, allowed: frozenset[str], limits: BallotLimits, costs: dict[str, int], data: Any
) -> str | None:
    """Why the log's choices ``data`` are not a valid ballot of a budget (its projects ``allowed``, its
    ballot ``limits``) under ``config``, or None."""
    try:
        choices = _choices(data)
    except ValueError as error:
        return str(error)
    if choices.ballot_type is not BallotType(config.ballot_type):
        return f"a {choices.ballot_type.value} ballot, the cycle's are {config.ballot_type}"
    ids = [str(pid) for pid in choices.projects]
    if not allowed.issuperset(ids):
        return f"project {sorted(set(ids) - allowed)[0]} is not on this budget's ballot"
    return _limit_problem(limits, ids, list(choices.points), costs)


def _limit_problem(limits: BallotLimits, ids: list[str], points: list[int], costs: dict[str, int]) -> str | None:
    n = len(ids)
    if limits.min_length is not None and n < limits.min_length:
        return f"{n} projects, fewer than {limits.min_length}"
    if limits.max_length is not None and n > limits.max_length:
        return f"{n} projects, more than {limits.max_length}"
    total = sum(costs[pid] for pid in ids)
    if limits.min_sum_cost is not None and total < limits.min_sum_cost:
        return f"total cost {total}, below {limits.min_sum_cost}"
    if limits.max_sum_cost is not None and total > limits.max_sum_cost:
        return f"total cost {total}, above {limits.max_sum_cost}"
    if limits.max_points is not None and any(p > limits.max_points for p in points):
        return f"more than {limits.max_points} points on one project"
    if limits.max_sum_points is not None and sum(points) > limits.max_sum_points:
        return f"{sum(points)} points, more than {limits.max_sum_points}"
    return None


def _shown(ballot: Ballot) -> str:
    return json.dumps(rf.ballot_json(ballot), separators=(",", ":"))


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= 120 else text[:119] + "…"


def _voter_of(election: Election, ballot: Ballot) -> str:
    return next((vote.voter_id for vote in election.votes if vote.ballot == ballot), "?")


def _id_key(pid: str) -> tuple[int, str]:
    return (int(pid), pid) if pid.isdigit() else (-1, pid)


# (rule, utility, completion) -> how pabutools counts it
PABUTOOLS_RULES = {("greedy", "cost", "none"), ("mes", "cost", "none"), ("mes", "cost", "add1")}


def _pabutools_selection(data: bytes, key: tuple[str, str, str]) -> set[str]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

    with tempfile.NamedTemporaryFile("wb", suffix=".pb", delete=False) as handle:
        handle.write(data)
    try:
        instance, profile = parse_pabulib(handle.name)
    finally:
        os.unlink(handle.name)
    rule, _utility, completion = key
    if rule == "greedy":
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        chosen = method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, voter_budget_increment=1 if completion == "add1" else None
        )
    return {str(project.name) for project in chosen}


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``pb audit`` with ``argv`` (default: the process arguments); returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        err.write(f"{PROG}: {error} (see {PROG} --help)\n")
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    try:
        public_key = None
        if args.pubkey is not None:
            with open(args.pubkey, "rb") as handle:
                public_key = handle.read()
        with open(args.record, "rb") as handle:
            files = rf.read_record(handle)
    except OSError as error:
        err.write(f"{PROG}: {error.filename or args.record}: {error.strerror or error}\n")
        return 2
    except rf.RecordError as error:
        err.write(f"{PROG}: {args.record}: {error}\n")
        return 2
    out.write(f"Auditing {args.record} (SHA-256 {rf.file_sha256(args.record)})\n")
    try:
        verified = Audit(files, public_key, args.cross_check, out, err).run()
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
