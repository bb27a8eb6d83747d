"""Query budgets: every page that lists cycles runs a constant number of queries, with 2 cycles or 30,
for a visitor and for a signed-in account (loading the account and its roles is one query)."""

from __future__ import annotations

import pytest

ENGLISH = {"Accept-Language": "en-CA"}

# page: (path, role signed in or None, the most queries it may run)
BUDGETS = {
    # Rendered: the cycles' signature, the page of cycles, the next phase change; kept: the signature.
    "home": ("/", None, 3),
    "home, signed in": ("/", "resident", 4),
    "archive": ("/archive", None, 3),
    "archive, signed in": ("/archive", "resident", 4),
    # Rendered: a glance at the cycle (the key's columns and closures, Core), then the cycle with its
    # closures, its districts and categories; kept (the fragment reused): the glance only (see KEPT).
    "cycle": ("/cycles/cycle-0", None, 4),
    "cycle, signed in": ("/cycles/cycle-0", "resident", 5),
    "staff dashboard": ("/staff/", "staff", 2),
    "audit log": ("/staff/audit-log", "staff", 8),  # user, count, page, names, head, checkpoint, new entries
}

# Pages whose content is kept as a fragment: the most queries of a view that reuses it.
KEPT = {
    "home": 1, "home, signed in": 2, "archive": 1, "archive, signed in": 2, "cycle": 1, "cycle, signed in": 2,
}


def add_cycles(make_cycle, start: int, stop: int) -> None:
    """Cycles ``cycle-<n>``: even ones open for proposals, odd ones finished (in the archive)."""
    for number in range(start, stop):
        make_cycle(slug=f"cycle-{number}", phase="proposals" if number % 2 == 0 else "results")


@pytest.mark.parametrize("page", list(BUDGETS))
def test_a_page_runs_the_same_few_queries_with_2_cycles_or_30(
    page, client, make_cycle, make_user, log_in, query_counter
):
    path, role, budget = BUDGETS[page]
    if role is not None:
        log_in(make_user(f"{role}@example.org", roles=[] if role == "resident" else [role]))

    def queries() -> list[str]:
        client.application.extensions["pb.fragments"].clear()  # the worst case: everything rendered
        with query_counter() as statements:
            response = client.get(path, headers=ENGLISH)
        assert response.status_code == 200
        return statements

    def kept() -> list[str]:
        with query_counter() as statements:
            assert client.get(path, headers=ENGLISH).status_code == 200
        return statements

    add_cycles(make_cycle, 0, 2)
    few = queries()
    add_cycles(make_cycle, 2, 30)
    many = queries()
    assert len(many) == len(few), "\n\n".join(many)
    assert len(many) <= budget, "\n\n".join(many)
    again = kept()
    assert len(again) <= KEPT.get(page, budget), "\n\n".join(again)


def test_the_counter_sees_a_query_per_row(app, session, make_cycle, query_counter):
    """The fixture itself: touching a lazy collection of each cycle shows up as one query each."""
    from sqlalchemy import select

    from pb.models import Cycle

    add_cycles(make_cycle, 0, 3)
    session.expunge_all()
    with query_counter() as statements, app.extensions["pb.db"].session_factory() as fresh:
        for cycle in fresh.scalars(select(Cycle)):
            list(cycle.closures)
    assert len(statements) == 4


# page: (path below the cycle, signed in, the most queries it may run)
PROPOSAL_BUDGETS = {
    # a glance at the cycle with its stamp; the cycle with its districts and categories (for filters to
    # check or cards to render); the snapshot of its proposals (pb.services.proposal_index); the page's
    # rows; and for a search, the snapshot's search texts
    "proposal list": ("/proposals", False, 5),
    "proposal list, searched and sorted": ("/proposals?q=path&sort=supported&district=north", False, 6),
    "proposal list, signed in": ("/proposals", True, 6),
    # cycle, proposal with its translation, history with its actors, comments with their replies and authors
    # (not signed in: first a glance at the cycle, under whose stamp the page is kept)
    "proposal page": ("/proposals/{first}", False, 5),
    "proposal page, signed in": ("/proposals/{first}", True, 7),  # and the viewer's support, follow and reports
}


@pytest.mark.parametrize("page", list(PROPOSAL_BUDGETS))
def test_proposal_pages_run_the_same_few_queries_with_2_proposals_or_30(
    page, client, session, make_cycle, make_user, log_in, query_counter
):
    from sqlalchemy import select

    from pb.models import Comment, ProposalStatus
    from pb.services.proposals import add_translation, change_status
    from tests.factories import make_proposal

    path, signed_in, budget = PROPOSAL_BUDGETS[page]
    cycle = make_cycle(slug="lakeview")
    cycle.max_proposals_per_resident = 100
    staff = make_user("staff@example.org", roles=["staff"])
    if signed_in:
        log_in(make_user("visitor@example.org"))
    authors = [make_user(f"author{n}@example.org", display_name=f"Author {n}") for n in range(3)]

    def add(start: int, stop: int) -> None:
        for number in range(start, stop):
            proposal = make_proposal(
                session,
                authors[number % 3],
                cycle,
                title=f"River path {number}",
                district_id=cycle.districts[number % 2].id,
                category_id=cycle.categories[0].id,
                commit=False,
            )
            # History steps by staff, translations, comments and replies make the proposal page load more rows.
            change_status(session, staff, proposal, ProposalStatus.UNDER_REVIEW, proposal.created_at)
            add_translation(session, staff, proposal, "Sentier", "Résumé", "Texte", proposal.created_at)
            first_comment = session.scalar(select(Comment).order_by(Comment.id).limit(1))
            comment = Comment(
                proposal_id=first_comment.proposal_id if first_comment else proposal.id,
                author_id=authors[(number + 1) % 3].id,
                parent_id=first_comment.id if first_comment and number % 2 else None,
                body=f"Comment {number}",
                created_at=proposal.created_at,
            )
            session.add(comment)
            session.flush()
        session.commit()

    def queries(first_id: int) -> list[str]:
        with query_counter() as statements:
            response = client.get(f"/cycles/lakeview{path.format(first=first_id)}", headers=ENGLISH)
        assert response.status_code == 200
        return statements

    add(0, 2)
    from pb.models import Proposal

    first = session.query(Proposal).order_by(Proposal.id).first().id
    few = queries(first)
    add(2, 30)
    client.application.extensions["pb.fragments"].clear()  # the worst case: every card rendered
    client.application.extensions["pb.list_filters"].clear()
    many = queries(first)
    assert len(many) == len(few), "\n\n".join(many)
    assert len(many) <= budget, "\n\n".join(many)
    if page in ("proposal list", "proposal page"):  # kept: the glance at the cycle and its stamp only
        assert len(queries(first)) == 1


# Review pages: (path, the most queries), the same with 2 proposals or 12 (reviewed, assigned,
# merged, on a ballot project).
REVIEW_BUDGETS = {
    # user, cycle, categories, count, page, reviews, assignments with reviewers
    "review queue": ("/review/lakeview", 7),
    # user, cycle, categories, proposal, translations, history, proposal with its review and
    # assignments (3), merged proposals, reviewers to offer
    "review page": ("/review/lakeview/proposals/1", 11),
    # user, cycle, categories, projects, their proposals
    "ballot projects": ("/review/lakeview/projects", 5),
    # user, cycle, categories, feasible proposals, their reviews
    "new ballot project": ("/review/lakeview/projects/new", 5),
    "review cycles": ("/review/", 3),
    # The public page of a proposal reviewed and merged into, as staff see it: its own queries, its
    # review, the merged ones, and the discussion with staff's moderation forms.
    "public proposal page": ("/cycles/lakeview/proposals/1", 11),
}


def add_reviewed_proposals(session, cycle, staff, delegate, count: int) -> None:
    """``count`` proposals: each assigned, reviewed and confirmed; every third on a ballot project,
    every third merged into the first proposal, every third on a budget delegate's draft project."""
    from pb.db import utcnow
    from pb.services import projects, review
    from tests.factories import create_account, make_proposal

    now = utcnow()
    first = None
    for number in range(count):
        author = create_account(session, f"author{number}-{cycle.id}-{now.timestamp()}@example.org")
        proposal = make_proposal(session, author, cycle, now=now)
        first = first or proposal
        review.assign_reviewer(session, staff, proposal, staff, now)
        review.draft_review(
            session, staff, proposal, review.ReviewInput(feasibility="feasible", cost_estimate_cents=100_00), now
        )
        review.confirm_review(session, staff, proposal, now)
        if number % 3 == 1:
            data = projects.ProjectInput("P", "P", "D", "D", 100_00)
            projects.create_project(session, staff, cycle, data, now, [proposal.id])
        elif number % 3 == 2:
            review.merge_proposal(session, staff, proposal, first.id, "Duplicate.", now)
        elif number:
            data = projects.ProjectInput("Draft", "Ébauche", "D", "D", 100_00)
            projects.create_project(session, delegate, cycle, data, now, [proposal.id])
    session.commit()


@pytest.mark.parametrize("page", list(REVIEW_BUDGETS))
def test_a_review_page_runs_the_same_few_queries_with_2_proposals_or_12(
    page, client, session, make_cycle, make_user, log_in, query_counter
):
    path, budget = REVIEW_BUDGETS[page]
    staff = log_in(make_user("staff@example.org", roles=["staff"]))
    delegate = make_user("delegate@example.org", roles=["delegate"])
    cycle = make_cycle(slug="lakeview", phase="proposals")

    def queries() -> list[str]:
        with query_counter() as statements:
            response = client.get(path, headers=ENGLISH)
        assert response.status_code == 200
        return statements

    add_reviewed_proposals(session, cycle, staff, delegate, 2)
    few = queries()
    add_reviewed_proposals(session, cycle, staff, delegate, 10)
    many = queries()
    assert len(many) == len(few), "\n\n".join(many)
    assert len(many) <= budget, "\n\n".join(many)


# who is signed in: the most queries the proposal page may run with its comments, replies and reports
COMMENT_BUDGETS = {None: 7, "resident": 10, "staff": 11}


@pytest.mark.parametrize("role", list(COMMENT_BUDGETS))
def test_a_proposal_page_runs_the_same_queries_with_2_comments_or_30(
    role, client, session, make_cycle, make_user, log_in, query_counter
):
    """Comments with their replies and authors are loaded at once, whatever their number."""
    from pb.db import utcnow
    from pb.services import deliberation, moderation
    from tests.factories import make_proposal

    cycle = make_cycle(slug="lakeview")
    cycle.deliberation_during_proposals = True
    staff = make_user("staff@example.org", roles=["staff"])
    proposal = make_proposal(session, make_user("author@example.org"), cycle)
    viewer = {None: None, "resident": make_user("visitor@example.org"), "staff": staff}[role]
    if viewer is not None:
        log_in(viewer)
    people = [make_user(f"person{n}@example.org", display_name=f"Person {n}") for n in range(4)]

    def add(start: int, stop: int) -> None:
        now = utcnow()
        for number in range(start, stop):
            person = people[number % 4]
            comment = deliberation.add_comment(session, person, proposal, f"Comment {number}", "en", now)
            deliberation.add_comment(session, people[(number + 1) % 4], proposal, "A reply", "fr", now, parent=comment)
            deliberation.flag_comment(session, people[(number + 2) % 4], comment, "Rude", now)
            if number % 5 == 1:
                moderation.hide_comment(session, staff, comment, "Insults", now)
        session.commit()

    def queries() -> list[str]:
        with query_counter() as statements:
            response = client.get(f"/cycles/lakeview/proposals/{proposal.id}", headers=ENGLISH)
        assert response.status_code == 200
        return statements

    add(0, 2)
    few = queries()
    add(2, 30)
    many = queries()
    assert len(many) == len(few), "\n\n".join(many)
    assert len(many) <= COMMENT_BUDGETS[role], "\n\n".join(many)


# The staff pages of a vote: (path below /staff/voting/vote-cycle, the most statements), the same with
# 2 batches, confirmed voters and ballots or 8 of each. Each counts BEGIN (SQLite), the user, the cycle
# and its categories first.
VOTER_BUDGETS = {
    # and the log head, its entries (verified), hours, batches, accounts per day, confirmations,
    # participation, (the transitions due)
    "integrity dashboard": ("", 12),
    "voter codes": ("/codes", 5),  # and the batches with their use
    "confirmed voters": ("/voters", 5),  # and the voters with their accounts, districts and confirmers
    "confirmed voters, an account found": ("/voters?email=voter0-0@example.org", 6),  # and the account
    "void a ballot": ("/void-ballot", 4),
    "close voting": ("/close", 5),  # and the log head
    "void a batch": ("/codes/1/void", 5),  # and the batch
    "revoke a voter": ("/voters/1/revoke", 5),  # and the confirmation with its account
}


@pytest.mark.parametrize("page", list(VOTER_BUDGETS))
def test_a_staff_voting_page_runs_the_same_few_queries_with_2_voters_or_8(
    page, app, client, session, make_user, log_in, query_counter
):
    from pb.db import utcnow
    from pb.models import EligibilityBasis
    from pb.services import eligibility, voting
    from pb.services.ballot_rules import RawChoices
    from tests.factories import create_account, make_voting_cycle

    path, budget = VOTER_BUDGETS[page]
    staff = make_user("staff@example.org", roles=["staff"])
    cycle, projects, during = make_voting_cycle(session, staff, now=utcnow(), ballot_type="approval")
    app.extensions["pb.clock"] = lambda: during
    log_in(staff)

    def add(start: int, stop: int) -> None:
        for number in range(start, stop):
            batch = eligibility.create_code_batch(session, staff, cycle, 2, cycle.districts[number % 2].id, "", during)
            voter = eligibility.code_voter(session, cycle, batch.codes[0])
            choice = RawChoices(selected=(str(projects[2].id),))
            voting.cast_ballot(session, cycle, voter, choice, voting.new_nonce(), during)
            user = create_account(session, f"voter0-{number}@example.org")
            eligibility.confirm_voter(
                session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[0].id,
                note="Lease", birth_date=None, citizen=True, now=during,
            )
            voting.cast_ballot(session, cycle, eligibility.account_voter(session, cycle, user), choice, voting.new_nonce(), during)
        session.commit()

    def queries() -> list[str]:
        with query_counter() as statements:
            response = client.get(f"/staff/voting/vote-cycle{path}", headers=ENGLISH)
        assert response.status_code == 200
        return statements

    add(0, 2)
    few = queries()
    add(2, 8)
    many = queries()
    assert len(many) == len(few), "\n\n".join(many)
    assert len(many) <= budget, "\n\n".join(many)
