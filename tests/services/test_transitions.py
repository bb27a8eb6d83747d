"""Phase changes are recorded events: each phase a cycle enters is recorded once, with its callbacks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from pb.ballot import BallotConfig
from pb.db import make_engine, make_session_factory
from pb.models import Cycle, Phase, PhaseTransition
from pb.services import transitions
from pb.services.cycles import CycleSettings, update_cycle
from pb.services.transitions import advance, advance_due, advance_if_due, due_phase, frozen_ballot_config
from tests.factories import make_cycle

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# make_cycle(phase="proposals") at NOW: proposals began 5 days ago, review in 5 days, voting in 15,
# results in 25.
REVIEW, VOTING, RESULTS = NOW + 5 * DAY, NOW + 15 * DAY, NOW + 25 * DAY


def recorded(session, cycle) -> list[tuple[Phase, datetime, datetime]]:
    rows = session.scalars(
        select(PhaseTransition).where(PhaseTransition.cycle_id == cycle.id).order_by(PhaseTransition.at)
    )
    return [(row.phase, row.at, row.recorded_at) for row in rows]


@pytest.fixture
def entered(monkeypatch):
    """Every (cycle id, phase) for which the callbacks ran, in order."""
    calls: list[tuple[int, Phase]] = []
    lock = threading.Lock()

    def note(session, cycle, transition, now):
        with lock:
            calls.append((cycle.id, transition.phase))

    for phase in Phase:
        monkeypatch.setitem(transitions.ON_ENTER, phase, [*transitions.ON_ENTER[phase], note])
    return calls


def test_creating_a_cycle_records_the_phases_already_begun(session, entered):
    cycle = make_cycle(session, now=NOW, phase="review")
    assert [(phase, at) for phase, at, _recorded in recorded(session, cycle)] == [
        (Phase.PROPOSALS, cycle.proposals_start_at),
        (Phase.REVIEW, cycle.review_start_at),
    ]
    assert cycle.entered_phase is Phase.REVIEW
    assert entered == [(cycle.id, Phase.PROPOSALS), (cycle.id, Phase.REVIEW)]


def test_advance_records_each_transition_once(session, entered):
    cycle = make_cycle(session, now=NOW)
    entered.clear()
    assert due_phase(cycle, NOW) is None
    assert advance(session, cycle, NOW) == []
    assert due_phase(cycle, REVIEW + DAY) is Phase.REVIEW
    new = advance(session, cycle, REVIEW + DAY)
    assert [(t.phase, t.at, t.recorded_at) for t in new] == [(Phase.REVIEW, REVIEW, REVIEW + DAY)]
    assert advance(session, cycle, REVIEW + 2 * DAY) == []
    # A worker that was away: every phase begun since is recorded, in order, at its scheduled start.
    late = advance(session, cycle, RESULTS + DAY)
    assert [(t.phase, t.at) for t in late] == [(Phase.VOTING, VOTING), (Phase.RESULTS, RESULTS)]
    session.commit()
    assert [phase for phase, _at, _rec in recorded(session, cycle)] == list(Phase)
    assert entered == [(cycle.id, Phase.REVIEW), (cycle.id, Phase.VOTING), (cycle.id, Phase.RESULTS)]
    assert advance(session, cycle, RESULTS + 9 * DAY) == [] and due_phase(cycle, RESULTS + 9 * DAY) is None


def test_closing_a_phase_early_does_not_start_the_next_one(session):
    from pb.services.cycles import close_phase

    cycle = make_cycle(session, now=NOW)
    close_phase(session, None, cycle, "Enough ideas", now=NOW + DAY)
    assert advance(session, cycle, NOW + 2 * DAY) == []
    assert cycle.entered_phase is Phase.PROPOSALS


def test_recording_a_transition_does_not_make_an_open_edit_stale(session):
    cycle = make_cycle(session, now=NOW)
    version, updated_at = cycle.version, cycle.updated_at
    advance(session, cycle, REVIEW)
    session.commit()
    session.refresh(cycle)
    assert (cycle.version, cycle.updated_at, cycle.entered_phase) == (version, updated_at, Phase.REVIEW)
    settings = CycleSettings.from_cycle(cycle).with_changes(name_en="Renamed")
    assert update_cycle(session, None, cycle, settings, now=REVIEW, expected_version=version)


def test_voting_opening_freezes_the_ballot_configuration(session):
    cycle = make_cycle(session, now=NOW, max_projects=3, tally_rule="mes", seed=99)
    assert frozen_ballot_config(session, cycle) is None
    advance(session, cycle, VOTING)
    frozen = frozen_ballot_config(session, cycle)
    assert (
        frozen == cycle.ballot_config() == BallotConfig(max_projects=3, tally_rule="mes", tie_break_seed=99)
    )
    row = session.scalar(select(PhaseTransition).where(PhaseTransition.phase == Phase.VOTING))
    assert row.ballot_config == frozen.to_json()
    # Only the voting transition carries it.
    assert {t.phase: t.ballot_config is None for t in advance(session, cycle, RESULTS)} == {
        Phase.RESULTS: True
    }


def test_advance_if_due_runs_no_query_when_nothing_is_due(app, session, query_counter):
    cycle = make_cycle(session, now=NOW)
    with query_counter() as statements:
        assert advance_if_due(session, cycle, NOW + DAY) == []
    assert statements == []
    assert [t.phase for t in advance_if_due(session, cycle, REVIEW)] == [Phase.REVIEW]


def test_the_worker_round_advances_every_cycle(app, session):
    cycles = [make_cycle(session, now=NOW, slug=f"cycle-{n}", phase=phase) for n, phase in enumerate(Phase)]
    factory = app.extensions["pb.db"].session_factory
    assert advance_due(factory, NOW) == 0
    assert advance_due(factory, NOW + 11 * DAY) == 3  # each cycle entered the next phase; results stays
    assert advance_due(factory, NOW + 11 * DAY) == 0
    session.expire_all()
    assert [session.get(Cycle, c.id).entered_phase for c in cycles] == [
        Phase.REVIEW,
        Phase.VOTING,
        Phase.RESULTS,
        Phase.RESULTS,
    ]


def test_the_worker_command_records_transitions(app, session, runner):
    make_cycle(session, phase=None)  # its first phase starts in 5 days
    from pb.commands import worker

    result = runner.invoke(worker, ["--once"])
    assert result.exit_code == 0, result.output
    assert "phase transitions recorded 0" in result.output


def test_simultaneous_advances_record_each_transition_once(app, session, entered, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; the row lock is PostgreSQL's")
    cycle = make_cycle(session, now=NOW)
    entered.clear()
    engine = make_engine(app.config["DATABASE_URL"], poolclass=NullPool)
    factory = make_session_factory(engine)
    callers = 8
    start = threading.Barrier(callers, timeout=60)
    outcomes: list[BaseException | int] = [0] * callers

    def call(index: int) -> None:
        with factory() as db:
            try:
                mine = db.get(Cycle, cycle.id)
                start.wait()
                outcomes[index] = len(advance(db, mine, RESULTS + DAY))
                db.commit()
            except BaseException as error:  # noqa: BLE001 (reported by the test)
                db.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    engine.dispose()
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sorted(outcomes) == [0] * (callers - 1) + [3]  # one caller recorded review, voting, results
    session.expire_all()
    assert [phase for phase, _at, _rec in recorded(session, cycle)] == list(Phase)
    assert entered == [(cycle.id, Phase.REVIEW), (cycle.id, Phase.VOTING), (cycle.id, Phase.RESULTS)]
