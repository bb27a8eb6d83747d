"""Honest operations: the health check, a rate limiter that survives Redis going away, and a clear
refusal to start on a database that is unreachable or not migrated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from pb import create_app, schema
from pb.config import ConfigError
from pb.db import make_engine
from pb.extensions import limiter
from pb.mail import THREAD_KEY, console_messages
from pb.services.outbox import queue_mail
from tests.conftest import TEST_SETTINGS

CLOSED_REDIS = "redis://127.0.0.1:1/0"
LIVE_REDIS = "redis://127.0.0.1:6379/15"
BIN = Path(sys.executable).parent


def build(database_url: str, **settings):
    return create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, **settings})


def refusal(database_url: str) -> str:
    with pytest.raises(ConfigError) as raised:
        build(database_url)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- Health check ---------------------------------------------------------------------------------


def test_health_names_the_database_when_it_is_down(app, client, monkeypatch):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    engine = app.extensions["pb.db"].engine

    def refuse(*args, **kwargs):
        raise engine.dialect.loaded_dbapi.OperationalError("server closed the connection")

    monkeypatch.setattr(engine.pool, "connect", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "down", "down": ["database"], "database": "down"}


@pytest.fixture
def redis_app(database_url):
    """An app whose rate limits live in Redis at ``redis_url`` (the usual fixture resets them, which needs Redis)."""
    built = []

    def make(redis_url: str):
        application = build(database_url, RATELIMIT_STORAGE_URI=redis_url)
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions["pb.db"].engine.dispose()
    limiter._storage_dead = False  # the limiter is module-wide: later tests start with a healthy storage


def test_health_checks_redis_when_the_rate_limits_live_there(redis_app):
    try:
        redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client = redis_app(LIVE_REDIS).test_client()
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_redis_down_gives_a_503_that_names_it(redis_app):
    response = redis_app(CLOSED_REDIS).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "down", "down": ["redis"], "database": "ok", "redis": "down"}


def test_redis_down_does_not_break_sign_in_and_is_logged(redis_app, make_user, caplog):
    application = redis_app(CLOSED_REDIS)
    client = application.test_client()
    factory = application.extensions["pb.db"].session_factory
    with factory() as session:
        from tests.factories import create_account

        create_account(session, email="amira@example.org")
    response = client.post(
        "/account/sign-in", data={"email": "amira@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert "Rate limit storage unreachable" in caplog.text
    # The limits still hold, counted in this process's memory meanwhile.
    for _ in range(9):
        client.post("/account/sign-in", data={"email": "amira@example.org", "password": "wrong"})
    assert (
        client.post("/account/sign-in", data={"email": "amira@example.org", "password": "x"}).status_code
        == 429
    )


# --- Starting on a database that is not ready -------------------------------------------------------


def test_an_empty_database_is_refused_with_the_command_that_fixes_it(tmp_path):
    message = refusal(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert message.endswith("has no schema yet: run `pb db upgrade`")


def test_a_database_behind_the_migrations_is_refused(database_url):
    engine = make_engine(database_url)
    schema.downgrade(engine, "-1")
    try:
        message = refusal(database_url)
    finally:
        schema.upgrade(engine)
        engine.dispose()
    assert message.startswith("the database is at revision ") and message.endswith("run `pb db upgrade`")


def test_a_database_from_a_newer_release_is_refused(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        (current,) = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffff'"))
    try:
        message = refusal(database_url)
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        engine.dispose()
    assert "revision ffffffff, which this version of pb does not know" in message


def test_an_unreachable_postgresql_is_refused_without_showing_the_password():
    message = refusal("postgresql+psycopg://pb:hunter2@127.0.0.1:1/pb")
    assert message.startswith("cannot reach the database postgresql+psycopg://pb:***@127.0.0.1:1/pb: ")
    assert "hunter2" not in message


def test_a_malformed_database_url_names_the_setting():
    assert refusal("not a database url").startswith("invalid setting app.database_url (PB_DATABASE_URL)")
    assert "hunter2" not in refusal("nosuchdriver://pb:hunter2@host/pb")


@pytest.fixture
def command_env(tmp_path, monkeypatch):
    """The environment of an operator running pb against an empty SQLite file."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'pb.sqlite3'}"
    env = {"PB_ENV": "development", "PB_DATABASE_URL": url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PB_CONFIG", raising=False)
    return {**os.environ, **env}


def test_commands_refuse_an_empty_database_but_db_upgrade_creates_it(command_env, capsys):
    from pb.cli import main

    assert main(["--help"]) == 0  # listing the commands needs no database
    listing = capsys.readouterr()
    assert "worker" in listing.out and "Traceback" not in listing.err
    assert main(["create-admin", "--email", "a@example.org", "--name", "A", "--password", "x" * 12]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith("has no schema yet: run `pb db upgrade`")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "check"]) == 0
    assert main(["demo"]) == 0


def test_gunicorn_stops_with_one_line_that_says_what_is_wrong(command_env, tmp_path):
    process = subprocess.run(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", "127.0.0.1:0", "pb:create_app()"],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # gunicorn stops: "Worker failed to boot" (3), or 1 with gunicorn's own HaltServer traceback when
    # the master is still spawning the second worker as the first one fails (seen on a loaded machine).
    assert process.returncode != 0
    lines = [line for line in process.stderr.splitlines() if not line.startswith("[")]
    assert (
        lines[0]
        == f"pb: the database sqlite:///{tmp_path / 'pb.sqlite3'} has no schema yet: run `pb db upgrade`"
    )
    import pb

    package = str(Path(pb.__file__).resolve().parent)
    assert package not in process.stderr  # no traceback through pb's code: pb said what is wrong in one line


# --- Delivering mail --------------------------------------------------------------------------------


def test_in_development_a_thread_of_the_web_process_delivers_the_mail(database_url, make_user):
    application = build(database_url, ENV="development")
    try:
        client = application.test_client()
        client.get("/")
        make_user("amira@example.org")
        client.post("/account/reset-password", data={"email": "amira@example.org"})
        deadline = time.monotonic() + 15
        while not console_messages(application) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [mail.to for mail in console_messages(application)] == ["amira@example.org"]
    finally:
        thread, stop = application.extensions[THREAD_KEY]
        stop.set()
        thread.join(10)
        application.extensions["pb.db"].engine.dispose()


def test_tests_and_production_start_no_thread(app, client):
    client.get("/")
    assert THREAD_KEY not in app.extensions


def test_the_worker_command_delivers_until_it_is_told_to_stop(
    app, session, database_url, command_env, tmp_path
):
    queue_mail(
        session, "amira@example.org", "Hello", "A message from the worker test", app.extensions["pb.clock"]()
    )
    session.commit()
    env = {**command_env, "PB_DATABASE_URL": database_url}
    worker = subprocess.Popen(
        [str(BIN / "pb"), "worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "pending" in {
            status for (status,) in session.execute(text("SELECT status FROM outbox_mails"))
        }:
            session.rollback()
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "A message from the worker test" in out
    assert session.execute(text("SELECT status FROM outbox_mails")).scalar_one() == "sent"


def test_the_worker_command_can_deliver_once(runner, session, app):
    from pb.commands import cli

    queue_mail(session, "amira@example.org", "Hello", "Once", app.extensions["pb.clock"]())
    session.commit()
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, to retry 0, failed 0" in result.output
    assert [mail.body for mail in console_messages(app)] == ["Once"]


def test_the_worker_deletes_photos_no_proposal_names_after_a_day(app, session, tmp_path):
    import os
    from datetime import timedelta

    from pb import photos
    from pb.worker import run_round
    from tests.factories import create_account, make_cycle, make_proposal

    folder = tmp_path / "worker-photos"
    app.config["PHOTO_FOLDER"] = str(folder)
    folder.mkdir()
    kept, replaced = "e" * 64 + ".jpg", "f" * 64 + ".jpg"
    for name in (kept, replaced):
        (folder / name).write_bytes(b"x")
    author = create_account(session, "author@example.org")
    cycle = make_cycle(session, now=app.extensions["pb.clock"](), slug="photo-cycle")
    make_proposal(session, author, cycle, photo_name=kept, photo_alt="A lamp post")
    later = app.extensions["pb.clock"]() + timedelta(seconds=photos.PRUNE_GRACE_SECONDS + 60)
    for name in (kept, replaced):
        os.utime(folder / name, (later.timestamp() - photos.PRUNE_GRACE_SECONDS - 1,) * 2)
    app.extensions["pb.clock"] = lambda: later
    run_round(app)
    assert sorted(p.name for p in folder.iterdir()) == [kept]
