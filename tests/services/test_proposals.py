"""The proposal services: submission rules, phases, limits, history, translations, search and order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.db import utcnow
from pb.models import AuditLogEntry, ProposalStatus
from pb.services import proposals as service
from pb.services.errors import DomainError
from tests.factories import make_cycle, make_proposal, proposal_input


@pytest.fixture
def now():
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def cycle(session, now):
    return make_cycle(session, now=now, phase="proposals")


def test_a_draft_is_only_its_authors_until_submitted(session, cycle, author, now):
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    assert draft.status is ProposalStatus.DRAFT and draft.submitted_at is None and draft.history == []
    service.submit_proposal(session, author, draft, now)
    assert draft.status is ProposalStatus.SUBMITTED and draft.submitted_at == now
    assert [(s.from_status, s.to_status) for s in draft.history] == [(ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)]


def test_submitting_needs_a_confirmed_address(session, cycle, make_user, now):
    unconfirmed = make_user("new@example.org", confirmed=False)
    with pytest.raises(DomainError, match="Confirm your e-mail"):
        service.create_proposal(session, unconfirmed, cycle, proposal_input(), now, submit=True)


@pytest.mark.parametrize("phase", [None, "review", "voting", "results"])
def test_submitting_outside_the_proposal_phase_is_refused(session, make_user, now, phase):
    cycle = make_cycle(session, now=now, phase=phase)
    author = make_user("a@example.org")
    with pytest.raises(DomainError, match="not open yet|is over"):
        service.create_proposal(session, author, cycle, proposal_input(), now, submit=True)
    assert session.scalar(select(func.count()).select_from(service.Proposal)) == 0


def test_required_fields_and_foreign_choices_are_refused_per_field(session, cycle, author, make_cycle_other, now):
    other_cycle = make_cycle_other
    with pytest.raises(DomainError) as caught:
        service.create_proposal(
            session,
            author,
            cycle,
            proposal_input(
                title="  ",
                summary="",
                description="",
                language="de",
                category_id=other_cycle.categories[0].id,
                district_id=other_cycle.districts[0].id,
                latitude=95.0,
                estimated_cost_cents=0,
            ),
            now,
            submit=True,
        )
    assert set(caught.value.errors) == {
        "title", "summary", "description", "language", "category", "district", "latitude", "estimated_cost"
    }


@pytest.fixture
def make_cycle_other(session, now):
    return make_cycle(session, now=now, slug="other-cycle")


def test_city_wide_proposals_only_when_the_cycle_allows_them(session, cycle, author, now):
    cycle.allow_citywide_proposals = False
    session.commit()
    with pytest.raises(DomainError) as caught:
        service.create_proposal(session, author, cycle, proposal_input(district_id=None), now, submit=True)
    assert "district" in caught.value.errors
    proposal = make_proposal(session, author, cycle, now=now, district_id=cycle.districts[1].id)
    assert proposal.district.name_en == "South"


def test_the_per_resident_limit_counts_drafts_but_not_withdrawn_proposals(session, cycle, author, now):
    cycle.max_proposals_per_resident = 2
    session.commit()
    first = make_proposal(session, author, cycle, now=now)
    make_proposal(session, author, cycle, now=now, submit=False)
    with pytest.raises(DomainError, match="limit of 2 proposals"):
        make_proposal(session, author, cycle, now=now)
    service.withdraw_proposal(session, author, first, now)
    assert first.status is ProposalStatus.WITHDRAWN
    make_proposal(session, author, cycle, now=now)


def test_only_the_author_edits_and_only_while_submission_is_open(session, cycle, author, make_user, now):
    proposal = make_proposal(session, author, cycle, now=now)
    other = make_user("other@example.org")
    with pytest.raises(DomainError, match="Only the author"):
        service.update_proposal(session, other, proposal, proposal_input(title="Taken over"), now)
    service.update_proposal(session, author, proposal, proposal_input(title="Brighter path"), now)
    assert proposal.title == "Brighter path"
    later = cycle.proposals_end_at + timedelta(minutes=1)
    with pytest.raises(DomainError, match="is over"):
        service.update_proposal(session, author, proposal, proposal_input(title="Too late"), later)
    assert proposal.title == "Brighter path"


def test_a_stale_edit_is_refused(session, cycle, author, now):
    proposal = make_proposal(session, author, cycle, now=now)
    opened = proposal.version
    service.update_proposal(session, author, proposal, proposal_input(title="First"), now, expected_version=opened)
    session.commit()
    with pytest.raises(DomainError, match="changed this proposal"):
        service.update_proposal(session, author, proposal, proposal_input(title="Second"), now, expected_version=opened)


def test_a_proposal_under_review_is_no_longer_editable(session, cycle, author, make_user, now):
    staff = make_user("staff@example.org", roles=["staff"])
    proposal = make_proposal(session, author, cycle, now=now)
    service.change_status(session, staff, proposal, ProposalStatus.UNDER_REVIEW, now)
    with pytest.raises(DomainError, match="can no longer be changed"):
        service.update_proposal(session, author, proposal, proposal_input(title="Changed"), now)
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.action == "proposal.status_changed"


def test_withdrawing_a_draft_deletes_it(session, cycle, author, now):
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    service.withdraw_proposal(session, author, draft, now)
    session.commit()
    assert session.scalar(select(func.count()).select_from(service.Proposal)) == 0


def test_a_photo_needs_alt_text(session, cycle, author, now):
    proposal = make_proposal(session, author, cycle, now=now)
    with pytest.raises(DomainError) as caught:
        service.update_proposal(session, author, proposal, proposal_input(photo_name="a" * 64 + ".jpg"), now)
    assert "photo_alt" in caught.value.errors
    photo = proposal_input(photo_name="a" * 64 + ".jpg", photo_alt=" The dark path at night ")
    service.update_proposal(session, author, proposal, photo, now)
    assert proposal.photo_alt == "The dark path at night"
    service.update_proposal(session, author, proposal, proposal_input(photo_alt="left over"), now)
    assert proposal.photo_name is None and proposal.photo_alt == ""


def test_staff_add_a_translation_that_search_finds(session, cycle, author, make_user, now):
    staff = make_user("staff@example.org", roles=["staff"])
    proposal = make_proposal(session, author, cycle, now=now)
    with pytest.raises(DomainError, match="Only staff"):
        service.add_translation(session, author, proposal, "Titre", "Résumé", "Texte", now)
    service.add_translation(
        session, staff, proposal, "Éclairage du sentier", "Des lumières plus chaudes.", "Le sentier est sombre.", now
    )
    session.commit()
    assert proposal.translation("fr").title == "Éclairage du sentier"
    page = _search(session, cycle, "eclairage")
    assert [p.id for p in page.items] == [proposal.id]


def _search(session, cycle, query, viewer=None, **filters):
    return service.list_proposals(
        session, cycle, viewer, service.ProposalFilters(query=query, **filters), number=1, per_page=20, seed=7
    )


def test_search_ignores_case_and_accents_both_ways(session, cycle, author, now):
    accented = make_proposal(session, author, cycle, now=now, title="Sécurité près de l’école")
    plain = make_proposal(session, author, cycle, now=now, title="Crossing guard", summary="SECURITE for kids")
    make_proposal(session, author, cycle, now=now, title="Unrelated")
    assert {p.id for p in _search(session, cycle, "securite").items} == {accented.id, plain.id}
    assert {p.id for p in _search(session, cycle, "SÉCURITÉ école").items} == {accented.id}
    assert _search(session, cycle, "100%_").total == 0  # wildcards are literal


def test_lists_show_public_proposals_and_the_viewers_drafts_only_in_mine(session, cycle, author, now):
    public = make_proposal(session, author, cycle, now=now)
    draft = make_proposal(session, author, cycle, now=now, submit=False)
    assert [p.id for p in _search(session, cycle, "").items] == [public.id]
    mine = _search(session, cycle, "", viewer=author, mine=True)
    assert {p.id for p in mine.items} == {public.id, draft.id}


def test_filters_by_district_category_and_status(session, cycle, author, make_user, now):
    staff = make_user("staff@example.org", roles=["staff"])
    north = make_proposal(session, author, cycle, now=now, district_id=cycle.districts[0].id,
                          category_id=cycle.categories[0].id)
    citywide = make_proposal(session, author, cycle, now=now)
    service.change_status(session, staff, citywide, ProposalStatus.FEASIBLE, now)
    session.commit()
    assert [p.id for p in _search(session, cycle, "", district="north").items] == [north.id]
    assert [p.id for p in _search(session, cycle, "", district="citywide").items] == [citywide.id]
    assert [p.id for p in _search(session, cycle, "", category="youth-programs").items] == [north.id]
    assert [p.id for p in _search(session, cycle, "", status="feasible").items] == [citywide.id]
    assert _search(session, cycle, "", district="nowhere").total == 0


def test_random_order_is_stable_per_seed_and_differs_between_seeds(session, cycle, make_user, now):
    cycle.max_proposals_per_resident = 30
    session.commit()
    author = make_user("prolific@example.org")
    for number in range(30):
        make_proposal(session, author, cycle, now=now, title=f"Idea {number}", commit=False)
    session.commit()

    def order(seed):
        page = service.list_proposals(
            session, cycle, None, service.ProposalFilters(), number=1, per_page=30, seed=seed
        )
        return [p.id for p in page.items]

    assert order(11) == order(11)
    assert sorted(order(11)) == sorted(order(12))
    assert len({tuple(order(seed)) for seed in (11, 12, 13, 999_999)}) == 4
    assert order(11) != sorted(order(11))


def test_pages_past_the_last_are_none(session, cycle, author, now):
    make_proposal(session, author, cycle, now=now)
    assert service.list_proposals(session, cycle, None, service.ProposalFilters(), number=2, per_page=1, seed=1) is None


@pytest.mark.parametrize("sort", service.SORTS)
def test_pages_cut_the_whole_list_once_in_every_order(session, cycle, make_user, now, sort):
    """The page is cut on ids first, then its rows are loaded: each proposal shows on exactly one page,
    in the order of the sort, and every page knows the total."""
    from pb.services.deliberation import bump_counter

    cycle.max_proposals_per_resident = 30
    session.commit()
    author = make_user("prolific@example.org")
    made = [make_proposal(session, author, cycle, now=now, title=f"Idea {n}", commit=False) for n in range(7)]
    for number, proposal in enumerate(made):
        bump_counter(session, proposal, "support_count", number % 3)
        bump_counter(session, proposal, "comment_count", (number * 2) % 5)
    session.commit()

    def page(number):
        return service.list_proposals(
            session, cycle, None, service.ProposalFilters(sort=sort), number=number, per_page=3, seed=5
        )

    pages = [page(number) for number in (1, 2, 3)]
    assert page(4) is None
    assert [p.total for p in pages] == [7, 7, 7] and [len(p.items) for p in pages] == [3, 3, 1]
    listed = [proposal for p in pages for proposal in p.items]
    assert sorted(p.id for p in listed) == sorted(p.id for p in made)
    whole = service.list_proposals(
        session, cycle, None, service.ProposalFilters(sort=sort), number=1, per_page=10, seed=5
    ).items
    assert [p.id for p in listed] == [p.id for p in whole]
    if sort == "supported":
        assert [p.support_count for p in listed] == sorted((p.support_count for p in listed), reverse=True)
    if sort == "commented":
        assert [p.comment_count for p in listed] == sorted((p.comment_count for p in listed), reverse=True)


def test_an_empty_list_has_one_empty_page(session, cycle):
    page = service.list_proposals(session, cycle, None, service.ProposalFilters(), number=1, per_page=20, seed=1)
    assert page.items == [] and page.total == 0 and page.pages == 1
