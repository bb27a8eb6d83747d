"""The audit log under concurrency, and the PostgreSQL runtime role that cannot rewrite it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from pb.db import make_engine, make_session_factory, utcnow
from pb.models import AuditLogEntry, Cycle
from pb.services.audit import verify_chain
from pb.services.cycles import CycleSettings, update_cycle
from pb.services.errors import DomainError
from tests.factories import database_role, make_cycle


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; concurrency and roles are PostgreSQL's")


def edit_at_once(app, edits: list[tuple[int, int | None, str]]) -> list[BaseException | str]:
    """Run each (cycle id, expected version, new English name) in its own thread and connection."""
    # One connection per editor, as separate worker processes would have (the app's pool holds 15).
    engine = make_engine(app.config["DATABASE_URL"], poolclass=NullPool)
    factory = make_session_factory(engine)
    factory.configure(info=dict(app.extensions["pb.db"].session_factory.kw["info"]))
    start = threading.Barrier(len(edits), timeout=60)
    outcomes: list[BaseException | str] = [""] * len(edits)

    def edit(index: int, cycle_id: int, version: int | None, name: str) -> None:
        with factory() as db:
            try:
                cycle = db.get(Cycle, cycle_id)
                settings = CycleSettings.from_cycle(cycle).with_changes(name_en=name)
                start.wait()
                update_cycle(db, None, cycle, settings, now=utcnow(), expected_version=version)
                db.commit()
                outcomes[index] = "saved"
            except BaseException as error:  # noqa: BLE001 (reported by the test)
                db.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=edit, args=(i, *e)) for i, e in enumerate(edits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    engine.dispose()
    return outcomes


def test_simultaneous_edits_of_different_cycles_all_land_on_one_chain(app, session, postgres_only):
    now = utcnow() - timedelta(days=1)
    cycles = [make_cycle(session, None, now=now, slug=f"cycle-{number}") for number in range(20)]
    outcomes = edit_at_once(app, [(cycle.id, cycle.version, f"Renamed {cycle.id}") for cycle in cycles])
    assert outcomes == ["saved"] * 20
    session.expire_all()
    check = verify_chain(session)
    assert check.intact and check.head.count == 40
    updates = session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "cycle.update")).all()
    assert sorted(json.loads(e.after_json)["name_en"] for e in updates) == sorted(
        f"Renamed {c.id}" for c in cycles
    )


def test_simultaneous_edits_of_one_cycle_keep_every_before_true(app, session, postgres_only):
    cycle = make_cycle(session, None, now=utcnow() - timedelta(days=1))
    for round_number in range(2):
        session.expire_all()
        version = session.get(Cycle, cycle.id).version
        # Half the editors opened the page at the same version, half sent no version at all.
        edits = [(cycle.id, version if n % 2 else None, f"Name {round_number}-{n}") for n in range(10)]
        outcomes = edit_at_once(app, edits)
        assert outcomes.count("saved") >= 1
        refused = [outcome for outcome in outcomes if outcome != "saved"]
        assert all(isinstance(outcome, DomainError) for outcome in refused), refused
        assert all("Someone changed this cycle" in str(outcome) for outcome in refused)
    session.expire_all()
    assert verify_chain(session).intact
    updates = session.scalars(
        select(AuditLogEntry).where(AuditLogEntry.action == "cycle.update").order_by(AuditLogEntry.position)
    ).all()
    names = ["Test cycle"] + [json.loads(entry.after_json)["name_en"] for entry in updates]
    for previous, entry in zip(names, updates, strict=False):
        assert json.loads(entry.before_json)["name_en"] == previous
    assert session.get(Cycle, cycle.id).name_en == names[-1]


def test_the_runtime_role_can_only_read_and_append(app, session, postgres_only, make_user):
    make_user("staff@example.org", roles=["staff"])
    session.commit()
    engine = app.extensions["pb.db"].engine
    with database_role(engine, "SELECT, INSERT ON audit_log_entries") as role:
        attempts = [
            "UPDATE audit_log_entries SET action = 'forged'",
            "DELETE FROM audit_log_entries",
            "TRUNCATE audit_log_entries",
            "ALTER TABLE audit_log_entries DISABLE TRIGGER USER",
            "DROP TRIGGER audit_log_append_only ON audit_log_entries",
        ]
        for statement in attempts:
            with engine.connect() as connection:
                connection.execute(text(f'SET ROLE "{role}"'))
                assert connection.scalar(text("SELECT count(*) FROM audit_log_entries")) == 1
                with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                    connection.execute(text(statement))
                connection.rollback()
                connection.execute(text("RESET ROLE"))
    assert verify_chain(session).intact
