"""``pb tally FILE.pb``: count a pabulib file with any rule and explain the result.

Runs with no database and no Flask app: it imports only :mod:`pb.tally` and the standard
library. ``pb.cli`` calls :func:`main` with the arguments after ``tally``; for a standalone
run use ``python -m pb.tally_command FILE.pb ...``.

Exit status: 0 on success, 2 for bad input (a missing or invalid file, an invalid option
or combination, a tie the ``refuse`` tie-break will not settle), with one line on stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from pb.tally import COMPLETIONS, RULES, UTILITIES, BallotKind, Outcome, TieBreak, UnresolvedTie, tally
from pb.tally.election import Amount, Election, exact
from pb.tally.outcome import Phase
from pb.tally.pabulib import PabulibError, decode, parse
from pb.tally.report import (
    compare_with_official,
    currency_of,
    explanation,
    outcome_json,
    pb_version,
    percent,
    plural,
    project_name,
    reason_text,
    rule_from_meta,
    show,
)

PROG = "pb tally"
SPINNER_DELAY = 1.0  # seconds of work before the progress line appears


class UsageError(Exception):
    """A bad command line; reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Count a participatory budgeting election stored as a pabulib file and explain the result.",
        epilog=(
            "Default utility: cost for approval ballots; for ranked and points ballots score-cost with "
            "greedy (fund by total score, the usual city rule) and score with mes. "
            "Exit status 2 means bad input (file, option or an unresolved tie)."
        ),
    )
    parser.add_argument("file", metavar="FILE.pb", help="the election, in pabulib format")
    parser.add_argument(
        "--rule", choices=sorted(RULES), default=None, help="the counting rule (default greedy)"
    )
    parser.add_argument(
        "--rule-from-file",
        action="store_true",
        help="count with the rule the file's META names (greedy, greedy-threshold, greedy-no-skip, "
        "equalshares, equalshares/add1), with its threshold and scoring",
    )
    parser.add_argument("--utility", choices=list(UTILITIES), help="what a voter gains from a funded project")
    parser.add_argument(
        "--scores",
        metavar="borda|3,2,1",
        help="ranked ballots: the points of each rank (default borda: a ranking of k projects scores k-1 ... 0)",
    )
    parser.add_argument(
        "--completion", choices=list(COMPLETIONS), default="none", help="mes: how to spend what is left"
    )
    parser.add_argument(
        "--no-skip",
        dest="skip",
        action="store_false",
        help="greedy: stop at the first project that does not fit instead of skipping it",
    )
    parser.add_argument(
        "--threshold", metavar="N", help="greedy: pass over projects whose total score is below N"
    )
    parser.add_argument(
        "--tie-break",
        choices=["id", "cost", "refuse"],
        default="cost",
        help="how ties are settled: id (smallest id as text), cost (cheapest, then most supporters, then "
        "a lot drawn from --seed; the default) or refuse (report the tie and stop)",
    )
    parser.add_argument("--seed", type=_integer, default=0, help="the seed of the lot for --tie-break cost")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also explain each round in sentences (with --json: an explanation list)",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="skip invalid ballots (and say how many) instead of stopping; counts in the file "
        "(num_votes, num_projects, the votes and score columns) that disagree with it become warnings",
    )
    parser.add_argument(
        "--ignore-limits",
        action="store_true",
        help="count ballots that break the file's META ballot limits (length, cost, points); "
        "malformed ballots are still refused",
    )
    return parser


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


# --- the count ----------------------------------------------------------------------------


def default_utility(rule: str, kind: BallotKind) -> str:
    if kind is BallotKind.APPROVAL or rule == "phragmen":
        return "cost"
    return "score-cost" if rule == "greedy" else "score"


def parse_scores(text: str | None) -> tuple[int, ...] | None:
    if text is None or text.strip().lower() == "borda":
        return None
    try:
        scores = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--scores: expected borda or whole numbers such as 3,2,1, not {text!r}") from None
    if any(score < 0 for score in scores):
        raise UsageError("--scores: scores must not be negative")
    return scores


def parse_threshold(text: str | None) -> Amount:
    if text is None:
        return 0
    try:
        return exact(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--threshold: not a number: {text!r}") from None


class Progress:
    """A spinner with the elapsed time on stderr, shown only on a terminal and after a second of work."""

    def __init__(self, label: str, stream: TextIO | None = None, delay: float = SPINNER_DELAY):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.enabled = _isatty(self.stream)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="pb-tally-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def _run(self) -> None:
        start = time.monotonic()
        if self._stop.wait(self.delay):
            return
        for frame in itertools.cycle("|/-\\"):
            elapsed = time.monotonic() - start
            self.stream.write(f"\r{frame} {self.label} {elapsed:.0f} s")
            self.stream.flush()
            self._shown = True
            if self._stop.wait(0.2):
                return


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- output -------------------------------------------------------------------------------


def table(election: Election, outcome: Outcome) -> str:
    """One row a project, funded ones first; money columns name the file's currency."""
    currency = currency_of(election)
    cost_label = f"cost ({currency})" if currency else "cost"
    total_label = f"total ({currency})" if currency else "total"
    rounds = {r.project_id: r for r in outcome.rounds}
    passed = {p.project_id: p for p in outcome.passed_over}
    others = [p.project_id for p in outcome.passed_over if p.project_id not in rounds]
    others += [p.id for p in election.projects if p.id not in rounds and p.id not in passed]
    with_score = any(r.score != r.supporters for r in outcome.rounds) or any(
        p.score != p.supporters for p in outcome.passed_over
    )
    header = [
        "#",
        "project",
        "name",
        cost_label,
        "supporters",
        *(["score"] if with_score else []),
        "funded",
        total_label,
        "note",
    ]
    rows: list[list[str]] = []
    running: Amount = 0
    for number, project_id in enumerate(outcome.selected, 1):
        r = rounds.get(project_id)
        project = election.project_by_id[project_id]
        running += project.cost
        note = "completion" if r is not None and r.phase is Phase.COMPLETION else ""
        if r is not None and r.tied_with:
            note = ", ".join(filter(None, [note, "tie with " + ", ".join(r.tied_with)]))
        rows.append(
            [
                str(number),
                project_id,
                project_name(election, project_id, 40),
                show(project.cost),
                show(r.supporters) if r else "-",
                *([show(r.score) if r else "-"] if with_score else []),
                "yes",
                show(running),
                note,
            ]
        )
    for number, project_id in enumerate(others, len(outcome.selected) + 1):
        p = passed.get(project_id)
        project = election.project_by_id[project_id]
        rows.append(
            [
                str(number),
                project_id,
                project_name(election, project_id, 40),
                show(project.cost),
                show(p.supporters) if p else "-",
                *([show(p.score) if p else "-"] if with_score else []),
                "no",
                "",
                reason_text(p, currency),
            ]
        )
    right = {"#", cost_label, "supporters", "score", total_label}
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if name in right else cell.ljust(width)
            for cell, width, name in zip(row, widths, header, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe_count(outcome: Outcome) -> str:
    title = RULES[outcome.rule].title if outcome.rule in RULES else outcome.rule
    parts = [f"{outcome.utility} utility"]
    if outcome.completion != "none":
        parts.append(f"{outcome.completion} completion")
    parts.append(f"tie-break {outcome.tie_break.describe()}")
    return f"{title} ({', '.join(parts)})"


def summary(outcome: Outcome, election: Election) -> str:
    currency = currency_of(election)
    funded = len(outcome.selected)
    spent = percent(outcome.total_cost, outcome.budget)
    text = (
        f"{describe_count(outcome)}: {funded} of {plural(len(election.projects), 'project')} funded, "
        f"{show(outcome.total_cost)} of {show(outcome.budget, currency)} spent ({spent}), "
        f"{show(outcome.budget - outcome.total_cost, currency)} left; "
        + (
            "exhaustive (nothing else fits)."
            if outcome.exhaustive
            else "not exhaustive (a project would still fit)."
        )
    )
    return text


# --- main ---------------------------------------------------------------------------------


def count_arguments(args: argparse.Namespace, election: Election) -> dict[str, Any]:
    """The :func:`tally` arguments: the file's META rule with ``--rule-from-file``, else the options."""
    if args.rule_from_file:
        if args.rule is not None:
            raise UsageError("--rule-from-file and --rule exclude each other")
        try:
            return rule_from_meta(election)
        except ValueError as error:
            raise PabulibError(str(error)) from None
    rule = args.rule or "greedy"
    return {
        "rule": rule,
        "utility": args.utility or default_utility(rule, election.kind),
        "completion": args.completion,
        "skip": args.skip,
        "threshold": parse_threshold(args.threshold),
        "scores": parse_scores(args.scores),
    }


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    parse_scores(args.scores)
    parse_threshold(args.threshold)
    tie_break = TieBreak.parse(args.tie_break, args.seed)
    with Progress(f"counting {args.file}", err):
        with open(args.file, "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        result = parse(decode(data), lenient=args.lenient, check_limits=not args.ignore_limits)
        del data
        election = result.election
        official_selection_error = None
        kwargs = count_arguments(args, election)
        outcome = tally(election, tie_break=tie_break, **kwargs)
        try:
            official = compare_with_official(election, outcome)
        except ValueError as error:  # a selected column that is not 0 or 1
            if not args.lenient:
                raise PabulibError(f"PROJECTS: {error}") from None
            official, official_selection_error = None, str(error)
    where = f"{PROG}: {args.file}:"
    for warning in result.warnings:
        err.write(_one_line(f"{where} warning: {warning}") + "\n")
    if official_selection_error is not None:
        err.write(_one_line(f"{where} warning: no official comparison: {official_selection_error}") + "\n")
    if args.json:
        document = {
            "file": args.file,
            "sha256": digest,
            **outcome_json(election, outcome, scores=kwargs.get("scores"), official=official),
            "skipped_ballots": result.skipped_count,
            "warnings": [str(w) for w in result.warnings],
            "rule_from_file": election.meta_value("rule") if args.rule_from_file else None,
        }
        if args.explain:
            document["explanation"] = explanation(election, outcome, currency_of(election))
        json.dump(document, out, ensure_ascii=False)
        out.write("\n")
        return 0
    out.write(table(election, outcome) + "\n\n")
    out.write(f"File SHA-256 {digest}, pb {pb_version()}.\n")
    if args.rule_from_file:
        out.write(f"Rule from the file's META: {election.meta_value('rule')}.\n")
    out.write(summary(outcome, election) + "\n")
    if official is not None:
        out.write("\n".join(official.sentences(election, currency_of(election))) + "\n")
    if result.skipped_count:
        skipped = plural(result.skipped_count, "invalid ballot")
        out.write(f"{skipped} skipped (--lenient); {len(election.votes):,} counted.\n")
    if args.explain:
        out.write("\n" + "\n".join(explanation(election, outcome, currency_of(election))) + "\n")
    return 0


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pb tally`` with ``argv`` (default: the process arguments); returns the exit status."""
    out, err = sys.stdout, sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        err.write(f"{PROG}: {_one_line(error)} (see {PROG} --help)\n")
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    where = f"{PROG}: {args.file}:"
    try:
        return run(args, out, err)
    except UsageError as error:
        message = f"{PROG}: {error}"
    except PabulibError as error:
        message = f"{where} {error}"
    except OSError as error:
        message = f"{where} {error.strerror or error}"
    except UnresolvedTie as error:
        message = (
            f"{where} unresolved tie between {', '.join(error.project_ids)} (--tie-break refuse); "
            "settle it outside the count or choose another tie-break"
        )
    except ValueError as error:
        message = f"{where} {error}"
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
    err.write(_one_line(message) + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
