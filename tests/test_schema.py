"""The schema comes from the migrations, and the migrations match the models."""

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from pb import schema
from pb.db import make_engine
from pb.models import User
from pb.services.audit import record_change, verify_chain
from tests.factories import assert_refused


def test_migrations_match_models(database_url):
    engine = make_engine(database_url)
    assert schema.differences(engine) == []
    engine.dispose()


def test_migrations_downgrade_and_upgrade_again(database_url):
    engine = make_engine(database_url)
    schema.downgrade(engine, "base")
    assert "users" not in inspect(engine).get_table_names()
    schema.upgrade(engine)
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()


def test_foreign_keys_are_enforced(app, session):
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO role_grants (user_id, role, granted_at) VALUES (:user_id, 'staff', CURRENT_TIMESTAMP)"
            ),
            {"user_id": 4242},
        )


def test_audit_log_refuses_updates_and_deletes_at_the_database(app, session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    record_change(session, admin, "test.change", "thing", 1, {"a": 1}, {"a": 2})
    session.commit()
    assert_refused(
        session,
        ("UPDATE audit_log_entries SET action = 'forged'", "DELETE FROM audit_log_entries"),
        "append-only",
    )
    check = verify_chain(session)
    assert check.intact and check.entries == 2  # the admin grant and the test change
    assert session.get(User, admin.id) is not None


def test_the_audit_log_head_moves_only_forward_to_the_last_entry(app, session, make_user):
    make_user("admin@example.org", roles=["admin"])
    head = verify_chain(session).head
    refused = [
        "DELETE FROM audit_log_head",
        "UPDATE audit_log_head SET count = 0, hash = (SELECT prev_hash FROM audit_log_entries)",  # rewound
        "UPDATE audit_log_head SET count = count + 1",  # past the entries present
        f"UPDATE audit_log_head SET hash = '{'a' * 64}'",  # not the last entry's hash
        "UPDATE audit_log_head SET id = 2",
    ]
    if session.bind.dialect.name == "postgresql":
        refused.append("TRUNCATE audit_log_head")
    assert_refused(session, refused, "audit log head")
    record_change(session, None, "test.change", "thing", 1, {}, {})  # appends still move it
    session.commit()
    check = verify_chain(session)
    assert check.intact and check.head.count == head.count + 1
