"""The Flask-backed ``pb`` commands: serving, database schema, accounts, demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

SKIP_DATABASE_CHECK = "pb.skip_database_check"


def _create_app():
    from pb import create_app

    context = click.get_current_context(silent=True)
    # `pb --help` lists commands without touching the database; `pb db ...` repairs it.
    if context is not None and (context.parent is None or context.meta.get(SKIP_DATABASE_CHECK)):
        return create_app({"CHECK_DATABASE": False})
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Participatory budgeting: run the site, manage its database and accounts."""


@cli.group()
def db() -> None:
    """Database schema."""
    # These commands work on a database that is empty or behind the migrations: that is their job.
    click.get_current_context().meta[SKIP_DATABASE_CHECK] = True


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or update the schema by running the migrations."""
    from pb import schema
    from pb.extensions import database

    schema.upgrade(database().engine, revision)
    click.echo(f"database at {revision}")


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the database schema and the models disagree."""
    from pb import schema
    from pb.extensions import database

    diff = schema.differences(database().engine)
    if diff:
        for item in diff:
            click.echo(f"difference: {item}", err=True)
        raise SystemExit(1)
    click.echo("schema matches the models")


@cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.password_option(help="Asked for when not given.", confirmation_prompt=True)
@with_appcontext
def create_admin(email: str, display_name: str, password: str) -> None:
    """Make the first admin account (or give an existing account the admin role)."""
    from pb.db import utcnow
    from pb.extensions import db_session
    from pb.models import Role
    from pb.services.accounts import (
        create_user,
        find_user_by_email,
        grant_role,
        password_problem,
    )
    from pb.services.errors import DomainError

    session = db_session()
    user = find_user_by_email(session, email)
    try:
        if user is None:
            problem = password_problem(password, email, display_name)
            if problem:
                raise DomainError(problem)
            # Whoever runs the command vouches for the address: the account starts confirmed.
            user = create_user(session, email, password, display_name, confirmed_at=utcnow())
        elif not user.email_confirmed:
            # Anyone can register any address: an unconfirmed account may belong to someone else.
            raise DomainError(
                f"{user.email} has an account whose address is not confirmed yet: its owner must "
                "confirm it first (with the mailed link, or by choosing a new password)"
            )
        grant_role(session, None, user, Role.ADMIN)
        session.commit()
    except DomainError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"{user.email} is an admin")


@cli.command("simulate")
@click.option("--cycle", "slug", required=True, help="The cycle whose voting is open now.")
@click.option("--ballots", type=click.IntRange(1, 200_000), default=1_000, show_default=True)
@click.option("--seed", type=int, default=2025, show_default=True, help="The same seed gives the same ballots.")
@click.option("--staff", "staff_email", required=True, help="The staff account that makes the voters' code batches.")
@with_appcontext
def simulate(slug: str, ballots: int, seed: int, staff_email: str) -> None:
    """Cast realistic random ballots through the services (for demos and load tests; never in production)."""
    from pb.extensions import db_session
    from pb.services.accounts import find_user_by_email
    from pb.services.cycles import get_cycle
    from pb.services.errors import DomainError
    from pb.simulate import simulate_votes

    if current_app.config["ENV"] == "production":
        raise click.ClickException("simulated ballots would count: it never runs in production (set PB_ENV)")
    session = db_session()
    cycle = get_cycle(session, slug)
    if cycle is None:
        raise click.ClickException(f"no cycle {slug!r}")
    staff = find_user_by_email(session, staff_email)
    if staff is None:
        raise click.ClickException(f"no account {staff_email!r}")
    try:
        done = simulate_votes(session, staff, cycle, ballots, current_app.extensions["pb.clock"](), seed=seed)
        session.commit()
    except DomainError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"{done.cast} ballots cast in {slug}; {done.abstained} simulated voters abstained")


@cli.command("demo")
@click.option(
    "--codes-file",
    default="instance/demo-codes.txt",
    show_default=True,
    help="Where the demo voter codes are written (made again, the old ones voided, if it is missing).",
)
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="Where the demo is served.")
@with_appcontext
def load_demo_data(codes_file: str, base_url: str) -> None:
    """Load the Lakeview demo (safe to run twice); print its sign-ins and voter codes."""
    from pathlib import Path

    from flask import url_for

    from pb.db import utcnow
    from pb.demo import DEMO_ACCOUNTS, load_demo
    from pb.demo_voting import codes_text, issue_demo_codes
    from pb.extensions import db_session
    from pb.services.accounts import find_user_by_email

    if current_app.config["ENV"] == "production":
        raise click.ClickException("the demo has public passwords: it never runs in production (set PB_ENV)")
    session = db_session()
    sign_ins = load_demo(session, current_app.config["SECRET_KEY"])
    path = Path(codes_file)
    staff = find_user_by_email(session, next(email for role, email, *_ in DEMO_ACCOUNTS if role == "staff"))
    made = issue_demo_codes(session, staff, utcnow(), fresh=not path.is_file())
    session.commit()
    if made:

        def address(cycle) -> str:
            with current_app.test_request_context():
                return base_url.rstrip("/") + url_for("voting.start_vote", slug=cycle.slug)

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codes_text(made, address), encoding="utf-8")
    click.echo("Demo data loaded. Sign in with:")
    for role, email, password in sign_ins:
        click.echo(f"  {role:<9} {email}  password: {password}")
    if path.is_file():
        click.echo("")
        click.echo(path.read_text(encoding="utf-8").rstrip("\n"))
        click.echo(f"(saved in {path})")


@cli.command("worker")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between two rounds.")
@click.option("--once", is_flag=True, help="Do what is due now, then stop.")
@with_appcontext
def worker(interval: float, once: bool) -> None:
    """Record due phase transitions and deliver queued mail (run one or more beside the web workers;
    SIGTERM stops it cleanly)."""
    import contextlib
    import signal
    import threading

    from pb.worker import run_round, run_until

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        report = run_round(app)
        click.echo(f"phase transitions recorded {report.transitions}")
        if report.mail is not None:
            mail = report.mail
            click.echo(f"sent {mail.sent}, to retry {mail.retrying}, failed {mail.failed}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    click.echo(
        f"recording phase transitions and delivering mail every {interval:g} s (Ctrl+C or SIGTERM stops)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_until(app, stop, interval)


@cli.group("audit-log")
def audit_log() -> None:
    """The admin audit log."""


PROBLEMS = {
    "order": "is out of order (an entry before it is missing or repeated)",
    "link": "does not follow the entry before it",
    "content": "does not match its keyed hash (changed, written without the key, or the key is wrong)",
    "missing": "is missing: the log ends before the expected head",
    "head": "is not the entry the expected head names",
}


def _problem_line(problem) -> str:
    row = f" (row id {problem.entry_id})" if problem.entry_id is not None else ""
    return f"audit log entry {problem.position}{row} {PROBLEMS[problem.kind]}"


@audit_log.command("verify")
@click.option(
    "--expect-head", metavar="COUNT:HASH", help="A head published earlier; the log must pass through it."
)
@with_appcontext
def audit_log_verify(expect_head: str | None) -> None:
    """Re-hash the whole log with the audit key; exit 1 naming the first bad entry."""
    from pb.extensions import db_session
    from pb.hashchain import Head
    from pb.services.audit import verify_chain

    try:
        expect = Head.parse(expect_head) if expect_head is not None else None
    except ValueError as error:
        raise click.ClickException(f"--expect-head: {error}") from error
    check = verify_chain(db_session(), expect=expect)
    if not check.intact:
        click.echo(_problem_line(check.problems[0]), err=True)
        raise SystemExit(1)
    click.echo(f"audit log verifies: {check.entries} entries, head {check.head}")


@audit_log.command("rekey")
@click.option(
    "--old-key-env",
    metavar="NAME",
    help="Rotate the key: the environment variable holding the previous audit key.",
)
@click.option(
    "--expect-head", metavar="COUNT:HASH", help="A head published earlier; the log must pass through it."
)
@with_appcontext
def audit_log_rekey(old_key_env: str | None, expect_head: str | None) -> None:
    """Re-sign the whole log with the audit key (once, as the owner of the tables).

    Entries written before the key (unkeyed) and, with --old-key-env, entries signed with the
    previous key are checked under that scheme first; if any entry does not verify, nothing
    changes (exit 1). The log then records the re-key with its old head.
    """
    import os

    from pb.db import utcnow
    from pb.extensions import db_session
    from pb.hashchain import Head
    from pb.services.audit import OLD_KEY, UNKEYED, RekeyRefused, rekey
    from pb.services.errors import DomainError

    old_key = None
    if old_key_env is not None:
        old_key = os.environ.get(old_key_env, "").encode()
        if not old_key:
            raise click.ClickException(f"--old-key-env: the environment variable {old_key_env} is not set")
    try:
        expect = Head.parse(expect_head) if expect_head is not None else None
    except ValueError as error:
        raise click.ClickException(f"--expect-head: {error}") from error
    session = db_session()
    try:
        done = rekey(session, None, utcnow(), old_key=old_key, expect=expect)
        session.commit()
    except RekeyRefused as refused:
        session.rollback()
        click.echo(_problem_line(refused.problem), err=True)
        if refused.problem.kind == "content" and old_key is None:
            click.echo("if the audit key was changed, give the previous one with --old-key-env", err=True)
        click.echo("nothing was re-signed", err=True)
        raise SystemExit(1) from None
    except DomainError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    if not done.resigned:
        click.echo(f"nothing to re-sign: every entry verifies with the audit key (head {done.before})")
        return
    click.echo(
        f"re-signed {done.resigned} entries ({done.signed[UNKEYED]} without a key, "
        f"{done.signed.get(OLD_KEY, 0)} with the old key); head was {done.before}, now {done.after}"
    )
