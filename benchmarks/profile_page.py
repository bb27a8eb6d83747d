"""Where a page's time goes: one page requested in a loop, in this process, under a profiler.

    .venv/bin/python benchmarks/profile_page.py /                      # the home page, 50 cycles
    .venv/bin/python benchmarks/profile_page.py /cycles/lakeview-2026 --requests 2000
    .venv/bin/python benchmarks/profile_page.py /account/sign-in --profiler cprofile   # by own time
    .venv/bin/python benchmarks/profile_page.py / /archive /open-data --profiler none    # several, one seeding

The application is built with production settings on a fresh PostgreSQL database seeded as
``pages.py`` seeds it (dropped at the end), and called as gunicorn calls it (``app(environ,
start_response)``), without a server or a test client in between. It prints the time a request takes,
then pyinstrument's tree (or cProfile's top functions).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

from pages import REPOSITORY, fresh_database, pb_environment, seed
from werkzeug.test import EnvironBuilder


def requester(app, path: str, headers: dict[str, str]):
    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1/", headers=headers).get_environ()

    def request() -> None:
        status: list[str] = []
        body = app(dict(environ), lambda s, h, exc_info=None: status.append(s))
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"{path} answered {status[0]}")

    return request


def profile(app, path: str, options) -> None:
    request = requester(app, path, {"Accept-Language": options.language})
    for _ in range(50):  # templates compiled, connections open
        request()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(options.requests):
        request()
    each = (time.perf_counter() - started) / options.requests
    cpu_each = (time.process_time() - cpu) / options.requests
    print(
        f"{path}: {each * 1000:.2f} ms a request, {cpu_each * 1000:.2f} ms of it on this "
        f"process's CPU ({1 / each:,.0f} requests a second in one process)"
    )
    if options.profiler == "cprofile":
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [request() for _ in range(options.requests)])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(options.sort).print_stats(options.lines)
        print(out.getvalue())
    elif options.profiler == "pyinstrument":
        from pyinstrument import Profiler

        with Profiler(interval=0.0002) as profiler:
            for _ in range(options.requests):
                request()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=["/"], metavar="path")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--language", default="en-CA", help="Accept-Language")
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile", "none"), default="pyinstrument")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="see pages.py"
    )
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime (own time) or cumulative")
    parser.add_argument("--lines", type=int, default=40, help="how many of cProfile's functions to print")
    parser.add_argument("--database", default="pb_profile")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args(argv)
    secret_key, audit_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as temporary, fresh_database(
        options.postgres, f"{options.database}_{options.cycles}", keep=False
    ) as url:
        seed(url, options.cycles, secret_key, audit_key)
        env = pb_environment(REPOSITORY, url, options, secret_key, audit_key, Path(temporary))
        from pb import create_app
        from pb.config import SETTINGS

        app = create_app({s.name: s.parse(env[s.env_var]) for s in SETTINGS if s.env_var in env})
        for path in options.paths:
            profile(app, path, options)
        app.extensions["pb.db"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
