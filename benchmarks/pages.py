"""Public pages under load, as a share of a bare Flask "hello": ``make bench-pages``.

Seeds two fresh PostgreSQL databases (the Lakeview demo: 2 cycles; the demo plus 48 finished
cycles: 50), serves pb as production does (gunicorn, sync workers, ``PB_ENV=production``, Redis
for the rate limits) and ``benchmarks/hello.py`` the same way, and runs wrk against each page,
interleaved with the baseline: hello, page, hello, page, ..., hello. A page's share is its req/s
over the mean of the two hello runs around it, so the noise of a shared machine mostly cancels.

    .venv/bin/python benchmarks/pages.py                   # every page, 10 s each, 32 connections
    .venv/bin/python benchmarks/pages.py --duration 5 --only home
    .venv/bin/python benchmarks/pages.py --code /tmp/pb-main   # serve another checkout's pb

It needs wrk (``apt-get install wrk``), PostgreSQL (``--postgres``, a login that may create
databases) and Redis (``--redis``). The servers it starts are stopped and the databases dropped
when it ends, however it ends.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BENCHMARKS = REPOSITORY / "benchmarks"
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    cycles: int = 50  # the database that serves it: the demo plus finished cycles, this many in all
    expect: str = ""  # text the page must contain, checked once before measuring
    # pb's app.public_page_max_age_ms for the server of this page (None: pb's default, 1 s)
    max_age_ms: int | None = None

    @property
    def server(self) -> tuple[int, int | None]:
        return (self.cycles, self.max_age_ms)


# The pages measured, in this order. A new page is one line here (and, if it needs rows that do not
# exist yet, one step in ``seed``).
PAGES = (
    Page("home", "/", expect="Lakeview Community Safety Budget 2026"),
    Page("cycle page", "/cycles/lakeview-2026", expect="Harbourfront"),
    Page("sign-in", "/account/sign-in", expect='name="password"'),
    Page("archive, page 1 of 3", "/archive", expect="Page 1 of 3"),
    Page("home, 2 cycles", "/", cycles=2, expect="Lakeview Community Safety Budget 2026"),
    # Lakeview 2026 in the 50-cycle database also holds 5,000 proposals, 100,000 supports, 50,000 comments
    # (with the demo's 25 public ones: its draft is not listed).
    Page("proposal list", "/cycles/lakeview-2026/proposals", expect="5025 proposals"),
    Page("proposal list, most supported", "/cycles/lakeview-2026/proposals?sort=supported", expect="Page 1 of"),
    Page("proposal search", "/cycles/lakeview-2026/proposals?q=securite+ecole", expect="proposals"),
    Page("proposal page", "/cycles/lakeview-2026/proposals/1", expect="History"),
    # The same two for a server that reads the cycle's state on every visitor's request (max age 0):
    # the cost of that one query, measured beside the default of reading it once a second per process.
    Page("proposal list, state read every request", "/cycles/lakeview-2026/proposals", expect="5025 proposals", max_age_ms=0),
    Page("proposal page, state read every request", "/cycles/lakeview-2026/proposals/1", expect="History", max_age_ms=0),
    # Lakeview 2025: the demo's finished cycle, 2,000 simulated ballots counted and published.
    Page("results", "/cycles/lakeview-2025/results", expect="lakeview-2025/ballot-log.jsonl"),
    Page("open data (50 cycles)", "/open-data", expect="lakeview-2025"),
)
PROPOSALS = {"proposals": 5000, "supports": 100_000, "comments": 50_000}

def voting_key(audit_key: str) -> str:
    """The run's voting key: one for the seeding and the servers, so seeded voter codes work."""
    return hashlib.sha256(b"bench voting key " + audit_key.encode()).hexdigest()


def seed(database_url: str, cycles: int, secret_key: str, audit_key: str) -> None:
    """The Lakeview demo, then finished cycles like its 2025 one, four months apart, up to ``cycles``.

    Cities add cycles over the years: beyond the demo's two (one open, one finished) the others are
    finished, in the archive, so the home page shows the same cycles with 2 or 50 and should cost the
    same.
    """
    from pb import create_app, schema
    from pb.db import make_engine, utcnow
    from pb.demo import CATEGORIES, DISTRICTS, load_demo
    from pb.services.cycles import CategoryInput, CycleSettings, DistrictInput, create_cycle, get_cycle

    engine = make_engine(database_url)
    schema.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "AUDIT_KEY": audit_key,
            "VOTING_KEY": voting_key(audit_key),
        }
    )
    logging.getLogger("pb.audit").setLevel(logging.WARNING)  # not a line per seeded cycle
    with app.app_context(), app.extensions["pb.db"].session_factory() as session:
        load_demo(session, secret_key)
        session.commit()
        template = CycleSettings.from_cycle(get_cycle(session, "lakeview-2025"))
        phase_dates = [name for name in vars(template) if name.endswith("_at")]
        now = utcnow()
        for number in range(1, cycles - 1):
            earlier = timedelta(days=120 * number)
            settings = template.with_changes(
                slug=f"archive-{number:02d}",
                name_en=f"Lakeview Budget, round {number}",
                name_fr=f"Budget de Lakeview, tour {number}",
                districts=[DistrictInput(en, fr) for en, fr in DISTRICTS],
                categories=[CategoryInput(en, fr) for en, fr in CATEGORIES],
                **{name: getattr(template, name) - earlier for name in phase_dates},
            )
            create_cycle(session, None, settings, now=now)
        session.commit()
        if cycles > 2:
            from benchmarks.seed_proposals import seed_proposals

            seed_proposals(app.extensions["pb.db"].engine, get_cycle(session, "lakeview-2026").id, **PROPOSALS)
    app.extensions["pb.db"].engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------------


def _admin_execute(postgres: str, statement: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(postgres).set(drivername="postgresql", database="postgres")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def fresh_database(postgres: str, name: str, keep: bool) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    _admin_execute(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(postgres, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            _admin_execute(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


_RUNNING: list[Server] = []


def stop(server: Server) -> None:
    """SIGTERM to the server's process group (gunicorn and its workers), SIGKILL if it lingers."""
    if server.process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    if server in _RUNNING:
        _RUNNING.remove(server)


def stop_all() -> None:
    for server in list(_RUNNING):
        stop(server)


def start(name: str, app: str, ready: str, cwd: Path, env: dict[str, str], options, logs: Path) -> Server:
    """``gunicorn --workers N`` (sync workers) on a free local port, in its own process group;
    returns once ``ready`` answers."""
    port = free_port()
    log = logs / f"{name.replace(' ', '-')}.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--workers", str(options.workers), "--worker-class", "sync"]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log)
    _RUNNING.append(server)
    deadline = time.monotonic() + 180  # a busy shared machine can take minutes to boot 4 workers
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped at start-up:\n{log.read_text()[-3000:]}")
        with suppress(OSError), urllib.request.urlopen(server.url(ready), timeout=5):
            return server
        time.sleep(0.2)
    raise SystemExit(f"{name} did not answer within 3 minutes:\n{log.read_text()[-3000:]}")


def pb_environment(code: Path, database_url: str, options, secret_key: str, audit_key: str, temporary: Path) -> dict:
    """Production settings from the environment alone (an empty configuration file)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PB_")}
    empty_config = temporary / "config.toml"
    empty_config.write_text("")
    env.update(
        PYTHONPATH=str(code),
        PB_CONFIG=str(empty_config),
        PB_ENV="production",
        PB_SECRET_KEY=secret_key,
        PB_AUDIT_KEY=audit_key,
        PB_VOTING_KEY=voting_key(audit_key),
        PB_DATABASE_URL=database_url,
        PB_TRUSTED_HOSTS="127.0.0.1,localhost",
        PB_RATELIMIT_STORAGE_URI=options.redis,
    )
    return env


# --- wrk ------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> Run:
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.MULTILINE)
    if rate is None or set(percentiles) != {"50", "99"}:
        raise SystemExit(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", output)
    if socket_errors:  # read errors are the sync workers closing each connection: not a failure
        errors += sum(int(n) for n in socket_errors.groups())
    return Run(float(rate.group(1)), _milliseconds(percentiles["50"]), _milliseconds(percentiles["99"]), errors)


def wrk(url: str, seconds: int, connections: int, threads: int) -> Run:
    # wrk counts an answer slower than its timeout (2 s by default) as an error; on a machine so busy
    # that answers take that long, the latency columns tell more than an error count.
    command = ["wrk", "--latency", "--timeout", "10s", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def check_page(server: Server, page: Page) -> None:
    try:
        with urllib.request.urlopen(server.url(page.path), timeout=10) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{page.name}: {page.path} answered {error.code}") from error
    if page.expect not in body:
        raise SystemExit(f"{page.name}: {page.path} does not contain {page.expect!r}")


# --- The run --------------------------------------------------------------------------------------


@dataclass
class Result:
    page: Page
    runs: list[Run]
    shares: list[float]

    def median(self, value: Callable[[Run], float]) -> float:
        return statistics.median(value(run) for run in self.runs)


def measure(servers: dict, pages: list[Page], options) -> tuple[list[Run], list[Result]]:
    """hello, page 1, hello, page 2, ..., hello, for each round; shares against the hello runs around."""
    hello = servers["hello"]

    def run(server: Server, path: str) -> Run:
        return wrk(server.url(path), options.duration, options.connections, options.threads)

    for page in pages:  # warm every worker: imports, templates, database connections
        wrk(servers[page.server].url(page.path), options.warmup, options.connections, options.threads)
    wrk(hello.url("/"), options.warmup, options.connections, options.threads)

    hellos: list[Run] = []
    results = {page: Result(page, [], []) for page in pages}
    for _round in range(options.rounds):
        before = run(hello, "/")
        hellos.append(before)
        for page in pages:
            measured = run(servers[page.server], page.path)
            after = run(hello, "/")
            hellos.append(after)
            baseline = (before.requests_per_second + after.requests_per_second) / 2
            results[page].runs.append(measured)
            results[page].shares.append(measured.requests_per_second / baseline)
            print(
                f"  {page.name}: {measured.requests_per_second:,.0f} req/s, "
                f"{measured.requests_per_second / baseline:.1%} of hello",
                file=sys.stderr,
                flush=True,
            )
            before = after
    return hellos, list(results.values())


def table(hellos: list[Run], results: list[Result], options) -> str:
    lines = [
        "| page | path | cycles | req/s | p50 ms | p99 ms | share of hello |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]

    def row(name, path, cycles, runs: list[Run], share: str, errors: int) -> None:
        rate = statistics.median(r.requests_per_second for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs)
        p99 = statistics.median(r.p99_ms for r in runs)
        note = f" ({errors} errors)" if errors else ""
        lines.append(f"| {name}{note} | `{path}` | {cycles} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {share} |")

    row("bare Flask hello", "/", "", hellos, "100%", sum(r.errors for r in hellos))
    for result in results:
        page = result.page
        errors = sum(r.errors for r in result.runs)
        row(page.name, page.path, page.cycles, result.runs, f"{statistics.median(result.shares):.1%}", errors)
    homes = {r.page.cycles: r for r in results if r.page.path == "/"}
    if len(homes) == 2:
        few, many = (homes[n] for n in sorted(homes))
        ratio = statistics.median(many.shares) / statistics.median(few.shares)
        lines.append("")
        lines.append(
            f"Home with {many.page.cycles} cycles ÷ home with {few.page.cycles}: {ratio:.2f} "
            "(1.00 = as fast; shares compared, so the machine's drift cancels)"
        )
    lines.append("")
    lines.append(
        f"wrk {options.connections} connections, {options.threads} threads, {options.duration} s a run, "
        f"{options.rounds} round(s); gunicorn {options.workers} sync workers each; PostgreSQL; Redis; "
        f"{os.cpu_count()} CPUs, load average before the run {options.load_before}."
    )
    return "\n".join(lines)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (10)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="seconds of warm-up per page (10: each worker keeps the 5,000 proposals' cards, as a server "
        "that has run for a while has, before a new visitor's random order is measured)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server (4)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every page this many times")
    parser.add_argument("--only", default="", help="pages whose name contains one of these, comma-separated")
    parser.add_argument("--code", type=Path, default=REPOSITORY, help="the pb checkout to serve (this one)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PB_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL login that may create databases",
    )
    parser.add_argument("--database", default="pb_bench", help="name prefix of the seeded databases")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    parser.add_argument("--keep-databases", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    wanted = [word.strip() for word in options.only.split(",") if word.strip()]
    pages = [page for page in PAGES if not wanted or any(word in page.name for word in wanted)]
    if not pages:
        raise SystemExit(f"no page matches --only {options.only}")
    secret_key, audit_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    options.load_before = " ".join(f"{load:.1f}" for load in os.getloadavg())

    # However the run ends (an error, Ctrl+C, a kill), the servers stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    code = options.code.resolve()
    with tempfile.TemporaryDirectory(prefix="pb-bench-") as temporary, ExitStack() as databases:
        logs = Path(temporary)
        try:
            servers: dict = {"hello": start("hello", "hello:app", "/", BENCHMARKS, dict(os.environ), options, logs)}
            for cycles in sorted({page.cycles for page in pages}):
                name = f"{options.database}_{cycles}"
                url = databases.enter_context(fresh_database(options.postgres, name, options.keep_databases))
                print(f"seeding {cycles} cycles ...", file=sys.stderr, flush=True)
                seed(url, cycles, secret_key, audit_key)
                env = pb_environment(code, url, options, secret_key, audit_key, logs)
                for max_age in sorted({p.max_age_ms for p in pages if p.cycles == cycles}, key=str):
                    chosen = env if max_age is None else {**env, "PB_PUBLIC_PAGE_MAX_AGE_MS": str(max_age)}
                    label = f"pb-{cycles}" + ("" if max_age is None else f"-max-age-{max_age}")
                    servers[(cycles, max_age)] = start(label, "pb:create_app()", "/healthz", code, chosen, options, logs)
            for page in pages:
                check_page(servers[page.server], page)
            print(f"measuring {code} ...", file=sys.stderr, flush=True)
            hellos, results = measure(servers, pages, options)
        finally:
            stop_all()
    print(table(hellos, results, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
