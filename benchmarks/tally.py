"""Time pb.tally on the shared pabulib elections and compare with the pabutools reference.

    .venv/bin/python benchmarks/tally.py [--dir DIR] [--only SUBSTRING] [--rules KEY,KEY] [--pabutools]
                                         [--markdown]

For every ``.pb`` file: the parse time, then for every rule key that
``reference_outcomes.json`` computed for that file our time, the pabutools time recorded
there (``seconds``; 2-core VM), and whether our selection and total cost agree with the
reference (``yes``, ``NO``, or ``n/a`` when the reference timed out). With ``--pabutools``
and pabutools importable, the same call is also timed live on this machine. All counts use
``--tie-break id``, which is pabutools' default tie-breaking. Totals at the bottom.

Not part of the test run; see benchmarks/README.md for the latest table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pb.tally import TieBreak, tally  # noqa: E402
from pb.tally.election import format_amount  # noqa: E402
from pb.tally.pabulib import load  # noqa: E402

DEFAULT_DIR = Path(os.environ.get("PB_PABULIB_DIR") or REPO.parent / "shared" / "pabulib")

# reference key -> (rule, utility, completion)
RULE_KEYS: dict[str, tuple[str, str, str]] = {
    "greedy_cost": ("greedy", "cost", "none"),
    "greedy_card": ("greedy", "cardinality", "none"),
    "greedy_borda": ("greedy", "score", "none"),
    "greedy_points": ("greedy", "score", "none"),
    "greedy_points_score": ("greedy", "score-cost", "none"),
    "mes_cost": ("mes", "cost", "none"),
    "mes_card": ("mes", "cardinality", "none"),
    "mes_borda": ("mes", "score", "none"),
    "mes_points": ("mes", "score", "none"),
    "mes_cost_util": ("mes", "cost", "greedy"),
    "mes_cost_add1": ("mes", "cost", "add1"),
    "mes_cost_add1_util": ("mes", "cost", "add1-greedy"),
    "seq_phragmen": ("phragmen", "cost", "none"),
}

# Files whose published ballots break their own META limits; pabutools counts every ballot.
IGNORE_LIMITS = {"Worldwide_Mechanical_Turk_Utilities_3"}


def _pabutools_runner():
    """A function (file, key) -> seconds timing pabutools live, or None if it is not importable."""
    try:
        from pabutools.election import (  # type: ignore[import-not-found]
            Additive_Borda_Sat,
            Additive_Cardinal_Sat,
            Cardinality_Sat,
            Cost_Sat,
            parse_pabulib,
        )
        from pabutools.rules import (  # type: ignore[import-not-found]
            completion_by_rule_combination,
            greedy_utilitarian_welfare,
            method_of_equal_shares,
            sequential_phragmen,
        )
    except ImportError:
        return None

    calls = {
        "greedy_cost": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Cost_Sat),
        "greedy_card": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Cardinality_Sat),
        "greedy_borda": lambda i, p: greedy_utilitarian_welfare(
            i, p, sat_class=Additive_Borda_Sat, is_sat_additive=True
        ),
        "greedy_points": lambda i, p: greedy_utilitarian_welfare(i, p, sat_class=Additive_Cardinal_Sat),
        "mes_cost": lambda i, p: method_of_equal_shares(i, p, sat_class=Cost_Sat),
        "mes_card": lambda i, p: method_of_equal_shares(i, p, sat_class=Cardinality_Sat),
        "mes_borda": lambda i, p: method_of_equal_shares(i, p, sat_class=Additive_Borda_Sat),
        "mes_points": lambda i, p: method_of_equal_shares(i, p, sat_class=Additive_Cardinal_Sat),
        "mes_cost_util": lambda i, p: completion_by_rule_combination(
            i, p, [method_of_equal_shares, greedy_utilitarian_welfare], [{"sat_class": Cost_Sat}] * 2
        ),
        "mes_cost_add1": lambda i, p: method_of_equal_shares(
            i, p, sat_class=Cost_Sat, voter_budget_increment=1
        ),
        "seq_phragmen": lambda i, p: sequential_phragmen(i, p),
    }
    parsed: dict[Path, tuple] = {}

    def run(path: Path, key: str) -> float | None:
        if key not in calls:
            return None
        if path not in parsed:
            parsed[path] = parse_pabulib(str(path))
        instance, profile = parsed[path]
        start = time.perf_counter()
        calls[key](instance, profile)
        return time.perf_counter() - start

    return run


def ratio(theirs: float | None, ours: float) -> str:
    """How many times faster we are than pabutools."""
    if not theirs or ours <= 0:
        return "-"
    value = theirs / ours
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the folder of .pb files")
    parser.add_argument("--only", default="", help="only files whose name contains this")
    parser.add_argument("--rules", default="", help="only these reference keys (comma-separated)")
    parser.add_argument("--pabutools", action="store_true", help="also time pabutools live, if importable")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--skip-reference-timeouts",
        action="store_true",
        help="leave out the counts pabutools did not finish (Add1 on the two largest files)",
    )
    args = parser.parse_args(argv)

    reference = json.loads((args.dir / "reference_outcomes.json").read_text(encoding="utf-8"))["instances"]
    wanted = {k for k in args.rules.split(",") if k}
    live = _pabutools_runner() if args.pabutools else None
    if args.pabutools and live is None:
        print("pabutools is not importable; live timings skipped", file=sys.stderr)

    header = ["election", "voters", "parse s", "rule", "ours s", "pabutools s", "speed-up", "agrees"]
    if live:
        header.insert(6, "pabutools live s")
    rows: list[list[str]] = []
    totals = {"parse": 0.0, "ours": 0.0, "reference": 0.0, "live": 0.0}
    per_rule: dict[str, list[float]] = {}
    agree = disagree = 0
    disagreements: list[str] = []
    show_progress = sys.stderr.isatty()
    for path in sorted(args.dir.glob("*.pb")):
        stem = path.stem
        if args.only not in stem or stem not in reference:
            continue
        start = time.perf_counter()
        election = load(path, check_limits=stem not in IGNORE_LIMITS)
        parse_time = time.perf_counter() - start
        totals["parse"] += parse_time
        first = True
        for key, ref in reference[stem]["rules"].items():
            if key not in RULE_KEYS or (wanted and key not in wanted):
                continue
            if args.skip_reference_timeouts and ref.get("status") != "ok":
                continue
            rule, utility, completion = RULE_KEYS[key]
            start = time.perf_counter()
            outcome = tally(
                election, rule, utility=utility, completion=completion, tie_break=TieBreak.parse("id")
            )
            ours = time.perf_counter() - start
            totals["ours"] += ours
            ref_time = ref.get("seconds") if ref.get("status") == "ok" else None
            if ref.get("status") == "ok":
                same = sorted(outcome.selected) == sorted(ref["selected"]) and format_amount(
                    outcome.total_cost
                ) == str(ref["total_cost"])
                verdict = "yes" if same else "NO"
                agree += same
                disagree += not same
                if not same:
                    disagreements.append(f"{stem} {key}")
                totals["reference"] += ref_time or 0.0
                stats = per_rule.setdefault(key, [0.0, 0.0, 0, 0])
                stats[0] += ours
                stats[1] += ref_time or 0.0
                stats[2] += 1
                stats[3] += same
            else:
                verdict = f"n/a ({ref.get('status')})"
            speed = ratio(ref_time, ours)
            row = [
                stem if first else "",
                str(len(election.votes)) if first else "",
                seconds(parse_time) if first else "",
                key,
                seconds(ours),
                seconds(ref_time) if ref_time is not None else str(ref.get("status")),
                speed,
                verdict,
            ]
            if live:
                try:
                    live_time = live(path, key)
                except Exception as error:  # a live pabutools failure is reported, not fatal
                    live_time = None
                    print(f"pabutools failed on {stem} {key}: {error}", file=sys.stderr)
                totals["live"] += live_time or 0.0
                row.insert(6, seconds(live_time))
            rows.append(row)
            first = False
            if show_progress:
                sys.stderr.write(f"\r{stem[:40]:40} {key:20}")
                sys.stderr.flush()
    if show_progress:
        sys.stderr.write("\r" + " " * 62 + "\r")

    total = ["TOTAL", "", seconds(totals["parse"]), "", seconds(totals["ours"]), seconds(totals["reference"])]
    total += [ratio(totals["reference"], totals["ours"])]
    total += [f"{agree}/{agree + disagree}"]
    if live:
        total.insert(6, seconds(totals["live"]))
    rule_rows = [
        [
            "",
            "",
            "",
            key,
            seconds(s[0]),
            seconds(s[1]),
            ratio(s[1], s[0]),
            f"{s[3]}/{s[2]}",
        ]
        for key, s in sorted(per_rule.items())
    ]
    if live:
        for row in rule_rows:
            row.insert(6, "")
    print_table(header, rows, rule_rows, total, args.markdown)
    if disagreements:
        print("\nDisagreements: " + "; ".join(disagreements))
    return 0


def print_table(
    header: list[str], rows: list[list[str]], per_rule: list[list[str]], total: list[str], markdown: bool
) -> None:
    every = [header, *rows, *per_rule, total]
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 or i == 3 else "---:" for i in range(len(header))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print("| **per rule** |" + " |" * (len(header) - 1))
        for row in per_rule:
            print("| " + " | ".join(row) + " |")
        print("| " + " | ".join(f"**{c}**" if c else "" for c in total) + " |")
        return
    widths = [max(len(row[i]) for row in every) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, 3) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    print(line(header))
    print(rule)
    for row in rows:
        print(line(row))
    print(rule)
    print("per rule")
    for row in per_rule:
        print(line(row))
    print(rule)
    print(line(total))


if __name__ == "__main__":
    sys.exit(main())
