"""Building test data through the services, so tests see what real use produces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from pb.models import Role, User
from pb.services.accounts import create_user, grant_role


def create_account(
    session: Session,
    email: str,
    roles: Iterable[Role | str] = (),
    password: str = "correct horse battery",
    display_name: str = "Test Person",
    locale: str | None = None,
    confirmed: bool = True,
) -> User:
    """An account as an admin or ``pb create-admin`` makes it: its address confirmed unless
    ``confirmed=False`` (as a self-registered account is until its owner follows the link)."""
    from pb.db import utcnow

    confirmed_at = utcnow() if confirmed else None
    user = create_user(session, email, password, display_name, locale, confirmed_at=confirmed_at)
    for role in roles:
        grant_role(session, None, user, Role(role))
    session.commit()
    return user


# --- Budget cycles --------------------------------------------------------------------------------

PHASE_DAYS = 10


def cycle_settings(now=None, *, phase: str | None = "proposals", slug: str = "test-cycle", **overrides):
    """Settings for a valid cycle whose ``phase`` is open at ``now`` (5 days in; each phase lasts 10 days).

    ``phase=None`` gives a cycle whose first phase starts 5 days after ``now``.
    """
    from datetime import timedelta

    from pb.db import utcnow
    from pb.models import Phase
    from pb.services.cycles import CategoryInput, CycleSettings, DistrictInput

    now = (now or utcnow()).replace(second=0, microsecond=0)
    day = timedelta(days=PHASE_DAYS)
    index = -1 if phase is None else list(Phase).index(Phase(phase))
    start = now - timedelta(days=5) - index * day
    values = {
        "slug": slug,
        "name_en": "Test cycle",
        "name_fr": "Cycle d’essai",
        "description_en": "A cycle for tests.",
        "description_fr": "Un cycle pour les essais.",
        "currency": "CAD",
        "timezone": "America/Toronto",
        "budget_cents": 100_000_00,
        "districts": [DistrictInput("North", "Nord"), DistrictInput("South", "Sud")],
        "categories": [CategoryInput("Youth programs", "Programmes jeunesse")],
        "proposals_start_at": start,
        "proposals_end_at": start + day,
        "review_start_at": start + day,
        "review_end_at": start + 2 * day,
        "voting_start_at": start + 2 * day,
        "voting_end_at": start + 3 * day,
        "results_start_at": start + 3 * day,
    }
    return CycleSettings(**values).with_changes(**overrides)


def make_cycle(
    session: Session,
    actor: User | None = None,
    *,
    now=None,
    phase: str | None = "proposals",
    slug: str = "test-cycle",
    seed: int = 1234,
    commit: bool = True,
    **overrides,
):
    """Create a cycle through the service (see :func:`cycle_settings`) and commit it."""
    from pb.db import utcnow
    from pb.services.cycles import create_cycle

    now = now or utcnow()
    settings = cycle_settings(now, phase=phase, slug=slug, **overrides)
    cycle = create_cycle(session, actor, settings, now=now, seed=seed)
    if commit:
        session.commit()
    return cycle


# --- PostgreSQL roles -----------------------------------------------------------------------------


@contextmanager
def database_role(engine, *grants: str) -> Iterator[str]:
    """A PostgreSQL role (no login) holding only ``grants`` ("SELECT, INSERT ON audit_log_entries"); dropped after."""
    import secrets

    from sqlalchemy import text

    role = f"pb_runtime_test_{secrets.token_hex(4)}"
    with engine.begin() as connection:
        schema = connection.scalar(text("SELECT current_schema()"))
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        for grant in grants:
            connection.execute(text(f'GRANT {grant} TO "{role}"'))
    try:
        yield role
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


def assert_refused(session: Session, statements: Iterable[str], match: str) -> None:
    """Each SQL statement is refused by the database (a guard's message matching ``match``)."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for statement in statements:
        with pytest.raises(DBAPIError, match=match):
            session.execute(text(statement))
        session.rollback()


# --- Proposals ------------------------------------------------------------------------------------


def proposal_input(**overrides):
    from pb.services.proposals import ProposalInput

    values = {
        "title": "Better lighting on the river path",
        "summary": "Brighter, warmer lights between the bridge and the community centre.",
        "description": "The path is dark after 5 pm in winter.\n\nPeople walking home avoid it.",
        "language": "en",
    }
    values.update(overrides)
    return ProposalInput(**values)


def make_proposal(session: Session, author: User, cycle, *, now=None, submit: bool = True, commit: bool = True, **overrides):
    """A proposal created through the service by ``author`` (who must have a confirmed address)."""
    from pb.db import utcnow
    from pb.services.proposals import create_proposal

    proposal = create_proposal(session, author, cycle, proposal_input(**overrides), now or utcnow(), submit=submit)
    if commit:
        session.commit()
    return proposal


# --- Voting ---------------------------------------------------------------------------------------

# (title, district index or None for city-wide, cost in dollars)
VOTING_PROJECTS = (
    ("Crisis response team", 0, 40_000),
    ("Youth drop-in evenings", 1, 30_000),
    ("Street lighting", None, 50_000),
    ("Restorative justice circle", 0, 20_000),
)


def make_voting_cycle(session: Session, staff: User, *, now, slug: str = "vote-cycle", projects=VOTING_PROJECTS, **overrides):
    """A cycle with confirmed ballot projects, made during review; returns ``(cycle, projects, during_voting)``.

    ``during_voting`` is a moment one day into voting, whose opening is recorded (slot key, empty log).
    """
    from datetime import timedelta

    from pb.services import projects as project_service
    from pb.services.transitions import advance

    cycle = make_cycle(session, staff, now=now, phase="review", slug=slug, **overrides)
    made = []
    for title, district, dollars in projects:
        made.append(
            project_service.create_project(
                session,
                staff,
                cycle,
                project_service.ProjectInput(
                    title_en=title,
                    title_fr=f"{title} (fr)",
                    description_en=f"About {title}.",
                    description_fr=f"À propos : {title}.",
                    cost_cents=dollars * 100,
                    district_id=cycle.districts[district].id if district is not None else None,
                    category_id=cycle.categories[0].id if cycle.categories else None,
                ),
                now,
            )
        )
    session.commit()
    during = now + timedelta(days=PHASE_DAYS - 5 + 1)
    advance(session, cycle, during)
    session.commit()
    return cycle, made, during


def make_published_vote(session, staff, now, picks, *, revise=True, void=True, **overrides):
    """A closed vote with its result published (see :func:`make_voting_cycle`): one voter per pick
    (project indexes, district index); the first voter votes again (the second ballot counts) when
    ``revise``, and the last one's ballot is voided when ``void``."""
    from datetime import timedelta

    from pb.models import EligibilityBasis
    from pb.services import eligibility, results, voting

    cycle, projects, during = make_voting_cycle(session, staff, now=now, **overrides)
    voters = []
    for number, (chosen, district) in enumerate(picks):
        user = create_account(session, f"voter{number}@example.org")
        eligibility.confirm_voter(
            session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[district].id,
            note="Lease", birth_date=None, citizen=True, now=during,
        )
        voter = eligibility.account_voter(session, cycle, user)
        voters.append(voter)
        voting.cast_ballot(session, cycle, voter, raw_choices(cycle, projects, chosen), voting.new_nonce(), during)
    if revise:
        voting.cast_ballot(session, cycle, voters[0], raw_choices(cycle, projects, (2,)), voting.new_nonce(), during)
    if void:
        voting.void_ballot(session, staff, cycle, voters[-1], "The code was sold", during)
    session.commit()
    after = cycle.voting_end_at + timedelta(hours=1)
    results.publish_result(session, staff, results.draft_result(session, staff, cycle, after), after)
    session.commit()
    return cycle


def raw_choices(cycle, projects, chosen):
    from pb.services.ballot_rules import RawChoices

    ids = [str(projects[i].id) for i in chosen]
    if cycle.ballot_type == "ranked":
        return RawChoices(ranks={pid: str(rank) for rank, pid in enumerate(ids, 1)})
    if cycle.ballot_type == "cumulative":
        return RawChoices(points={pid: str(rank) for rank, pid in enumerate(ids, 1)})
    return RawChoices(selected=tuple(ids))


# (project indexes of VOTING_PROJECTS, district index): north voters see 0, 2, 3; south voters 1, 2.
PICKS = [((0, 2), 0), ((2,), 0), ((0, 3), 0), ((1, 2), 1), ((1,), 1), ((2,), 1), ((3,), 0)]


def cast_votes(session: Session, staff: User, cycle, picks, during, *, district: int = 0, prefix: str = "voter") -> None:
    """One confirmed account per entry of ``picks`` casts a ballot, in district ``district``; committed.

    An entry is the projects chosen (approval-like ballots) or a :class:`~pb.services.ballot_rules.RawChoices`.
    """
    from pb.models import EligibilityBasis
    from pb.services import eligibility, voting
    from pb.services.ballot_rules import RawChoices

    for number, chosen in enumerate(picks):
        user = create_account(session, f"{prefix}{number}@example.org")
        eligibility.confirm_voter(
            session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[district].id,
            note="Lease", birth_date=None, citizen=True, now=during,
        )
        voter = eligibility.account_voter(session, cycle, user)
        if not isinstance(chosen, RawChoices):
            chosen = RawChoices(selected=tuple(str(p.id) for p in chosen))
        voting.cast_ballot(session, cycle, voter, chosen, voting.new_nonce(), during)
    session.commit()
