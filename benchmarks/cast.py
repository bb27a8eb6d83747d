"""Ballots cast per second through the whole flow, as a share of a bare Flask INSERT: ``benchmarks/cast.py``.

Seeds a fresh PostgreSQL database with a cycle in voting (a knapsack ballot) and voter codes, serves pb as
production does (gunicorn sync workers, ``PB_ENV=production``, Redis for the rate limits) and
``benchmarks/insert.py`` (one INSERT and its commit) the same way, then runs simulated voters, each in a
thread of its own keeping its cookies: insert, flow, insert, ..., insert. Each voter of the flow:

    GET the start page (CSRF token) -> POST the code, answered with the ballot (CSRF token, nonce)
    -> POST review -> POST cast, answered with the confirmation and the receipt

Then the Montréal-scale check: 100,000 ballots written in bulk into a second cycle (the rows and the
hash-chained log exactly as ``voting.cast_ballot`` writes them, computed here in one process, since casting
them through HTTP on a 2-core machine would take long), the log verified and the cycle counted through
``pb.services.results.tally_cycle``, each timed.

    .venv/bin/python benchmarks/cast.py                        # 20 s a run, 50 voters
    .venv/bin/python benchmarks/cast.py --duration 10 --ballots 20000

Needs PostgreSQL (``--postgres``, a login that may create databases) and Redis (``--redis``). The servers
stop and the database is dropped however the run ends. ``Browser`` and the flow's steps are also what
``tests/web/test_cast_under_gunicorn.py`` drives.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import re
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

REPOSITORY = Path(__file__).resolve().parent.parent
BENCHMARKS = REPOSITORY / "benchmarks"
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

# --- A browser: cookies kept, forms posted ------------------------------------------------------------

_RECEIPT = re.compile(r"\b[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\b")


@dataclass
class Answer:
    status: int
    location: str
    body: str
    cookies: dict[str, str]  # the browser's cookies once this answer's were taken


def hidden(html: str, name: str) -> str:
    """The value of the hidden input ``name`` of a page's form."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if tag is None:
        raise AssertionError(f"no {name} field on the page")
    return re.search(r'value="([^"]*)"', tag.group(0)).group(1)


@dataclass
class Browser:
    """One visitor on plain HTTP to 127.0.0.1: its cookies, Secure ones included (production marks the
    session cookie Secure; a proxy would carry HTTPS in front of gunicorn)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    requests: int = 0  # made so far

    def request(self, method: str, path: str, form: dict | None = None, cookies: dict | None = None) -> Answer:
        self.requests += 1
        jar = dict(self.cookies if cookies is None else cookies)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if jar:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                if not value or "max-age=0" in header.lower():
                    jar.pop(name.strip(), None)
                else:
                    jar[name.strip()] = value
        finally:
            connection.close()
        if cookies is None:
            self.cookies = jar
        return Answer(response.status, response.headers.get("Location", ""), text, jar)

    def get(self, path: str, cookies: dict | None = None) -> Answer:
        return self.request("GET", path, cookies=cookies)

    def post(self, path: str, form: dict, cookies: dict | None = None) -> Answer:
        return self.request("POST", path, form, cookies=cookies)


def expect(answer: Answer, status: int, step: str) -> Answer:
    if answer.status != status:
        raise AssertionError(f"{step}: {answer.status} instead of {status}: {answer.body[:300]}")
    return answer


def enter_code(browser: Browser, slug: str, code: str) -> Answer:
    """Get the start page, post the code: the answer is the ballot page itself."""
    start = expect(browser.get(f"/cycles/{slug}/vote"), 200, "start page")
    form = {"csrf_token": hidden(start.body, "csrf_token"), "code": code}
    page = expect(browser.post(f"/cycles/{slug}/vote/code", form), 200, "code")
    if 'name="nonce"' not in page.body:
        raise AssertionError(f"code: the answer is not the ballot: {page.body[:300]}")
    return page


def open_ballot(browser: Browser, slug: str, projects: list[int], page: Answer | None = None) -> dict:
    """The ballot page's form, filled in: its CSRF token and nonce, the chosen projects (from ``page``,
    the code's answer, or else a GET of the ballot)."""
    if page is None:
        page = expect(browser.get(f"/cycles/{slug}/ballot"), 200, "ballot page")
    return {
        "csrf_token": hidden(page.body, "csrf_token"),
        "nonce": hidden(page.body, "nonce"),
        "project": [str(project) for project in projects],
    }


def review(browser: Browser, slug: str, form: dict) -> None:
    page = expect(browser.post(f"/cycles/{slug}/ballot", {**form, "action": "review"}), 200, "review")
    if "error-summary" in page.body:
        raise AssertionError("review: the ballot was refused")


def shown_receipt(page: Answer, step: str) -> str:
    """The receipt a confirmation page shows."""
    if "Your ballot was cast and will be counted." not in page.body:
        raise AssertionError(f"{step}: the page does not say the ballot was cast: {page.body[:300]}")
    return _RECEIPT.search(page.body).group(0).replace("-", "")


def cast(browser: Browser, slug: str, form: dict, cookies: dict | None = None) -> Answer:
    """Post the cast: the answer is the confirmation with the receipt."""
    page = expect(browser.post(f"/cycles/{slug}/ballot", {**form, "action": "cast"}, cookies=cookies), 200, "cast")
    shown_receipt(page, "cast")
    return page


def receipt(browser: Browser, slug: str, cookies: dict | None = None) -> str:
    """The receipt the confirmation page shows when opened again (with the cookies of an answer)."""
    page = expect(browser.get(f"/cycles/{slug}/ballot/cast", cookies=cookies), 200, "confirmation")
    return shown_receipt(page, "confirmation")


# --- Seeding ------------------------------------------------------------------------------------------


def seed_voting(session, *, slug: str, codes: int, projects=None, now=None):
    """A knapsack cycle in voting at the real clock (started a day ago) and ``codes`` voter codes of its
    first district, through the services; returns (cycle, projects, codes in clear)."""
    from pb.db import utcnow
    from pb.models import User
    from pb.services import eligibility
    from tests.factories import VOTING_PROJECTS, create_account, make_voting_cycle

    staff = session.query(User).filter_by(email="bench-staff@example.org").one_or_none()
    if staff is None:
        staff = create_account(session, "bench-staff@example.org", roles=["staff"])
    started = (now or utcnow()) - timedelta(days=6)
    cycle, made, during = make_voting_cycle(
        session, staff, now=started, slug=slug, projects=projects or VOTING_PROJECTS, ballot_type="knapsack"
    )
    clear: list[str] = []
    while len(clear) < codes:
        size = min(codes - len(clear), eligibility.MAX_BATCH_SIZE)
        clear += eligibility.create_code_batch(session, staff, cycle, size, cycle.districts[0].id, "", during).codes
    session.commit()
    return cycle, made, clear


def bulk_ballots(session, cycle, ballots: int, seed: int = 7) -> None:
    """``ballots`` counted ballots with participation rows and their log entries, written as
    ``voting.cast_ballot`` writes them (random knapsack ballots that fit each district's offer)."""
    from pb import hashchain
    from pb.ballot import BallotType, Choices
    from pb.models import Ballot, BallotLogEntry, BallotLogHead, BallotProject, Participation, VotingKey
    from pb.services.voting import BALLOT_LOG_KEY, RECEIPT_LENGTH

    chance = random.Random(seed)
    key = session.get(VotingKey, cycle.id).slot_key
    head = session.get(BallotLogHead, cycle.id)
    position, last = head.count, head.hash
    offered = {}
    for district in cycle.districts:
        offered[district.id] = [
            (p.id, p.cost_cents)
            for p in session.query(BallotProject).filter(BallotProject.cycle_id == cycle.id)
            if p.district_id in (None, district.id)
        ]
    budget = cycle.total_budget_cents
    today = cycle.voting_start_at.date()
    chunk: dict[str, list] = {"participations": [], "ballots": [], "entries": []}

    def flush() -> None:
        if not chunk["ballots"]:
            return
        session.execute(Participation.__table__.insert(), chunk["participations"])
        session.execute(BallotLogEntry.__table__.insert(), chunk["entries"])
        session.execute(Ballot.__table__.insert(), chunk["ballots"])
        for rows in chunk.values():
            rows.clear()

    for number in range(ballots):
        district = cycle.districts[number % len(cycle.districts)]
        options = offered[district.id][:]
        chance.shuffle(options)
        chosen, spent = [], 0
        for pid, cost in options[: chance.randint(1, 6)]:
            if spent + cost <= budget:
                chosen.append(pid)
                spent += cost
        choices = Choices(BallotType.KNAPSACK, tuple(sorted(chosen)), ())
        ref = f"bulk:{number}"
        slot = hmac.new(key, ref.encode(), hashlib.sha256).hexdigest()
        ballot_id = secrets.token_hex(16)
        payload = {
            "kind": "cast", "ballot": ballot_id, "slot": slot, "district": district.slug, "channel": "online",
            "choices": json.loads(choices.to_json()),
        }
        new = hashchain.append(BALLOT_LOG_KEY, hashchain.Head(position, last), payload)
        chunk["entries"].append({
            "cycle_id": cycle.id, "position": new.count, "prev_hash": last, "hash": new.hash,
            "payload": hashchain.canonical_json(payload).decode(),
        })
        chunk["participations"].append({
            "id": secrets.token_hex(16), "cycle_id": cycle.id, "voter": ref, "channel": "online",
            "district_id": district.id, "voted_on": today,
        })
        chunk["ballots"].append({
            "id": ballot_id, "cycle_id": cycle.id, "district_id": district.id, "slot": slot, "channel": "online",
            "choices": choices.to_json(), "status": "counted", "void_reason": "",
            "receipt": new.hash[:RECEIPT_LENGTH], "log_position": new.count,
        })
        position, last = new.count, new.hash
        if len(chunk["ballots"]) == 5000:
            flush()
    flush()
    head.count, head.hash, head.counted = position, last, head.counted + ballots
    session.commit()


# The bare endpoint's table (benchmarks/insert.py), made before its workers start.
INSERT_TABLE = "CREATE TABLE IF NOT EXISTS bench_inserts (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"


# --- Load -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    seconds: float
    done: int = 0
    requests: int = 0  # the HTTP requests of what was done
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # the measured request (the insert, or the cast POST)
    flows: list[float] = field(default_factory=list)  # the whole flow (flow runs only)
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, values: list[float], share: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def load(name: str, users: int, seconds: float, work, ramp: float = 5) -> Run:
    """``users`` threads, each calling ``work()`` over and over for ``ramp`` + ``seconds``; what counts is
    what completed in the last ``seconds`` (the measured request's end), once every user is under way.

    ``work()`` returns (the measured request's latency, the whole flow's or None, when the request ended,
    how many HTTP requests it made).
    """
    run = Run(name, seconds)
    lock = threading.Lock()
    start = time.monotonic() + ramp
    deadline = start + seconds

    def user() -> None:
        while time.monotonic() < deadline:
            try:
                latency, flow, ended, requests = work()
            except Exception as error:  # noqa: BLE001 (counted and shown)
                with lock:
                    run.errors += 1
                    run.first_error = run.first_error or repr(error)[:300]
                continue
            if start <= ended <= deadline:
                with lock:
                    run.done += 1
                    run.requests += requests
                    run.latencies.append(latency)
                    if flow is not None:
                        run.flows.append(flow)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


class Voters:
    """The codes still unused, handed out one per simulated voter."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = list(codes)
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            return self.codes.pop()


def flow_work(port: int, slug: str, projects: list[int], voters: Voters):
    def work():
        browser = Browser(port)
        began = time.perf_counter()
        ballot = enter_code(browser, slug, voters.next())
        form = open_ballot(browser, slug, projects, ballot)
        review(browser, slug, form)
        sent = time.perf_counter()
        cast(browser, slug, form)  # the answer shows the receipt
        ended = time.monotonic()
        latency = time.perf_counter() - sent
        return latency, time.perf_counter() - began, ended, browser.requests

    return work


def insert_work(port: int):
    def work():
        browser = Browser(port)
        began = time.perf_counter()
        expect(browser.post("/", {}), 200, "insert")
        return time.perf_counter() - began, None, time.monotonic(), browser.requests

    return work


def table(inserts: list[Run], flows: list[Run], options) -> str:
    lines = [
        "| run | per second | p50 ms | p99 ms | whole flow p50 ms | whole flow p99 ms | errors | share of insert "
        "| requests each | requests per second | share of insert, request for request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    baseline = statistics.mean(run.rate for run in inserts)
    for run in inserts + flows:
        flow = bool(run.flows)
        whole = f"{run.percentile(run.flows, 0.5):.0f} | {run.percentile(run.flows, 0.99):.0f}" if flow else " | "
        lines.append(
            f"| {run.name} | {run.rate:,.1f} | {run.percentile(run.latencies, 0.5):.0f} | "
            f"{run.percentile(run.latencies, 0.99):.0f} | {whole} | {run.errors} | {run.rate / baseline:.1%} | "
            f"{run.requests / max(run.done, 1):.0f} | {run.request_rate:,.1f} | {run.request_rate / baseline:.1%} |"
        )
    lines.append("")
    lines.append(
        f"{options.voters} simultaneous voters (threads, one connection a request), {options.duration} s measured "
        "a run after 5 s under way; "
        f"gunicorn {options.workers} sync workers each; PostgreSQL; Redis; {os.cpu_count()} CPUs, "
        f"load average before the run {options.load_before}. Flow rows: ballots cast per second and the cast "
        "POST's latency; insert rows: inserts per second and their latency. The last column compares the HTTP "
        "requests each side completes (a ballot is several, an insert one)."
    )
    for run in inserts + flows:
        if run.first_error:
            lines.append(f"First error of {run.name}: {run.first_error}")
    return "\n".join(lines)


# --- The run ---------------------------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds of each run (20)")
    parser.add_argument("--voters", type=int, default=50, help="simultaneous voters (50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server (4)")
    parser.add_argument("--ballots", type=int, default=100_000, help="ballots of the Montréal-scale check (0: skip)")
    parser.add_argument("--postgres", default=os.environ.get(
        "PB_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database", default="pb_bench_cast")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--only-scale", action="store_true", help="only the Montréal-scale check (no servers)")
    return parser.parse_args(argv)


def montreal(app, ballots: int) -> list[str]:
    """Write ``ballots`` ballots into a cycle of many projects, then verify its log and count it, timed."""
    from pb.services import results, voting

    projects = [(f"Project {n}", (None, 0, 1)[n % 3], 5_000 + 1_000 * (n * 7 % 45)) for n in range(45)]
    lines = []
    with app.app_context(), app.extensions["pb.db"].session_factory() as session:
        cycle, _made, _codes = seed_voting(session, slug="montreal", codes=0, projects=projects)
        began = time.perf_counter()
        bulk_ballots(session, cycle, ballots)
        lines.append(f"{ballots:,} ballots written in bulk (rows and log as cast_ballot writes them): "
                     f"{time.perf_counter() - began:.1f} s")
        session.expire_all()
        began = time.perf_counter()
        verification = voting.verify_log(session, cycle)
        lines.append(f"Ballot log of {voting.log_state(session, cycle).head.count:,} entries verified "
                     f"({'intact' if verification.intact else verification.problem}): {time.perf_counter() - began:.2f} s")
        began = time.perf_counter()
        counts = results.tally_cycle(session, cycle)
        seconds = time.perf_counter() - began
        votes = sum(len(count.election.votes) for count in counts)
        selected = sum(len(count.outcome.selected) for count in counts)
        lines.append(f"tally_cycle of {votes:,} counted ballots, {len(projects)} projects, rule "
                     f"{counts[0].outcome.rule}: {seconds:.2f} s ({selected} projects selected; target < 5 s)")
    return lines


def measure(url: str, secret_key: str, audit_key: str, app, options, logs: Path) -> tuple[list[Run], list[Run]]:
    """Serve the bare INSERT and pb, then run insert, flow, insert, flow, insert."""
    from benchmarks import pages

    codes_needed = int(options.voters * (options.duration + 10) * 5) + 2000
    print(f"seeding a cycle in voting and {codes_needed:,} voter codes ...", file=sys.stderr, flush=True)
    with app.app_context(), app.extensions["pb.db"].session_factory() as session:
        cycle, projects, codes = seed_voting(session, slug="bench-vote", codes=codes_needed)
        chosen = [projects[0].id, projects[3].id]  # $60,000 of $100,000, the first district's
    serve = SimpleNamespace(workers=options.workers, redis=options.redis)
    inserts: list[Run] = []
    flows: list[Run] = []
    try:
        baseline = pages.start("insert", "insert:app", "/", BENCHMARKS, {**os.environ, "BENCH_DATABASE_URL": url},
                               serve, logs)
        env = pages.pb_environment(REPOSITORY, url, serve, secret_key, audit_key, logs)
        pb_server = pages.start("pb", "pb:create_app()", "/healthz", REPOSITORY, env, serve, logs)
        works = {
            "insert": ("bare INSERT", insert_work(baseline.port), inserts),
            "flow": ("ballot flow", flow_work(pb_server.port, cycle.slug, chosen, Voters(codes)), flows),
        }
        print("warming up ...", file=sys.stderr, flush=True)
        load("warm-up", options.voters, 2, works["insert"][1], ramp=0)
        load("warm-up", options.voters, 5, works["flow"][1], ramp=0)
        for kind in ("insert", "flow", "insert", "flow", "insert"):
            name, work, runs = works[kind]
            run = load(f"{name} #{len(runs) + 1}", options.voters, options.duration, work)
            runs.append(run)
            print(f"  {run.name}: {run.rate:,.1f}/s, {run.errors} errors", file=sys.stderr, flush=True)
    finally:
        pages.stop_all()
    return inserts, flows


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import text

    from benchmarks import pages
    from pb import create_app, schema
    from pb.db import make_engine

    options = arguments(argv)
    logging.getLogger("pb.audit").setLevel(logging.WARNING)  # not a line per seeded batch and project
    options.load_before = " ".join(f"{load:.1f}" for load in os.getloadavg())
    secret_key, audit_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory(prefix="pb-bench-cast-") as temporary, pages.fresh_database(
        options.postgres, options.database, options.keep_database
    ) as url:
        engine = make_engine(url)
        schema.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text(INSERT_TABLE))
        engine.dispose()
        app = create_app({"ENV": "development", "DATABASE_URL": url, "SECRET_KEY": secret_key,
                          "AUDIT_KEY": audit_key, "VOTING_KEY": pages.voting_key(audit_key)})
        if not options.only_scale:
            inserts, flows = measure(url, secret_key, audit_key, app, options, Path(temporary))
            print(table(inserts, flows, options))
        if options.ballots:
            print("", flush=True)
            print(f"Montréal-scale check ({options.ballots:,} ballots) ...", file=sys.stderr, flush=True)
            for line in montreal(app, options.ballots):
                print(f"- {line}", flush=True)
        app.extensions["pb.db"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
