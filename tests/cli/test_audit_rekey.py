"""`pb audit-log rekey`: entries from before the key, and key rotation, re-signed only after they verify."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from pb import hashchain, schema
from pb.commands import cli
from pb.db import UTCDateTime, utcnow
from pb.models import AuditLogEntry
from pb.services import audit
from pb.services.audit import current_head, record_change, rekey, verify_chain
from pb.services.errors import DomainError
from tests.factories import assert_refused, database_role

OLD_COLUMNS = (
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "before_json",
    "after_json",
    "prev_hash",
    "entry_hash",
)


def unkeyed_hash(row: dict) -> str:
    """The hash as the code before revision 0002 computed it (written out again, as an oracle)."""
    payload = {
        name: row[name] for name in OLD_COLUMNS if name not in {"entry_hash", "before_json", "after_json"}
    }
    payload["created_at"] = row["created_at"].isoformat()
    payload["before"], payload["after"] = row["before_json"], row["after_json"]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def unkeyed_rows(count: int, prev_hash: str = hashchain.GENESIS_HASH) -> list[dict]:
    rows = []
    for number in range(count):
        row = {
            "created_at": datetime(2026, 11, 1 + number, 9, tzinfo=UTC),
            "actor_id": None,
            "actor_label": "command line",
            "action": "cycle.update",
            "subject_type": "cycle",
            "subject_id": "1",
            "before_json": json.dumps({"budget_cents": number}),
            "after_json": json.dumps({"budget_cents": number + 1}),
            "prev_hash": prev_hash,
        }
        row["entry_hash"] = prev_hash = unkeyed_hash(row)
        rows.append(row)
    return rows


def log_from_before_the_key(app, count: int = 3) -> list[dict]:
    """The log as an upgrade leaves it: ``count`` unkeyed entries written before revision 0002."""
    engine = app.extensions["pb.db"].engine
    schema.downgrade(engine, "0004")
    table = sa.table(
        "audit_log_entries", sa.column("created_at", UTCDateTime()), *map(sa.column, OLD_COLUMNS[1:])
    )
    rows = unkeyed_rows(count)
    with engine.begin() as connection:
        connection.execute(sa.insert(table), rows)
    schema.upgrade(engine)
    engine.dispose()
    return rows


def guards(session) -> list:
    """The triggers guarding the log, as the database describes them."""
    if session.bind.dialect.name == "postgresql":
        query = (
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN ('audit_log_entries'::regclass, 'audit_log_head'::regclass) ORDER BY tgname"
        )
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    return [tuple(row) for row in session.execute(text(query))]


def assert_entries_are_guarded(session) -> None:
    assert_refused(
        session,
        ("UPDATE audit_log_entries SET action = 'forged'", "DELETE FROM audit_log_entries"),
        "append-only",
    )


def test_entries_from_before_the_key_are_checked_then_resigned_once(app, runner, session):
    rows = log_from_before_the_key(app)
    record_change(session, None, "test.after_upgrade", "thing", 1, {}, {"n": 1})  # keyed, after the upgrade
    session.commit()
    old_head = current_head(session)
    assert old_head.count == 4
    guarded = guards(session)
    assert len(guarded) >= 4  # entries: no update, no delete (and no truncate); head: forward, no delete

    before = runner.invoke(cli, ["audit-log", "verify"])
    assert (
        before.exit_code == 1
        and "audit log entry 1 (row id 1) does not match its keyed hash" in before.output
    )

    result = runner.invoke(cli, ["audit-log", "rekey"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    new_head = current_head(session)
    assert result.stdout.strip() == (
        f"re-signed 4 entries (3 without a key, 0 with the old key); head was {old_head}, now {new_head}"
    )
    assert verify_chain(session).intact and new_head.count == 5
    assert runner.invoke(cli, ["audit-log", "verify"]).exit_code == 0

    entries = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.position)).all()
    assert [(e.created_at, e.before_json, e.after_json) for e in entries[:3]] == [
        (row["created_at"], row["before_json"], row["after_json"]) for row in rows
    ]  # the content is untouched: only the signatures change
    recorded = entries[-1]
    assert (recorded.action, recorded.actor_label, recorded.subject_type) == (
        "audit_log.rekeyed",
        "command line",
        "audit_log",
    )
    assert recorded.before == {"count": 4, "hash": old_head.hash}
    assert recorded.after == {"count": 4, "hash": entries[3].entry_hash, "unkeyed": 3, "old_key": 0}

    again = runner.invoke(cli, ["audit-log", "rekey"])
    assert again.exit_code == 0 and again.stdout.startswith("nothing to re-sign")
    session.expire_all()
    assert current_head(session) == new_head

    assert guards(session) == guarded  # the guards the re-key lifted are back, as they were
    assert_entries_are_guarded(session)


def test_a_changed_entry_from_before_the_key_is_refused_and_nothing_changes(app, runner, session):
    log_from_before_the_key(app)
    engine = app.extensions["pb.db"].engine
    with engine.begin() as connection:  # the table owner rewrites entry 2, guards off
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(
            text("UPDATE audit_log_entries SET after_json = '{\"budget_cents\": 9}' WHERE position = 2")
        )
        if engine.dialect.name == "sqlite":
            connection.execute(text(audit._SQLITE_UPDATE_GUARD))
    guarded = guards(session)
    hashes = session.scalars(select(AuditLogEntry.entry_hash).order_by(AuditLogEntry.position)).all()

    result = runner.invoke(cli, ["audit-log", "rekey"])
    assert result.exit_code == 1
    assert "audit log entry 2 (row id 2) does not match its keyed hash" in result.output
    assert "nothing was re-signed" in result.output
    session.expire_all()
    assert session.scalars(select(AuditLogEntry.entry_hash).order_by(AuditLogEntry.position)).all() == hashes
    assert guards(session) == guarded
    assert_entries_are_guarded(session)


def test_an_unkeyed_entry_after_keyed_ones_is_refused(session):
    record_change(session, None, "test.keyed", "thing", 1, {}, {})
    head = current_head(session)
    row = unkeyed_rows(1, prev_hash=head.hash)[0]
    session.add(AuditLogEntry(position=2, **row))
    session.flush()
    session.execute(text("UPDATE audit_log_head SET count = 2, hash = :h"), {"h": row["entry_hash"]})
    with pytest.raises(audit.RekeyRefused) as refused:
        rekey(session, None, utcnow())
    assert (refused.value.problem.position, refused.value.problem.kind) == (2, "content")


def test_the_head_published_earlier_must_be_on_the_chain(app, runner, session):
    rows = log_from_before_the_key(app)
    elsewhere = runner.invoke(cli, ["audit-log", "rekey", "--expect-head", f"2:{'a' * 64}"])
    assert elsewhere.exit_code == 1 and "audit log entry 2 (row id 2) is not the entry" in elsewhere.output
    longer = runner.invoke(cli, ["audit-log", "rekey", "--expect-head", f"5:{'a' * 64}"])
    assert longer.exit_code == 1 and "audit log entry 4 is missing" in longer.output
    published = f"2:{rows[1]['entry_hash']}"
    assert runner.invoke(cli, ["audit-log", "rekey", "--expect-head", published]).exit_code == 0


def test_rotating_the_key_resigns_the_whole_log_after_checking_it_with_the_old_one(
    app, runner, session, make_user, monkeypatch
):
    make_user("staff@example.org", roles=["staff"])
    record_change(session, None, "test.change", "thing", 1, {}, {"n": 1})
    session.commit()
    old_head = current_head(session)
    old_key = audit.audit_key(session)
    new_key = secrets.token_hex(24).encode()
    app.extensions["pb.db"].session_factory.configure(info={audit.AUDIT_KEY_INFO: new_key})

    refused = runner.invoke(cli, ["audit-log", "rekey"])
    assert refused.exit_code == 1 and "give the previous one with --old-key-env" in refused.output
    unset = runner.invoke(cli, ["audit-log", "rekey", "--old-key-env", "PB_TEST_NO_SUCH_KEY"])
    assert unset.exit_code == 1 and "PB_TEST_NO_SUCH_KEY is not set" in unset.output
    monkeypatch.setenv("PB_TEST_WRONG_KEY", "not the old key")
    wrong = runner.invoke(cli, ["audit-log", "rekey", "--old-key-env", "PB_TEST_WRONG_KEY"])
    assert wrong.exit_code == 1 and "audit log entry 1 (row id 1) does not match" in wrong.output

    monkeypatch.setenv("PB_TEST_OLD_KEY", old_key.decode())
    result = runner.invoke(cli, ["audit-log", "rekey", "--old-key-env", "PB_TEST_OLD_KEY"])
    assert result.exit_code == 0, result.output
    assert "re-signed 2 entries (0 without a key, 2 with the old key)" in result.output
    with app.extensions["pb.db"].session_factory() as fresh:
        check = verify_chain(fresh)
        assert check.intact and check.head.count == 3
        recorded = fresh.scalars(select(AuditLogEntry).where(AuditLogEntry.position == 3)).one()
        assert recorded.before == {"count": 2, "hash": old_head.hash} and recorded.after["old_key"] == 2
    # Under the old key the log no longer verifies: it is the new key's now.
    app.extensions["pb.db"].session_factory.configure(info={audit.AUDIT_KEY_INFO: old_key})
    assert runner.invoke(cli, ["audit-log", "verify"]).exit_code == 1


def test_only_the_owner_of_the_tables_can_resign(app, session):
    if session.bind.dialect.name != "postgresql":
        pytest.skip("SQLite has no roles")
    log_from_before_the_key(app, 2)
    engine = app.extensions["pb.db"].engine
    grants = ("SELECT, INSERT ON audit_log_entries", "SELECT, UPDATE ON audit_log_head")
    with database_role(engine, *grants) as role:
        session.execute(text(f'SET ROLE "{role}"'))
        with pytest.raises(DomainError, match="owner of the tables"):
            rekey(session, None, utcnow())
        session.rollback()
    assert current_head(session).count == 2
