"""The audit log page: who may read it, what it shows, and that nothing can change it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pb.db import utcnow
from pb.services.audit import record_change
from pb.staff import views


@pytest.fixture
def auditor(make_user, log_in):
    return log_in(make_user("auditor@example.org", roles=["auditor"]))


def test_the_log_shows_who_when_what_before_and_after(client, auditor, make_user, make_cycle, session):
    staff = make_user("staff@example.org", roles=["staff"])
    make_cycle(staff)
    page = client.get("/staff/audit-log")
    assert page.status_code == 200
    body = page.text
    assert body.count("<h1") == 1
    assert '<th scope="col">Before</th>' in body and '<th scope="col">After</th>' in body
    assert "Created a cycle" in body
    assert "staff@example.org" in body
    assert "command line" in body  # the role grants made by the test factories
    assert (
        "&#34;slug&#34;: &#34;test-cycle&#34;" in body or "&quot;slug&quot;: &quot;test-cycle&quot;" in body
    )
    assert "The chain verifies: 3 entries, none changed or missing." in body


def test_the_log_is_newest_first_and_paginated(client, auditor, session, monkeypatch):
    monkeypatch.setattr(views, "AUDIT_PAGE_SIZE", 2)
    for number in range(4):
        record_change(
            session, None, f"test.change{number}", "thing", number, {"n": number}, {"n": number + 1}
        )
    session.commit()  # with the auditor's grant: five entries, three pages
    first = client.get("/staff/audit-log").text
    assert "Page 1 of 3" in first
    assert first.index("test.change3") < first.index("test.change2")
    assert "test.change1" not in first
    assert 'href="/staff/audit-log?page=2"' in first
    third = client.get("/staff/audit-log?page=3").text
    assert "role.grant" in third and "Newer entries" in third and "Older entries" not in third
    assert client.get("/staff/audit-log?page=4").status_code == 404
    assert client.get("/staff/audit-log?page=0").status_code == 404


def test_a_broken_chain_is_reported(client, auditor, session):
    """An entry written behind the app's back (here: a forged hash) is caught by the check."""
    from pb.models import AuditLogEntry
    from pb.services import audit

    forged = AuditLogEntry(
        created_at=utcnow().replace(microsecond=0),
        actor_id=None,
        actor_label="command line",
        action="cycle.update",
        subject_type="cycle",
        subject_id="1",
        before_json="{}",
        after_json='{"budget_cents": 1}',
        prev_hash=audit.head_hash(session),
        entry_hash="f" * 64,
    )
    session.add(forged)
    session.commit()
    page = client.get("/staff/audit-log").text
    assert "The chain does not verify." in page
    assert f"Entry {forged.id}: its content does not match its hash." in page


def test_there_is_no_way_to_edit_or_delete_entries(app, client, auditor):
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert [rule.rule for rule in rules] == ["/staff/audit-log"]
    assert rules[0].methods <= {"GET", "HEAD", "OPTIONS"}
    assert client.post("/staff/audit-log").status_code == 405
    assert client.delete("/staff/audit-log").status_code == 405


def test_the_database_refuses_to_change_an_entry(session, make_user):
    make_user("staff@example.org", roles=["staff"])
    for statement in ("UPDATE audit_log_entries SET after_json = '{}'", "DELETE FROM audit_log_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()


def test_residents_cannot_read_the_log(client, make_user, log_in):
    log_in(make_user("resident@example.org"))
    assert client.get("/staff/audit-log").status_code == 403
