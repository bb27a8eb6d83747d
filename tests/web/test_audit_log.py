"""The audit log page: who may read it, what it shows, and that rewriting history shows."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from pb import hashchain
from pb.commands import cli
from pb.hashchain import Head
from pb.models import AuditLogEntry
from pb.services import audit
from pb.services.audit import current_head, record_change, verify_chain
from pb.staff import views
from tests.factories import assert_refused


@pytest.fixture
def auditor(make_user, log_in):
    return log_in(make_user("auditor@example.org", roles=["auditor"], display_name="Audrey Auditor"))


HEAD_GUARDS = ("audit_log_head_forward", "audit_log_head_no_delete")  # SQLite's names


def without_guards(session, head: bool = True) -> None:
    """Play the attacker with the table owner's login: switch the guarding triggers off (tests only).

    On PostgreSQL for the current transaction; on SQLite for good (``head``: the head's too).
    """
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        for trigger in ("audit_log_no_update", "audit_log_no_delete", *(HEAD_GUARDS if head else ())):
            session.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))


def forged_entry(
    session, position: int, prev_hash: str, key: bytes = b"guessed key", **fields
) -> AuditLogEntry:
    entry = AuditLogEntry(
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor_id=None,
        actor_label="command line",
        action="cycle.update",
        subject_type="cycle",
        subject_id="1",
        before_json="{}",
        after_json='{"budget_cents": 1}',
        **fields,
    )
    entry.position, entry.prev_hash = position, prev_hash
    entry.entry_hash = hashchain.entry_hash(key, position, prev_hash, entry.payload())
    return entry


def test_the_log_shows_who_when_what_and_the_changes_with_names(
    client, auditor, make_user, make_cycle, session
):
    staff = make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")
    make_cycle(staff, name_en="Lakeview 2026")
    body = client.get("/staff/audit-log").text
    assert body.count("<h1") == 1
    assert "Created a cycle" in body
    assert "Cycle: Lakeview 2026" in body
    assert "Sam Staff" in body and "staff@example.org" in body
    assert "command line" in body  # the role grants made by the test factories
    assert "<dt>Web address name</dt>" in body and "After: test-cycle" in body
    assert "&#34;slug&#34;" not in body and "&quot;slug&quot;" not in body  # no raw JSON
    assert "The chain verifies up to entry 3: none changed or missing." in body


def test_the_log_is_newest_first_paginated_and_filtered(client, auditor, session, monkeypatch):
    monkeypatch.setattr(views, "AUDIT_PAGE_SIZE", 2)
    for number in range(4):
        record_change(
            session, None, f"test.change{number}", "thing", number, {"n": number}, {"n": number + 1}
        )
    session.commit()  # with the auditor's grant: five entries, three pages
    first = client.get("/staff/audit-log").text
    assert "Page 1 of 3" in first
    table = first[first.index("<tbody>") :]  # the action filter lists every action above it
    assert table.index("test.change3") < table.index("test.change2")
    assert "test.change1" not in table
    assert 'href="/staff/audit-log?page=2"' in first
    third = client.get("/staff/audit-log?page=3").text
    assert "Granted a role" in third and "Newer entries" in third and "Older entries" not in third
    assert client.get("/staff/audit-log?page=4").status_code == 404
    assert client.get("/staff/audit-log?page=0").status_code == 404

    only = client.get("/staff/audit-log?action=test.change1").text
    only = only[only.index("<tbody>") :]
    assert "test.change1" in only and "test.change2" not in only
    by_actor = client.get("/staff/audit-log?actor=LINE").text  # the command line, any case
    assert "Page 1 of 3" in by_actor
    nobody = client.get("/staff/audit-log?actor=auditor%40example.org").text
    assert "No entry matches." in nobody
    today = datetime.now(UTC).date().isoformat()
    dated = client.get(f"/staff/audit-log?since={today}&until={today}&action=test.change0").text
    assert "Page 1 of 1 (1 entry)" in dated
    assert "No entry matches." in client.get("/staff/audit-log?until=2000-01-01").text
    bad = client.get("/staff/audit-log?since=yesterday&action=nonsense")
    assert bad.status_code == 200 and "error-summary" in bad.text and "Page 1 of 3" in bad.text


def test_the_page_runs_a_constant_number_of_queries(app, client, auditor, make_user, make_cycle, session):
    def queries_for_page() -> int:
        statements: list[str] = []
        engine = app.extensions["pb.db"].engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/staff/audit-log").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    staff = make_user("staff@example.org", roles=["staff"])
    make_cycle(staff, slug="one")
    queries_for_page()  # the first view of a process verifies from the start, later ones from there
    few = queries_for_page()
    for number in range(6):
        make_cycle(make_user(f"staff{number}@example.org", roles=["staff"]), slug=f"cycle-{number}")
    assert queries_for_page() == few


def test_the_page_verifies_only_what_is_new(client, auditor, session, monkeypatch):
    for number in range(5):
        record_change(session, None, "test.change", "thing", number, {}, {"n": number})
    session.commit()
    hashed: list[int] = []
    real = hashchain.entry_hash
    monkeypatch.setattr(
        hashchain,
        "entry_hash",
        lambda key, position, *rest: hashed.append(position) or real(key, position, *rest),
    )
    assert "up to entry 6" in client.get("/staff/audit-log").text
    assert hashed == [1, 2, 3, 4, 5, 6]
    hashed.clear()
    record_change(session, None, "test.change", "thing", 9, {}, {"n": 9})
    session.commit()
    hashed.clear()
    assert "up to entry 7" in client.get("/staff/audit-log").text
    assert hashed == [7]


def test_an_entry_written_without_the_key_is_reported(client, auditor, session):
    head = current_head(session)
    forged = forged_entry(session, head.count + 1, head.hash)
    session.add(forged)
    # The attacker advances the head too, so only the key gives the forgery away.
    session.execute(
        text("UPDATE audit_log_head SET count = :c, hash = :h"),
        {"c": forged.position, "h": forged.entry_hash},
    )
    session.commit()
    page = client.get("/staff/audit-log").text
    assert "The chain does not verify." in page
    assert f"Entry {forged.position}: its content does not match its hash." in page
    assert verify_chain(session).problems[0].entry_id == forged.id


def test_a_rewritten_entry_with_the_rest_rehashed_is_reported(session, make_user):
    for number in range(3):
        record_change(session, None, "test.change", "thing", number, {}, {"n": number})
    session.commit()
    without_guards(session)
    entries = session.query(AuditLogEntry).order_by(AuditLogEntry.position).all()
    prev = entries[1].prev_hash
    for entry in entries[1:]:  # rewrite entry 2, re-chain 2 and 3 with a guessed key
        if entry is entries[1]:
            entry.after_json = '{"n": 1000}'
        entry.prev_hash = prev
        entry.entry_hash = hashchain.entry_hash(b"guessed", entry.position, prev, entry.payload())
        prev = entry.entry_hash
    session.execute(text("UPDATE audit_log_head SET hash = :h"), {"h": prev})
    session.commit()
    problem = verify_chain(session).problems[0]
    assert (problem.position, problem.kind) == (2, "content")


def test_a_deleted_tail_is_reported(client, auditor, session, runner):
    record_change(session, None, "test.change", "thing", 1, {}, {"n": 1})
    session.commit()
    published = current_head(session)
    without_guards(session, head=False)
    session.execute(text("DELETE FROM audit_log_entries WHERE position = :p"), {"p": published.count})
    session.commit()
    # The head row still names the deleted entry ...
    assert "Entries from number 2 on are missing." in client.get("/staff/audit-log").text
    # The database refuses to rewind the head over the gap ...
    rewind = "UPDATE audit_log_head SET count = 1, hash = (SELECT entry_hash FROM audit_log_entries)"
    with pytest.raises(DBAPIError, match="audit log head"):
        session.execute(text(rewind))
    session.rollback()
    # ... and if the owner lifts that guard too, the head published earlier still shows the gap.
    without_guards(session)
    session.execute(
        text("UPDATE audit_log_head SET count = 1, hash = (SELECT entry_hash FROM audit_log_entries)")
    )
    session.commit()
    assert verify_chain(session).intact
    result = runner.invoke(cli, ["audit-log", "verify", "--expect-head", str(published)])
    assert result.exit_code == 1
    assert "audit log entry 2 is missing" in result.output


def test_the_command_verifies_the_whole_log_offline(app, runner, session, make_user):
    make_user("staff@example.org", roles=["staff"])
    head = current_head(session)
    result = runner.invoke(cli, ["audit-log", "verify", "--expect-head", str(head)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"audit log verifies: 1 entries, head {head}"
    bad = runner.invoke(cli, ["audit-log", "verify", "--expect-head", "1:nope"])
    assert bad.exit_code == 1 and "--expect-head" in bad.output
    app.extensions["pb.db"].session_factory.configure(info={audit.AUDIT_KEY_INFO: b"another key"})
    wrong_key = runner.invoke(cli, ["audit-log", "verify"])
    assert wrong_key.exit_code == 1
    assert "audit log entry 1 (row id 1) does not match its keyed hash" in wrong_key.output


def test_each_committed_append_writes_the_head_to_the_application_log(session, caplog):
    caplog.set_level(logging.INFO, logger="pb.audit")
    record_change(session, None, "test.change", "thing", 1, {}, {})
    session.rollback()
    assert not caplog.records
    record_change(session, None, "test.change", "thing", 1, {}, {})
    session.commit()
    assert [record.getMessage() for record in caplog.records] == [f"audit log head {current_head(session)}"]


def test_the_csv_export_follows_the_filters(client, auditor, session):
    record_change(session, None, "test.change", "thing", 1, {"n": 1}, {"n": "=HYPERLINK()"})
    session.commit()
    response = client.get("/staff/audit-log.csv?action=test.change")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["action"] for row in rows] == ["test.change"]
    assert rows[0]["after_json"] == '{"n": "=HYPERLINK()"}' and rows[0]["position"] == "2"
    everything = list(csv.DictReader(io.StringIO(client.get("/staff/audit-log.csv").text)))
    assert [row["action"] for row in everything] == ["test.change", "role.grant"]
    assert client.get("/staff/audit-log.csv?since=nonsense").status_code == 400


def test_the_head_is_public(client, session, make_user):
    make_user("staff@example.org", roles=["staff"])
    head = current_head(session)
    page = client.get("/transparency")
    assert page.status_code == 200 and head.hash in page.text and f"--expect-head {head}" in page.text
    assert 'href="/transparency"' in page.text  # the footer links to it
    french = client.get("/transparency", headers={"Accept-Language": "fr-CA"}).text
    assert "Transparence" in french and head.hash in french


def test_there_is_no_way_to_edit_or_delete_entries(app, client, auditor):
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert sorted(rule.rule for rule in rules) == ["/staff/audit-log", "/staff/audit-log.csv"]
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in rules)
    assert client.post("/staff/audit-log").status_code == 405
    assert client.delete("/staff/audit-log").status_code == 405


def test_the_database_refuses_to_change_an_entry(session, make_user):
    make_user("staff@example.org", roles=["staff"])
    statements = ["UPDATE audit_log_entries SET after_json = '{}'", "DELETE FROM audit_log_entries"]
    if session.bind.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log_entries")
    assert_refused(session, statements, "append-only")
    assert verify_chain(session).head == Head(1, current_head(session).hash)


def test_residents_cannot_read_the_log(client, make_user, log_in):
    log_in(make_user("resident@example.org"))
    assert client.get("/staff/audit-log").status_code == 403
    assert client.get("/staff/audit-log.csv").status_code == 403
