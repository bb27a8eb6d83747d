"""PostgreSQL round trips: a page that only reads sends no BEGIN or COMMIT; a write still runs in a
transaction, committed once at the request's end; a lock holds until then; and a pooled connection
that died while idle is replaced before a request uses it (see ``pb.db``)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from pb import db
from pb.models import AuditLogHead, User

ENGLISH = {"Accept-Language": "en-CA"}


@pytest.fixture(autouse=True)
def postgresql_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no BEGIN round trip to save")


@pytest.fixture
def round_trips(app):
    """``with round_trips() as seen``: each statement with whether it ran inside a transaction, and for
    each commit whether a transaction was open (that is, whether psycopg sent COMMIT)."""
    from psycopg.pq import TransactionStatus

    engine = app.extensions["pb.db"].engine

    @contextmanager
    def record():
        seen: dict[str, list] = {"statements": [], "commits": []}

        def statement(connection, cursor, sql, parameters, context, executemany):
            in_transaction = not connection.connection.dbapi_connection.autocommit
            seen["statements"].append((sql.split()[0], in_transaction))

        def commit(connection):
            status = connection.connection.dbapi_connection.info.transaction_status
            seen["commits"].append(status is not TransactionStatus.IDLE)

        event.listen(engine, "before_cursor_execute", statement)  # after pb's own listener
        event.listen(engine, "commit", commit)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine, "commit", commit)

    return record


def test_a_page_that_only_reads_sends_no_begin_and_no_commit(client, make_cycle, make_user, log_in, round_trips):
    make_cycle(slug="open-cycle")
    log_in(make_user())
    for path in ("/", "/cycles/open-cycle", "/archive"):
        with round_trips() as seen:
            assert client.get(path, headers=ENGLISH).status_code == 200
        assert seen["statements"], path
        assert all(verb == "SELECT" and not in_transaction for verb, in_transaction in seen["statements"])
        assert not any(seen["commits"]), path


def test_a_request_that_writes_commits_its_transaction_once(client, session, make_user, log_in, round_trips):
    user = log_in(make_user())
    with round_trips() as seen:
        response = client.post("/language", data={"locale": "fr_CA", "next": "/"}, headers=ENGLISH)
    assert response.status_code == 302
    writes = [(verb, inside) for verb, inside in seen["statements"] if verb != "SELECT"]
    assert writes == [("UPDATE", True)]
    assert seen["commits"] == [True]
    session.expire_all()
    assert session.get(User, user.id).locale == "fr_CA"


def test_after_a_write_or_a_lock_every_statement_stays_in_the_transaction(app, round_trips):
    factory = app.extensions["pb.db"].session_factory
    with round_trips() as seen, factory() as first, factory() as second:
        first.scalar(select(func.count()).select_from(User))
        first.execute(select(AuditLogHead).where(AuditLogHead.id == 1).with_for_update())
        first.scalar(select(func.count()).select_from(User))
        # The lock holds until the first session ends, though the read after it was a plain SELECT.
        with pytest.raises(Exception, match="could not obtain lock"):
            second.execute(text("SELECT id FROM audit_log_head WHERE id = 1 FOR UPDATE NOWAIT"))
        second.rollback()
        first.rollback()
    assert [inside for _verb, inside in seen["statements"]][:3] == [False, True, True]


def test_a_connection_that_died_while_idle_is_replaced_before_use(app, database_url, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            old = connection.scalar(select(func.pg_backend_pid()))
        with app.extensions["pb.db"].engine.begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old})
        with engine.connect() as connection:
            assert connection.scalar(select(func.pg_backend_pid())) != old
    finally:
        engine.dispose()
