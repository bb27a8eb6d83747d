"""``pb tally FILE.pb``: count a pabulib file with any rule and explain the result.

Runs with no database and no Flask app: it imports only :mod:`pb.tally` and the standard
library. ``pb.cli`` calls :func:`main` with the arguments after ``tally``; for a standalone
run use ``python -m pb.tally_command FILE.pb ...``.

Exit status: 0 on success, 2 for bad input (a missing or invalid file, an invalid option
or combination, a tie the ``refuse`` tie-break will not settle), with one line on stderr.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NoReturn, TextIO

from pb.tally import COMPLETIONS, RULES, UTILITIES, BallotKind, Outcome, TieBreak, UnresolvedTie, tally
from pb.tally.election import Amount, Election, exact, format_amount
from pb.tally.outcome import PassedOver, PassReason, Phase, Round
from pb.tally.pabulib import PabulibError, read

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
        "--rule", choices=sorted(RULES), default="greedy", help="the counting rule (default greedy)"
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
        "--lenient", action="store_true", help="skip invalid ballots (and say how many) instead of stopping"
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


# --- numbers for people -------------------------------------------------------------------


def show(value: Amount | None) -> str:
    """An amount for a reader: thousands grouped, decimals exact when they end, else rounded to 2 places."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    exact_text = format_amount(value)
    if "/" in exact_text:  # a repeating decimal: round half up to 2 places for display
        hundredths = (abs(value) * 100 + Fraction(1, 2)).__floor__()
        sign = "-" if value < 0 else ""
        return f"≈{sign}{hundredths // 100:,}.{hundredths % 100:02d}"
    whole, _, decimals = exact_text.partition(".")
    return f"{int(whole):,}.{decimals}" if not whole.startswith("-") else f"-{-int(whole):,}.{decimals}"


def percent(part: Amount, whole: Amount) -> str:
    if not whole:
        return "-"
    tenths = (Fraction(part) * 1000 / whole + Fraction(1, 2)).__floor__()
    return f"{tenths // 10}.{tenths % 10}%"


def _exact(value: Amount | None) -> str | None:
    return None if value is None else format_amount(value)


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

REASONS = {
    PassReason.DID_NOT_FIT: "did not fit in what was left",
    PassReason.BELOW_THRESHOLD: "score below the threshold",
    PassReason.NOT_AFFORDABLE: "its supporters could not pay for it",
    PassReason.STOPPED: "counting stopped before its turn",
    PassReason.NO_SUPPORT: "nobody supported it",
}


def _reason(passed: PassedOver | None) -> str:
    if passed is None:
        return "not selected"
    text = REASONS.get(passed.reason, str(passed.reason))
    if passed.reason is PassReason.DID_NOT_FIT and passed.budget_left is not None:
        text += f" ({show(passed.budget_left)} left)"
    return text


def _name(election: Election, project_id: str, width: int | None = None) -> str:
    project = election.project_by_id.get(project_id)
    name = " ".join((project.name if project else "").split())
    if width is not None and len(name) > width:
        name = name[: width - 1] + "…"
    return name


def table(election: Election, outcome: Outcome) -> str:
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
        "cost",
        "supporters",
        *(["score"] if with_score else []),
        "funded",
        "total",
    ]
    header.append("note")
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
                _name(election, project_id, 40),
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
                _name(election, project_id, 40),
                show(project.cost),
                show(p.supporters) if p else "-",
                *([show(p.score) if p else "-"] if with_score else []),
                "no",
                "",
                _reason(p),
            ]
        )
    right = {"#", "cost", "supporters", "score", "total"}
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
    funded = len(outcome.selected)
    text = (
        f"{describe_count(outcome)}: {funded} of {len(election.projects)} projects funded, "
        f"{show(outcome.total_cost)} of {show(outcome.budget)} spent ({percent(outcome.total_cost, outcome.budget)}), "
        f"{show(outcome.budget - outcome.total_cost)} left; "
        + (
            "exhaustive (nothing else fits)."
            if outcome.exhaustive
            else "not exhaustive (a project would still fit)."
        )
    )
    return text


def _round_sentence(election: Election, outcome: Outcome, r: Round, spent: Amount) -> str:
    name = _name(election, r.project_id)
    label = f"{r.project_id} “{name}”" if name else r.project_id
    phase = "In the completion, " if r.phase is Phase.COMPLETION else ""
    score = "" if r.score == r.supporters else f", total score {show(r.score)}"
    text = (
        f"Round {r.number}: {phase}{label} was funded for {show(r.cost)}; "
        f"{show(r.supporters)} voter{'s' if r.supporters != 1 else ''} supported it{score}."
    )
    if r.price_per_voter is not None:
        payers = f"its {show(r.payers)} payers" if r.payers is not None else "its supporters"
        if outcome.utility == "cost":
            most = f"{show(r.price_per_voter * r.cost)} each"
        elif outcome.utility == "cardinality":
            most = f"{show(r.price_per_voter)} each"
        else:
            most = f"{show(r.price_per_voter)} per point of score"
        text += f" Equal shares: {payers} paid at most {most}"
        if r.voter_share is not None:
            text += f", each voter's share being {show(r.voter_share)}"
        text += "."
    if r.load is not None:
        text += f" Phragmén: bought when every voter had earned {show(r.load)}."
    if r.tied_with:
        text += f" It tied with {', '.join(r.tied_with)}; the tie-break ({outcome.tie_break.describe()}) chose it."
    left = outcome.budget - spent
    text += f" Spent so far {show(spent)}, {show(left)} left."
    return text


def explanation(election: Election, outcome: Outcome) -> list[str]:
    lines = []
    if outcome.rule in RULES:
        lines.append(RULES[outcome.rule].description)
    spent: Amount = 0
    for r in outcome.rounds:
        spent += r.cost
        lines.append(_round_sentence(election, outcome, r, spent))
    if not outcome.rounds:
        lines.append("No project was funded.")
    for p in outcome.passed_over:
        name = _name(election, p.project_id)
        label = f"{p.project_id} “{name}”" if name else p.project_id
        lines.append(
            f"{label} ({show(p.cost)}, {show(p.supporters)} supporters) was not funded: {_reason(p)}."
        )
    lines.extend(outcome.notes)
    return lines


def _round_json(election: Election, r: Round) -> dict[str, Any]:
    return {
        "number": r.number,
        "project_id": r.project_id,
        "name": _name(election, r.project_id),
        "phase": str(r.phase),
        "cost": _exact(r.cost),
        "supporters": r.supporters,
        "score": _exact(r.score),
        "price_per_voter": _exact(r.price_per_voter),
        "payers": r.payers,
        "voter_share": _exact(r.voter_share),
        "load": _exact(r.load),
        "tied_with": list(r.tied_with),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Fraction):
        return format_amount(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)


def as_json(
    path: str, election: Election, outcome: Outcome, skipped: int, scores: tuple[int, ...] | None
) -> dict:
    return {
        "file": path,
        "kind": str(election.kind),
        "voters": len(election.votes),
        "projects": len(election.projects),
        "skipped_ballots": skipped,
        "rule": outcome.rule,
        "utility": outcome.utility,
        "completion": outcome.completion,
        "scores": None
        if election.kind is not BallotKind.RANKED
        else "borda"
        if scores is None
        else list(scores),
        "tie_break": {
            "method": str(outcome.tie_break.method),
            "seed": outcome.tie_break.seed,
            "description": outcome.tie_break.describe(),
        },
        "options": {key: _plain(value) for key, value in outcome.options},
        "budget": format_amount(outcome.budget),
        "total_cost": format_amount(outcome.total_cost),
        "left": format_amount(outcome.budget - outcome.total_cost),
        "exhaustive": outcome.exhaustive,
        "selected": list(outcome.selected),
        "rounds": [_round_json(election, r) for r in outcome.rounds],
        "passed_over": [
            {
                "project_id": p.project_id,
                "reason": str(p.reason),
                "cost": _exact(p.cost),
                "supporters": p.supporters,
                "score": _exact(p.score),
                "budget_left": _exact(p.budget_left),
            }
            for p in outcome.passed_over
        ],
        "notes": list(outcome.notes),
    }


# --- main ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    scores = parse_scores(args.scores)
    threshold = parse_threshold(args.threshold)
    tie_break = TieBreak.parse(args.tie_break, args.seed)
    with Progress(f"counting {args.file}", err):
        result = read(args.file, lenient=args.lenient, check_limits=not args.ignore_limits)
        election = result.election
        utility = args.utility or default_utility(args.rule, election.kind)
        outcome = tally(
            election,
            args.rule,
            utility=utility,
            completion=args.completion,
            tie_break=tie_break,
            skip=args.skip,
            threshold=threshold,
            scores=scores,
        )
    if args.json:
        document = as_json(args.file, election, outcome, result.skipped_count, scores)
        if args.explain:
            document["explanation"] = explanation(election, outcome)
        json.dump(document, out, ensure_ascii=False)
        out.write("\n")
        return 0
    out.write(table(election, outcome) + "\n\n")
    out.write(summary(outcome, election) + "\n")
    if result.skipped_count:
        out.write(
            f"{result.skipped_count} invalid ballots skipped (--lenient); {len(election.votes)} counted.\n"
        )
    if args.explain:
        out.write("\n" + "\n".join(explanation(election, outcome)) + "\n")
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
