"""Fixtures shared by the whole suite.

Every web test runs once per database backend: SQLite always, PostgreSQL as well when
``PB_TEST_DATABASE_URL`` is set (and then an unreachable server is an error, not a skip).
The schema is built by the Alembic migrations, never by ``create_all``. Each test gets
its own database state: a fresh copy of a migrated SQLite file, or a private PostgreSQL
schema emptied after the test.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from pb import create_app, schema
from pb.db import Base, make_engine
from pb.hashchain import GENESIS_HASH

POSTGRES_URL = os.environ.get("PB_TEST_DATABASE_URL", "")

# Hypothesis profiles, registered once for the whole suite: ``dev`` on a laptop, ``ci`` deeper
# (``HYPOTHESIS_PROFILE=ci``, set by .ci/run). Tests set deadlines and health checks, never the
# number of examples, so CI always runs more than a laptop. Elections and requests are drawn value
# by value, which a busy machine can make slower than the too_slow health check allows.
settings.register_profile("dev", max_examples=50, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Argon2 with production cost takes ~100 ms a hash; tests need the behaviour, not the cost."""
    from argon2 import PasswordHasher

    from pb import passwords

    production_hasher = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production_hasher


@pytest.fixture(autouse=True, scope="session")
def small_demo_vote():
    """The demo's finished vote has 2,000 simulated ballots; tests need its shape, not its size."""
    from pb import demo_results

    full = demo_results.PAST_BALLOTS
    demo_results.PAST_BALLOTS = 60
    yield
    demo_results.PAST_BALLOTS = full


BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema in the test database, so parallel runs never see each other."""
    schema_name = f"pb_test_{secrets.token_hex(4)}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except Exception as error:  # the CI must fail, not skip, when PostgreSQL is unreachable
        raise RuntimeError(f"PB_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}") from error
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema_name}')}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # The audit log refuses TRUNCATE with a trigger. The test login is a superuser, which may
        # turn triggers off for this one transaction (SET LOCAL); the app's runtime role may not.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("INSERT INTO audit_log_head (id, count, hash) VALUES (1, 0, :genesis)"),
            {"genesis": GENESIS_HASH},
        )
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "pb.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        try:
            yield url
        finally:
            _empty_postgres(url)


TEST_SETTINGS = {
    "ENV": "testing",
    "SECRET_KEY": "test-secret-key-not-for-production-use",
    "WTF_CSRF_ENABLED": False,
    "MAIL_BACKEND": "console",
}


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> dict:
    """Override in a test module to change settings before the app is built."""
    return {**TEST_SETTINGS, "DATABASE_URL": database_url, "PHOTO_FOLDER": str(tmp_path / "photos")}


@pytest.fixture
def app(app_settings: dict):
    from pb.extensions import limiter

    application = create_app(app_settings)
    with application.app_context():
        limiter.reset()
    yield application
    application.extensions["pb.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A database session for arranging and checking state (commit to make it visible to requests)."""
    factory = app.extensions["pb.db"].session_factory
    with factory() as db:
        yield db


@pytest.fixture
def make_user(session):
    """Create an account with the given roles; its password is ``password``."""
    from tests.factories import create_account

    def make(
        email: str = "resident@example.org", roles=(), password: str = "correct horse battery", **fields
    ):
        return create_account(session, email=email, roles=roles, password=password, **fields)

    return make


@pytest.fixture
def sign_in(client):
    def do(email: str, password: str = "correct horse battery"):
        return client.post(
            "/account/sign-in", data={"email": email, "password": password}, follow_redirects=True
        )

    return do


@pytest.fixture
def query_counter(app):
    """``with query_counter() as statements: ...``: the SQL the app's engine ran inside the block.

    Pages must run a constant number of queries, whatever the number of rows (no query per row).
    """
    from contextlib import contextmanager

    from sqlalchemy import event

    engine = app.extensions["pb.db"].engine

    @contextmanager
    def count():
        statements: list[str] = []

        def record(connection, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return count
