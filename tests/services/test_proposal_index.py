"""The proposal stamp (moved by database triggers) and the per-process snapshots of proposal lists."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from pb.models import Comment, Proposal, ProposalStatus, User
from pb.services import deliberation, moderation, review
from pb.services import proposals as service
from pb.services.cycles import cycle_glance
from pb.services.proposal_index import ProposalIndex, Shuffle
from tests.factories import make_cycle, make_proposal, proposal_input


@pytest.fixture
def cycle(cycle, session):
    """The services' cycle open for proposals, with deliberation during submission."""
    cycle.deliberation_during_proposals = True
    cycle.max_proposals_per_resident = 50
    session.commit()
    return cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")


def stamp(session, cycle) -> int:
    session.commit()
    return cycle_glance(session, cycle.slug).proposal_stamp


def test_the_stamp_moves_with_everything_a_proposal_page_shows(session, cycle, author, staff, make_user, now):
    resident = make_user("resident@example.org", display_name="Rémi Resident")
    before = stamp(session, cycle)
    proposal = make_proposal(session, author, cycle, now=now)  # a proposal and its first history step
    steps = [stamp(session, cycle)]

    def moved(label: str) -> None:
        steps.append(stamp(session, cycle))
        assert steps[-1] > steps[-2], label

    service.update_proposal(session, author, proposal, proposal_input(title="A new title"), now)
    moved("an edit")
    deliberation.support_proposal(session, resident, proposal, now)
    moved("a support (the counter)")
    comment = deliberation.add_comment(session, resident, proposal, "Good idea.", "en", now)
    moved("a comment")
    moderation.hide_comment(session, staff, comment, "Off topic.", now)
    moved("a comment hidden")
    service.add_translation(session, staff, proposal, "Titre", "Résumé", "Texte", now)
    moved("a translation")
    service.change_status(session, staff, proposal, ProposalStatus.UNDER_REVIEW, now)
    moved("a status change")
    review.draft_review(session, staff, proposal, review.ReviewInput(feasibility="feasible", public_summary="Yes."), now)
    moved("a review")
    session.execute(update(User).where(User.id == resident.id).values(display_name="Rémi R."))
    moved("the name of a commenter")
    session.execute(update(User).where(User.id == resident.id).values(locale="fr-CA"))
    assert stamp(session, cycle) == steps[-1], "a change that no page shows"
    deliberation.follow_proposal(session, resident, proposal, now)
    assert stamp(session, cycle) == steps[-1], "following shows nowhere"
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    moved("a draft")
    service.withdraw_proposal(session, author, draft, now)  # a draft is deleted
    moved("a draft deleted")
    assert before < steps[0]


def test_a_cycle_with_proposals_can_still_be_deleted(session, cycle, author, now):
    from pb.models import Cycle, ProposalActivity

    make_proposal(session, author, cycle, now=now)
    assert stamp(session, cycle) > 0
    session.delete(session.get(Cycle, cycle.id))
    session.commit()
    assert session.scalar(select(ProposalActivity).where(ProposalActivity.cycle_id == cycle.id)) is None


def test_a_snapshot_is_read_again_only_when_the_stamp_moves(session, cycle, author, now, query_counter):
    for number in range(5):
        make_proposal(session, author, cycle, now=now, title=f"Lighting {number}", description="Sécurité")
    index = ProposalIndex()

    def page(query: str = "", sort: str = "random") -> list[int]:
        glance = cycle_glance(session, cycle.slug)
        found = service.list_proposals(
            session,
            glance,
            None,
            service.ProposalFilters(query=query, sort=sort),
            number=1,
            per_page=20,
            seed=3,
            index=index,
            stamp=glance.proposal_stamp,
        )
        return [key.id for key in found.keys]

    first = page()
    with query_counter() as statements:
        assert page() == first and sorted(page("securite")) == sorted(first)
    assert len(statements) == 3, statements  # the two glances, and the search texts once

    proposal = session.get(Proposal, first[0])
    service.update_proposal(session, author, proposal, proposal_input(title="Benches", description="Parc"), now)
    session.commit()
    with query_counter() as statements:
        assert sorted(page("securite")) == sorted(first[1:])  # the edited text is read again...
    assert len(statements) == 3, statements  # ...alone: the glance, the snapshot, one search text
    assert "search_text" in statements[-1] and "?, ?" not in statements[-1] and "id_1_2" not in statements[-1]


def test_sorted_lists_follow_the_counters(session, cycle, author, make_user, now):
    proposals = [make_proposal(session, author, cycle, now=now, title=f"P{n}") for n in range(3)]
    index = ProposalIndex()

    def supported() -> list[int]:
        glance = cycle_glance(session, cycle.slug)
        found = service.list_proposals(
            session, glance, None, service.ProposalFilters(sort="supported"), number=1, per_page=5, seed=0,
            index=index, stamp=glance.proposal_stamp,
        )
        return [key.id for key in found.keys]

    assert supported() == [p.id for p in reversed(proposals)]  # no supports: the newest id first
    deliberation.support_proposal(session, make_user("r@example.org"), proposals[0], now)
    session.commit()
    assert supported()[0] == proposals[0].id


@given(st.integers(0, 3_000), st.integers(1, 2**31 - 2))
def test_a_shuffle_is_a_permutation(n, seed):
    shuffle = Shuffle(n, seed)
    assert sorted(shuffle(position) for position in range(n)) == list(range(n))


def test_shuffles_differ_between_seeds_and_favour_no_position():
    n, seeds = 40, range(1, 4_001)
    orders = {tuple(Shuffle(n, seed)(p) for p in range(n)) for seed in range(1, 50)}
    assert len(orders) == 49
    first = [0] * n  # how often each proposal is listed first
    for seed in seeds:
        first[Shuffle(n, seed)(0)] += 1
    expected = len(seeds) / n
    assert all(0.5 * expected < count < 1.5 * expected for count in first), first


def test_no_deadlock_over_the_stamp_on_postgresql(app, session, cycle, author, now):
    """One transaction changes a proposal and waits; another changes a second proposal and commits; the
    first then changes the second. With the stamp taken at the first change (not at the commit) this
    deadlocks: each would hold what the other waits for."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    first, second = (make_proposal(session, author, cycle, now=now) for _ in range(2))
    factory = app.extensions["pb.db"].session_factory
    ids = first.id, second.id
    done = threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with factory() as db:
                db.execute(text("SET lock_timeout = '5s'"))
                db.execute(update(Proposal).where(Proposal.id == ids[1]).values(support_count=Proposal.support_count + 1))
                db.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    with factory() as db:
        db.execute(text("SET lock_timeout = '5s'"))
        db.execute(update(Proposal).where(Proposal.id == ids[0]).values(support_count=Proposal.support_count + 1))
        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(10), "the other transaction waited for this one"
        db.execute(update(Proposal).where(Proposal.id == ids[1]).values(support_count=Proposal.support_count + 1))
        db.commit()
    thread.join()
    assert not errors, errors
    session.expire_all()
    assert [session.get(Proposal, i).support_count for i in ids] == [1, 2]
    assert cycle_glance(session, cycle.slug).proposal_stamp >= 4


def test_comments_of_a_deleted_proposal_leave_no_stamp_behind(session, cycle, author, make_user, now):
    proposal = make_proposal(session, author, cycle, now=now)
    deliberation.add_comment(session, make_user("r@example.org"), proposal, "Yes.", "en", now)
    session.commit()
    session.execute(text("DELETE FROM proposals WHERE id = :id"), {"id": proposal.id})
    session.commit()
    assert session.scalar(select(Comment).where(Comment.proposal_id == proposal.id)) is None
    assert stamp(session, cycle) > 0


def test_a_transaction_moves_the_stamp_once_on_postgresql(session, cycle, author, now):
    """However many rows it writes: a bulk load leaves one new version of the counter's row, not one per row."""
    proposals = [make_proposal(session, author, cycle, now=now) for _ in range(5)]
    before = stamp(session, cycle)
    for proposal in proposals:
        session.execute(update(Proposal).where(Proposal.id == proposal.id).values(support_count=7))
    after = stamp(session, cycle)
    if session.get_bind().dialect.name == "postgresql":
        assert after == before + 1
    else:
        assert after > before


def test_a_category_may_be_called_citywide(session, author, now):
    """"citywide" names no district in particular, but it is a category's slug like any other."""
    from pb.services.cycles import CategoryInput

    cycle = make_cycle(session, now=now, phase="proposals", slug="named", categories=[CategoryInput("Citywide", "Ville")])
    citywide = cycle.categories[0]
    assert citywide.slug == "citywide"
    inside = make_proposal(session, author, cycle, now=now, category_id=citywide.id)
    make_proposal(session, author, cycle, now=now)  # no category
    for source in (cycle, cycle_glance(session, cycle.slug)):
        page = service.list_proposals(
            session, source, None, service.ProposalFilters(category="citywide"), number=1, per_page=20, seed=1
        )
        assert [key.id for key in page.keys] == [inside.id]


def test_the_runtime_role_writes_proposals_without_a_grant_on_the_counter(app, session, cycle, author, make_user, now):
    """A login granted the tables it had before the counter existed (as the README's grants give) can still
    write what moves it: the counter's function runs with its owner's rights."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    from tests.factories import database_role

    proposal = make_proposal(session, author, cycle, now=now)
    before = stamp(session, cycle)
    engine = app.extensions["pb.db"].engine
    with engine.connect() as connection:
        tables = connection.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'proposal_activity'")
        ).all()
    grants = [f'SELECT, INSERT, UPDATE, DELETE ON "{table}"' for table in tables]
    with database_role(engine, *grants) as role, engine.connect() as connection:
        connection.execute(text(f'SET ROLE "{role}"'))
        connection.execute(text("UPDATE proposals SET support_count = support_count + 1 WHERE id = :id"), {"id": proposal.id})
        connection.commit()
        connection.execute(text("RESET ROLE"))
        connection.commit()
    assert stamp(session, cycle) == before + 1
