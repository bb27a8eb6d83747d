"""A notification round with 1,000 / 10,000 / 100,000 follows of quiet proposals, against the same round
with none of them.

    .venv/bin/python benchmarks/notifications.py                     # SQLite in a temporary folder
    .venv/bin/python benchmarks/notifications.py --follows 1000,10000 --rounds 3
    .venv/bin/python benchmarks/notifications.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/notifications.py --code /tmp/pb-main  # another checkout's pb (before/after)

One database is seeded once (``benchmarks/seed_proposals.py``: 10,000 proposals with their history and
30,000 old comments; 1,000 residents who want mail each time, in English or French). Ten of the proposals
have news since the last round (three comments and a status change each) and ten followers each: that is
the round's work, 100 mails. Then follows of the other, quiet, proposals are added in steps, and at each
step the same round is run ``--rounds`` times, each in a transaction rolled back afterwards, and the
median kept (after one round not counted, which warms the process up); at the end the quiet follows are
deleted and the round measured again. ``x none`` is a step's median over the mean of the two medians
with no quiet follows (first and last line), so a machine whose speed drifts during the run shows it:
1.0 means the round does not care how many follows there are. ``--code`` imports pb from another checkout (its schema, its round), to
compare with the code before a change; the seed only writes tables every version has.
With ``--postgres`` (a login that may create databases), the database ``pb_bench_notify`` is made and
dropped (``benchmarks/pages.py``'s ``fresh_database``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NEWS_PROPOSALS = 10
FOLLOWERS_OF_NEWS = 10
PROPOSALS = 10_000
RESIDENTS = 1_000


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follows", default="1000,10000,100000", help="quiet follows at each step")
    parser.add_argument("--rounds", type=int, default=5, help="rounds measured at each step (median kept)")
    parser.add_argument("--postgres", help="a PostgreSQL login that may create databases (default: SQLite)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the pb checkout to import (this one)")
    return parser.parse_args(argv)


def seed(app, now):
    """The cycle, proposals, residents and the round's news; returns the quiet proposals and the residents."""
    from seed_proposals import seed_proposals
    from sqlalchemy import insert, inspect, select, update

    from pb.models import Comment, Follow, Proposal, ProposalStatus, ProposalStatusChange, User
    from pb.services.cycles import create_cycle
    from pb.services.notifications import IMMEDIATE, SETTLE
    from tests.factories import cycle_settings

    database = app.extensions["pb.db"]
    with database.session_factory() as session:
        cycle = create_cycle(session, None, cycle_settings(now, phase="proposals", slug="bench"), now=now, seed=1)
        session.commit()
        cycle_id = cycle.id
    seed_proposals(database.engine, cycle_id, proposals=PROPOSALS, supports=1, comments=30_000, residents=RESIDENTS)
    last_round = now + timedelta(minutes=10)  # after every seeded event
    with database.engine.begin() as connection:
        users = list(connection.scalars(select(User.id).order_by(User.id)))
        connection.execute(
            update(User).values(notify_mode=IMMEDIATE, notified_until=last_round - SETTLE, locale="en_CA")
        )
        connection.execute(update(User).where(User.id % 3 == 0).values(locale="fr_CA"))
        if "notification_bookmarks" in inspect(connection).get_table_names():  # the code being measured has one
            from pb.models import NotificationBookmark

            connection.execute(insert(NotificationBookmark), [{"id": 1, "read_until": last_round - SETTLE}])
        proposals = list(connection.scalars(select(Proposal.id).where(Proposal.cycle_id == cycle_id).order_by(Proposal.id)))
        news, quiet = proposals[:NEWS_PROPOSALS], proposals[NEWS_PROPOSALS:]
        old = now - timedelta(days=1)
        connection.execute(
            insert(Follow),
            [
                {"proposal_id": pid, "user_id": users[(i * 37 + j) % len(users)], "created_at": old}
                for i, pid in enumerate(news)
                for j in range(FOLLOWERS_OF_NEWS)
            ],
        )
        fresh = last_round + timedelta(minutes=1)
        connection.execute(
            insert(Comment),
            [
                {"proposal_id": pid, "author_id": users[-1 - j], "body": f"News {j}", "language": "en",
                 "created_at": fresh + timedelta(seconds=j), "hidden_reason": ""}
                for pid in news
                for j in range(3)
            ],
        )
        connection.execute(
            insert(ProposalStatusChange),
            [
                {"proposal_id": pid, "from_status": ProposalStatus.SUBMITTED, "to_status": ProposalStatus.NOT_FEASIBLE,
                 "event": "status", "public_reason": "Outside city land", "at": fresh}
                for pid in news
            ],
        )
    return quiet, users, last_round + timedelta(minutes=10)


def quiet_follows(quiet: list[int], users: list[int], start: int, stop: int, at) -> list[dict]:
    """Follows number ``start`` to ``stop`` of the quiet proposals: proposal by proposal, then the next follower."""
    return [
        {"proposal_id": quiet[k % len(quiet)], "user_id": users[(k % len(quiet) * 7 + k // len(quiet)) % len(users)],
         "created_at": at}
        for k in range(start, stop)
    ]


def analyze(engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    raw = engine.raw_connection()
    try:
        raw.dbapi_connection.autocommit = True
        with raw.dbapi_connection.cursor() as cursor:
            for table in ("follows", "users", "comments", "proposal_status_changes"):
                cursor.execute(f"VACUUM ANALYZE {table}")
            # Write the bulk load out now, not during the next measurement (needs a superuser or pg_checkpoint).
            try:
                cursor.execute("CHECKPOINT")
            except Exception as error:
                print(f"no CHECKPOINT: {error}", file=sys.stderr)
    finally:
        raw.dbapi_connection.autocommit = False
        raw.close()


def measure(app, at, rounds: int) -> tuple[float, int]:
    """The median seconds of ``rounds`` rounds at ``at`` (each rolled back), and the mails of one."""
    from pb.services.notifications import send_notifications

    def link(proposal) -> str:
        return f"https://pb.example.org/cycles/bench/proposals/{proposal.id}"

    times, mails = [], 0
    database = app.extensions["pb.db"]
    with app.test_request_context():
        for _ in range(rounds):
            with database.session_factory() as session:
                started = time.perf_counter()
                mails = send_notifications(session, at, link)
                session.flush()
                times.append(time.perf_counter() - started)
                session.rollback()
    return statistics.median(times), mails


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    sys.path[:0] = [str(options.code.resolve()), str(ROOT / "benchmarks"), str(ROOT)]
    import logging

    from sqlalchemy import delete, insert

    import pb
    from pb import create_app, schema
    from pb.db import make_engine, utcnow
    from pb.models import Follow

    logging.getLogger("pb.audit").setLevel(logging.WARNING)
    code = Path(pb.__file__).resolve().parent.parent
    steps = [int(n) for n in options.follows.split(",")]
    with contextlib.ExitStack() as stack:
        temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="pb-bench-notify-"))
        if options.postgres:
            from pages import fresh_database

            url = stack.enter_context(fresh_database(options.postgres, "pb_bench_notify", keep=False))
        else:
            url = f"sqlite:///{temporary}/bench.sqlite3"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        app = create_app({"ENV": "development", "DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_BACKEND": "console"})
        now = utcnow().replace(second=0, microsecond=0)
        print(f"Seeding {PROPOSALS:,} proposals ({code}) ...", file=sys.stderr, flush=True)
        quiet, users, at = seed(app, now)
        engine = app.extensions["pb.db"].engine
        analyze(engine)
        rows = []
        measure(app, at, 1)  # not counted: the first round of a process compiles its statements
        before, mails = measure(app, at, options.rounds)
        rows.append((0, before, mails))
        done = 0
        for total in steps:
            with engine.begin() as connection:
                connection.execute(insert(Follow), quiet_follows(quiet, users, done, total, now - timedelta(hours=12)))
            done = total
            analyze(engine)
            seconds, mails = measure(app, at, options.rounds)
            rows.append((total, seconds, mails))
        with engine.begin() as connection:  # and none again, so that drift during the run shows
            connection.execute(delete(Follow).where(Follow.proposal_id.in_(quiet)))
        analyze(engine)
        after, mails = measure(app, at, options.rounds)
        rows.append((0, after, mails))
        baseline = (before + after) / 2
        dialect = engine.dialect.name
        engine.dispose()
    print(f"Code: {code}; {dialect}; {NEWS_PROPOSALS} proposals with news, {FOLLOWERS_OF_NEWS} followers each; "
          f"median of {options.rounds} rounds; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print("| quiet follows | round ms | mails | x none |")
    print("|---:|---:|---:|---:|")
    for total, seconds, mails in rows:
        print(f"| {total:,} | {1000 * seconds:.1f} | {mails} | {seconds / baseline:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
