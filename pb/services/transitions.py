"""Phase changes as recorded events: each phase a cycle enters is recorded once, and things happen then.

A cycle's phase follows from its dates and early closures (:meth:`pb.models.Cycle.phase_state`);
:func:`advance` turns each phase start that has come into a :class:`PhaseTransition` row, exactly
once, and runs the callbacks registered for entering that phase (:data:`ON_ENTER`). Entering voting
freezes the ballot configuration (its canonical JSON goes into the transition row); voting will
also create the slot key there, and entering results will destroy it and seal the ballot log.

:func:`advance` is idempotent and safe to call from several processes at once: it holds a row lock
on the cycle (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a write to the row, since SQLite
has one writer at a time), and the unique (cycle, phase) constraint backs it. The worker calls
:func:`advance_due` every round; a page that shows a cycle calls :func:`advance_if_due`, which
costs nothing unless a transition is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from pb.ballot import BallotConfig
from pb.models import Cycle, Phase, PhaseTransition

log = logging.getLogger(__name__)

# What happens when a cycle enters a phase: ``callback(session, cycle, transition, now)``, in order,
# in the transaction that records the transition (an error undoes the transition too).
Callback = Callable[[Session, Cycle, PhaseTransition, datetime], None]


def freeze_ballot_config(session: Session, cycle: Cycle, transition: PhaseTransition, now: datetime) -> None:
    """Keep the ballot configuration that voting opened with (the election record's manifest)."""
    transition.ballot_config = cycle.ballot_config().to_json()


ON_ENTER: dict[Phase, list[Callback]] = {
    Phase.PROPOSALS: [],
    Phase.REVIEW: [],
    Phase.VOTING: [freeze_ballot_config],  # later: create the slot key, open the ballot log
    Phase.RESULTS: [],  # later: destroy the slot key, seal the ballot log
}


def due_phase(cycle: Cycle, now: datetime) -> Phase | None:
    """The latest phase that has started by ``now`` if its start is not recorded yet, else ``None``.

    Reads only the loaded cycle (no query), so a page can afford it on every view.
    """
    started = cycle.phase_state(now).last_started
    return started if started is not None and started != cycle.entered_phase else None


def advance(session: Session, cycle: Cycle, now: datetime) -> list[PhaseTransition]:
    """Record every phase of ``cycle`` that has started by ``now`` and is not recorded yet, in order,
    running :data:`ON_ENTER`'s callbacks for each; returns the new transitions (flushed, not committed).

    Calling it again, or from another process at the same time, records nothing twice.
    """
    _lock(session, cycle)
    recorded = set(session.scalars(select(PhaseTransition.phase).where(PhaseTransition.cycle_id == cycle.id)))
    new: list[PhaseTransition] = []
    for window in cycle.timeline():
        if window.starts_at > now:
            break
        if window.phase in recorded:
            continue
        transition = PhaseTransition(
            cycle_id=cycle.id, phase=window.phase, at=window.starts_at, recorded_at=now
        )
        session.add(transition)
        session.flush()
        for callback in ON_ENTER[window.phase]:
            callback(session, cycle, transition, now)
        new.append(transition)
        log.info("cycle %s entered %s (recorded %s)", cycle.slug, window.phase.value, now.isoformat())
    entered = max(recorded | {t.phase for t in new}, key=list(Phase).index, default=None)
    if entered != cycle.entered_phase:
        # Not a change of the cycle's settings: neither its version nor its update time moves.
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle.id)
            .values(entered_phase=entered, version=Cycle.version, updated_at=Cycle.updated_at)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(cycle, "entered_phase", entered)
    session.flush()
    return new


def _lock(session: Session, cycle: Cycle) -> None:
    """Hold the cycle's row until the transaction ends, so one caller at a time records transitions."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE; a write takes the database's one write lock (others wait).
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle.id)
            .values(entered_phase=Cycle.entered_phase, version=Cycle.version, updated_at=Cycle.updated_at)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())


def advance_if_due(session: Session, cycle: Cycle, now: datetime) -> list[PhaseTransition]:
    """:func:`advance`, only when the loaded cycle shows a transition is due (for pages: no query otherwise)."""
    if due_phase(cycle, now) is None:
        return []
    return advance(session, cycle, now)


def advance_due(session_factory: Callable[[], Session], now: datetime) -> int:
    """Record the due transitions of every cycle (the worker's round); each cycle commits on its own.

    Returns how many transitions were recorded.
    """
    with session_factory() as session:
        cycles = session.scalars(select(Cycle).order_by(Cycle.id)).all()
        due = [cycle.id for cycle in cycles if due_phase(cycle, now) is not None]
    recorded = 0
    for cycle_id in due:
        with session_factory() as session, session.begin():
            cycle = session.get(Cycle, cycle_id)
            if cycle is not None:
                recorded += len(advance(session, cycle, now))
    return recorded


def frozen_ballot_config(session: Session, cycle: Cycle) -> BallotConfig | None:
    """The ballot configuration frozen when voting opened (``None`` before that is recorded)."""
    text = session.scalar(
        select(PhaseTransition.ballot_config).where(
            PhaseTransition.cycle_id == cycle.id, PhaseTransition.phase == Phase.VOTING
        )
    )
    return None if text is None else BallotConfig.from_json(text)


# Voting registers its callbacks (open the ballot log and draw the slot key; seal the log and destroy
# the key) when it is imported; importing it here makes sure they are in place wherever transitions run.
import pb.services.voting  # noqa: E402, F401
