"""``pb audit`` on a 100,000-ballot election record, against a bare baseline measured in the same run.

    .venv/bin/python benchmarks/audit.py                      # 100,000 ballots, SQLite, greedy
    .venv/bin/python benchmarks/audit.py --rule mes --ballots 20000
    .venv/bin/python benchmarks/audit.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/pb_bench

The ballots are written through the services' tables in bulk as ``benchmarks/cast.py --only-scale``
writes them (counted ballots, participation rows and the hash-chained log), into a knapsack cycle of 45
projects with one city-wide budget (its district projects offered to their districts); voting is then sealed, the result counted
and published through the services, and the record built by ``pb.services.records`` and signed. The
baseline is what any checker must do at least: read the zip, SHA-256 every file, and parse every
ballots file with ``pb.tally.pabulib``. ``pb audit`` is timed in this process (per check) and as a
command in a new process (interpreter start and imports included). Target: under 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--rule", default="greedy", choices=["greedy", "mes"], help="the cycle's counting rule")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--keep", metavar="FILE.zip", help="also copy the record here")
    return parser.parse_args(argv)


def build(app, ballots: int, rule: str, key) -> tuple[bytes, list[tuple[str, float]]]:
    """Seed the vote, seal, count, publish and export it; returns the record and the timings."""
    from benchmarks.cast import bulk_ballots
    from pb.db import utcnow
    from pb.services import records, results
    from tests.factories import create_account, make_voting_cycle

    projects = [(f"Project {n}", (None, 0, 1)[n % 3], 5_000 + 1_000 * (n * 7 % 45)) for n in range(45)]
    timings = []
    with app.app_context(), app.extensions["pb.db"].session_factory() as session:
        staff = create_account(session, "bench-staff@example.org", roles=["staff"])
        started = utcnow().replace(second=0, microsecond=0) - timedelta(days=6)
        extra = {"tally_completion": "add1"} if rule == "mes" else {}
        cycle, _made, _during = make_voting_cycle(
            session, staff, now=started, slug="audit-bench", projects=projects, ballot_type="knapsack",
            tally_rule=rule, **extra,
        )
        began = time.perf_counter()
        bulk_ballots(session, cycle, ballots)
        timings.append((f"seed {ballots:,} ballots in bulk", time.perf_counter() - began))
        after = cycle.voting_end_at + timedelta(hours=1)
        began = time.perf_counter()
        draft = results.draft_result(session, staff, cycle, after)
        results.publish_result(session, staff, draft, after)
        session.commit()
        timings.append(("seal, count and publish (services)", time.perf_counter() - began))
        began = time.perf_counter()
        data = records.build_record(session, cycle, key)
        timings.append(("pb record export (build and sign the zip)", time.perf_counter() - began))
    return data, timings


def baseline(path: Path) -> float:
    """Read the zip, SHA-256 every member, parse every ballots file: the least any checker does."""
    import zipfile

    from pb.tally import pabulib

    began = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            hashlib.sha256(data).hexdigest()
            if name.endswith(".pb"):
                pabulib.loads(pabulib.decode(data))
    return time.perf_counter() - began


def audit_in_process(path: Path) -> tuple[float, list[tuple[str, float]], str]:
    """``pb audit`` in this process, with the time of each check."""
    from pb import audit_command

    spent: list[tuple[str, float]] = []
    original = audit_command.Audit.run

    def timed_run(self):
        for name in [n for n in dir(self) if n.startswith("check_")]:
            method = getattr(self, name)

            def wrapper(method=method, name=name):
                began = time.perf_counter()
                try:
                    return method()
                finally:
                    spent.append((name.removeprefix("check_").replace("_", " "), time.perf_counter() - began))

            setattr(self, name, wrapper)
        return original(self)

    audit_command.Audit.run = timed_run
    out, err = io.StringIO(), io.StringIO()
    try:
        began = time.perf_counter()
        code = audit_command.main([str(path)], out=out, err=err)
        total = time.perf_counter() - began
    finally:
        audit_command.Audit.run = original
    if code != 0:
        raise SystemExit(f"pb audit failed on the benchmark record:\n{out.getvalue()}{err.getvalue()}")
    return total, spent, out.getvalue()


def audit_command_line(path: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pb.cli", "audit", str(path)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"pb audit (command) failed:\n{done.stdout}{done.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    from pb import create_app, record_format, schema
    from pb.db import make_engine

    options = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="pb-bench-audit-") as temporary:
        url = options.database_url or f"sqlite:///{temporary}/bench.sqlite3"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        audit_key = secrets.token_urlsafe(32)
        app = create_app({"ENV": "development", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(32),
                          "AUDIT_KEY": audit_key, "VOTING_KEY": hashlib.sha256(audit_key.encode()).hexdigest()})
        logging.getLogger("pb.audit").setLevel(logging.WARNING)  # not a line per seeded project
        key = record_format.load_private_key(record_format.generate_key()[0])
        print(f"Seeding {options.ballots:,} ballots ({options.rule}) ...", file=sys.stderr, flush=True)
        data, timings = build(app, options.ballots, options.rule, key)
        app.extensions["pb.db"].engine.dispose()
        path = Path(temporary) / "record.zip"
        path.write_bytes(data)
        if options.keep:
            Path(options.keep).write_bytes(data)
        bare = baseline(path)
        inside, checks, output = audit_in_process(path)
        command = audit_command_line(path)
    members = record_format.read_record(data)
    rows = [
        *timings,
        ("bare baseline: unzip, SHA-256 every file, parse the .pb", bare),
        *[(f"  pb audit check: {name}", seconds) for name, seconds in checks],
        ("pb audit, in process", inside),
        ("pb audit, as a command (new process)", command),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"Record: {len(data):,} bytes zipped; "
          + ", ".join(f"{name} {len(body):,} B" for name, body in sorted(members.items()) if len(body) > 10_000))
    print(f"Machine load before the audit: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print()
    print(f"{'step':<{width}}  {'seconds':>8}  {'x baseline':>10}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 10}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:>8.2f}  {seconds / bare:>10.1f}")
    verdict = "under" if command < TARGET_SECONDS else "OVER"
    print()
    print(f"pb audit of {options.ballots:,} ballots: {command:.2f} s as a command, {verdict} the {TARGET_SECONDS:.0f} s target.")
    print("Last line of its output: " + output.strip().splitlines()[-1])
    return 0 if command < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
