"""Where a ballot's time goes: the voting flow of ``cast.py``, voter after voter, in this process.

    .venv/bin/python benchmarks/profile_cast.py                        # 300 voters: a table per step
    .venv/bin/python benchmarks/profile_cast.py --profile cast         # cProfile of the cast POST
    .venv/bin/python benchmarks/profile_cast.py --profile ballot --sort cumulative

The application is built with production settings (``PB_ENV=production``, Redis for the rate
limits) on a fresh PostgreSQL database seeded as ``cast.py`` seeds it (a knapsack cycle in voting,
voter codes; dropped at the end), and called as gunicorn calls it (``app(environ, start_response)``),
without a server or a test client in between. Each simulated voter runs the flow's requests
(``STEPS``) with its own cookies, and for each step the table gives the wall and CPU time of this
process (PostgreSQL's and Redis's own work is in the wall time only), the SQL statements sent
(``BEGIN``, ``COMMIT`` and ``ROLLBACK`` included when psycopg sends them) and the Redis round trips.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from pages import REPOSITORY, fresh_database, pb_environment
from werkzeug.test import EnvironBuilder

from benchmarks.cast import hidden

# --- Counting what a request sends ----------------------------------------------------------------


@dataclass
class Counts:
    sql: int = 0
    redis: int = 0
    show: bool = False  # print each statement (--statements: one voter's flow)
    started: float = 0.0


COUNTS = Counts()


def count_statements(engine) -> None:
    """Count what goes to PostgreSQL: each statement, and the BEGIN, COMMIT or ROLLBACK that psycopg
    sends around them (none for reads made outside a transaction: ``pb.db._reads_outside_transactions``)."""
    from psycopg.pq import TransactionStatus
    from sqlalchemy import event

    def show(text: str) -> None:
        if COUNTS.show:
            print("    " + " ".join(text.split())[:160])

    @event.listens_for(engine, "before_cursor_execute")
    def statement(connection, _cursor, text, *_args) -> None:
        dbapi = connection.connection.dbapi_connection
        if dbapi.info.transaction_status is TransactionStatus.IDLE and not dbapi.autocommit:
            COUNTS.sql += 1  # psycopg begins the transaction first
            show("BEGIN")
        COUNTS.sql += 1
        COUNTS.started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def executed(_connection, _cursor, text, *_args) -> None:
        show(f"{(time.perf_counter() - COUNTS.started) * 1000:6.2f} ms  {text}")

    def ending(name: str):
        def counted(connection) -> None:
            dbapi = connection.connection.dbapi_connection
            if dbapi.info.transaction_status is not TransactionStatus.IDLE:
                COUNTS.sql += 1
                show(name)

        return counted

    event.listen(engine, "commit", ending("COMMIT"))
    event.listen(engine, "rollback", ending("ROLLBACK"))


def count_redis() -> None:
    """A round trip is a packed command (or a pipeline's packed commands) written to the socket."""
    from redis.connection import Connection

    send = Connection.send_packed_command

    def counted(self, command, check_health=True):
        COUNTS.redis += 1
        return send(self, command, check_health)

    Connection.send_packed_command = counted


# --- A visitor, called as gunicorn calls the app ----------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    body: str


@dataclass
class Visitor:
    app: object
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None) -> Answer:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        environ = EnvironBuilder(
            path=path, method=method, base_url="http://127.0.0.1/", headers=headers, data=data
        ).get_environ()
        answer: list = []
        chunks = self.app(environ, lambda status, headers, exc_info=None: answer.extend((status, headers)))
        try:
            body = b"".join(chunks).decode()
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, response_headers = answer
        location = ""
        for name, value in response_headers:
            if name.lower() == "set-cookie":
                cookie, _, value_ = value.split(";", 1)[0].partition("=")
                if not value_ or "max-age=0" in value.lower():
                    self.cookies.pop(cookie.strip(), None)
                else:
                    self.cookies[cookie.strip()] = value_
            elif name.lower() == "location":
                location = value
        return Answer(int(status.split()[0]), location, body)


def expect(answer: Answer, status: int, step: str) -> Answer:
    if answer.status != status:
        raise SystemExit(f"{step}: {answer.status} instead of {status}: {answer.body[:400]}")
    return answer


_RECEIPT = re.compile(r"\b[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\b")


def flow(visitor: Visitor, slug: str, code: str, projects: list[int]):
    """The flow of ``cast.py``'s voters, one step at a time: yields each step's name once it is done.

    The steps follow the answers (a redirect is followed; a POST that answers with the next page
    directly saves the GET), so the profiler measures whatever shape the flow has.
    """
    page = expect(visitor.request("GET", f"/cycles/{slug}/vote"), 200, "start page")
    yield "GET start page"
    answer = visitor.request("POST", f"/cycles/{slug}/vote/code", {"csrf_token": hidden(page.body, "csrf_token"),
                                                                   "code": code})
    yield "POST code"
    if answer.status in (302, 303):
        answer = expect(visitor.request("GET", answer.location), 200, "ballot page")
        yield "GET ballot"
    else:
        expect(answer, 200, "code")
    form = {"csrf_token": hidden(answer.body, "csrf_token"), "nonce": hidden(answer.body, "nonce"),
            "project": [str(p) for p in projects]}
    review = expect(visitor.request("POST", f"/cycles/{slug}/ballot", {**form, "action": "review"}), 200, "review")
    if "error-summary" in review.body:
        raise SystemExit("review: the ballot was refused")
    yield "POST review"
    cast = visitor.request("POST", f"/cycles/{slug}/ballot", {**form, "action": "cast"})
    yield "POST cast"
    if cast.status in (302, 303):
        cast = expect(visitor.request("GET", cast.location), 200, "confirmation")
        yield "GET confirmation"
    if "Your ballot was cast and will be counted." not in cast.body or not _RECEIPT.search(cast.body):
        raise SystemExit(f"cast: no receipt shown: {cast.status} {cast.body[:400]}")


# --- The run ----------------------------------------------------------------------------------------


@dataclass
class Step:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)
    redis: list[int] = field(default_factory=list)


def run(app, slug: str, codes: list[str], projects: list[int], voters: int, only: str = "",
        profiler: cProfile.Profile | None = None) -> dict[str, Step]:
    """``voters`` flows; ``profiler`` (if given) runs during the steps whose name contains ``only``
    (the flow has the same shape for every voter: the first one names the steps)."""
    steps: dict[str, Step] = defaultdict(Step)
    order: list[str] = []
    for number in range(voters):
        steps_of_voter = flow(Visitor(app), slug, codes.pop(), projects)
        position = 0
        while True:
            upcoming = order[position] if position < len(order) else ""
            profiled = profiler is not None and number > 0 and only.lower() in upcoming.lower()
            COUNTS.sql = COUNTS.redis = 0
            wall, cpu = time.perf_counter(), time.process_time()
            if profiled:
                profiler.enable()
            try:
                name = next(steps_of_voter)
            except StopIteration:
                break
            finally:
                if profiled:
                    profiler.disable()
            step = steps[name]
            step.wall.append(time.perf_counter() - wall)
            step.cpu.append(time.process_time() - cpu)
            step.sql.append(COUNTS.sql)
            step.redis.append(COUNTS.redis)
            if COUNTS.show:
                print(f"  ^ {name}: {COUNTS.sql} statements, {COUNTS.redis} Redis round trips")
            if number == 0:
                order.append(name)
            position += 1
    return steps


def table(steps: dict[str, Step]) -> str:
    lines = [
        "| step | wall ms (median) | CPU ms (median) | SQL round trips | Redis round trips |",
        "|---|---:|---:|---:|---:|",
    ]
    total_wall = total_cpu = total_sql = total_redis = 0.0
    for name, step in steps.items():
        wall, cpu = statistics.median(step.wall) * 1000, statistics.median(step.cpu) * 1000
        sql, redis = statistics.median(step.sql), statistics.median(step.redis)
        total_wall, total_cpu, total_sql, total_redis = (
            total_wall + wall, total_cpu + cpu, total_sql + sql, total_redis + redis
        )
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {sql:g} | {redis:g} |")
    lines.append(f"| **whole flow** | **{total_wall:.2f}** | **{total_cpu:.2f}** | **{total_sql:g}** | "
                 f"**{total_redis:g}** |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300, help="voters measured, after 30 to warm up")
    parser.add_argument("--rounds", type=int, default=1, help="measure this many times, print each table")
    parser.add_argument("--profile", help="profile the steps whose name contains this (e.g. cast, ballot)")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime or cumulative")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--statements", action="store_true", help="print one voter's SQL statements, step by step")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="pb_profile_cast")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args(argv)
    options.workers = 1
    secret_key, audit_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    logging.getLogger("pb.audit").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as temporary, fresh_database(options.postgres, options.database, False) as url:
        from benchmarks.cast import seed_voting
        from pb import create_app, schema
        from pb.config import SETTINGS
        from pb.db import make_engine

        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        env = pb_environment(REPOSITORY, url, options, secret_key, audit_key, Path(temporary))
        app = create_app({s.name: s.parse(env[s.env_var]) for s in SETTINGS if s.env_var in env})
        logging.getLogger("pb.audit").setLevel(logging.WARNING)
        with app.app_context(), app.extensions["pb.db"].session_factory() as session:
            cycle, made, codes = seed_voting(session, slug="bench-vote", codes=30 + options.voters * (options.rounds + 1))
            slug, chosen = cycle.slug, [made[0].id, made[3].id]
        count_statements(app.extensions["pb.db"].engine)
        count_redis()
        run(app, slug, codes, chosen, 30)  # templates compiled, connections open
        if options.statements:
            COUNTS.show = True
            run(app, slug, codes, chosen, 3)
            COUNTS.show = False
        for _ in range(options.rounds):
            print(table(run(app, slug, codes, chosen, options.voters)), flush=True)
        if options.profile:
            profiler = cProfile.Profile()
            run(app, slug, codes, chosen, options.voters, only=options.profile, profiler=profiler)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(options.sort).print_stats(options.lines)
            print(out.getvalue())
        app.extensions["pb.db"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
