"""Rendered fragments kept per process (pb.fragments): a change to what a fragment shows is a new key,
so no visitor ever sees an old card or another visitor's view of it."""

from __future__ import annotations

import pytest

from pb.db import utcnow
from pb.fragments import FragmentCache
from pb.services import moderation
from pb.services.deliberation import bump_counter
from pb.services.proposals import update_proposal
from tests.factories import make_proposal, proposal_input

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA"}


@pytest.fixture
def cycle(make_cycle):
    return make_cycle(slug="lakeview", phase="proposals")


@pytest.fixture
def author(make_user):
    return make_user("author@example.org", display_name="Ada Author")


def list_page(client, headers=ENGLISH, query="") -> str:
    response = client.get(f"/cycles/lakeview/proposals{query}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_cache_keeps_the_last_entries_and_renders_each_key_once():
    cache = FragmentCache(size=2)
    calls = []

    def render(text):
        def caller():
            calls.append(text)
            return text

        return caller

    assert cache("a", render("<b>A</b>")) == "<b>A</b>"
    assert cache("a", render("other")) == "<b>A</b>" and calls == ["<b>A</b>"]
    cache("b", render("B"))
    cache("c", render("C"))  # "a" was the least recently used
    assert len(cache) == 2
    assert cache("a", render("A again")) == "A again"


def test_an_empty_piece_is_not_kept():
    cache = FragmentCache()
    calls = []
    for _ in range(2):
        assert cache("gone", lambda: calls.append(1) or "  ") == "  "
    assert len(calls) == 2 and len(cache) == 0


def test_a_card_is_never_another_proposals_even_when_the_database_gives_its_id_again(
    client, session, cycle, author
):
    """SQLite may give the id of a deleted row (the newest) to the next one: the card's key names the row
    by its creation time too, so a withdrawn proposal's card never shows for the next one."""
    from pb.models import Proposal

    first = make_proposal(session, author, cycle, title="Withdrawn idea about benches")
    first_id = first.id
    assert "Withdrawn idea about benches" in list_page(client)
    session.delete(first)
    session.commit()
    second = make_proposal(session, author, cycle, title="Lights for the river path")
    page = list_page(client)
    assert "Lights for the river path" in page and "Withdrawn idea about benches" not in page
    assert session.get(Proposal, second.id) is not None and second.id >= first_id


def test_a_kept_piece_holds_from_when_it_was_made_until_its_end():
    from datetime import timedelta

    cache = FragmentCache(size=2)
    now = utcnow()
    cache.keep("list", "<p>A</p>", now=now, until=now + timedelta(hours=1))
    cache.keep("forever", "<p>B</p>", now=now, until=None)
    assert cache.kept("list", now) == "<p>A</p>"
    assert cache.kept("list", now + timedelta(minutes=59)) == "<p>A</p>"
    assert cache.kept("list", now + timedelta(hours=1)) is None  # a phase starts: render again
    assert cache.kept("list", now - timedelta(seconds=1)) is None  # a clock set back: render again
    assert cache.kept("forever", now + timedelta(days=9999)) == "<p>B</p>"
    assert cache.kept("other", now) is None
    cache.keep("third", "C", now=now, until=None)  # "list" was the least recently used
    assert cache.kept("list", now) is None and cache.kept("forever", now) == "<p>B</p>"


def test_the_kept_lists_of_cycles_follow_new_and_removed_cycles(client, session):
    from pb.models import Cycle
    from tests.factories import make_cycle as create

    create(session, slug="first", phase="proposals")
    create(session, slug="done", phase="results")
    assert "/cycles/first" in client.get("/", headers=ENGLISH).text
    assert "/cycles/done" in client.get("/archive", headers=ENGLISH).text
    create(session, slug="second", phase="review")
    assert "/cycles/second" in client.get("/", headers=ENGLISH).text
    third = create(session, slug="third", phase="review")
    assert "/cycles/third" in client.get("/", headers=ENGLISH).text
    session.delete(third)
    session.commit()
    page = client.get("/", headers=ENGLISH).text
    assert "/cycles/third" not in page and "/cycles/second" in page
    session.delete(session.query(Cycle).filter_by(slug="done").one())
    session.commit()
    assert "/cycles/done" not in client.get("/archive", headers=ENGLISH).text


def test_a_card_follows_its_proposal_counters_language_and_cycle(app, client, session, cycle, author):
    proposal = make_proposal(session, author, cycle, title="Lights on the river path")
    assert "Lights on the river path" in list_page(client)

    update_proposal(session, author, proposal, proposal_input(title="Brighter river path"), utcnow())
    session.commit()
    page = list_page(client)
    assert "Brighter river path" in page and "Lights on the river path" not in page

    bump_counter(session, proposal, "support_count", 41)
    session.commit()
    assert "<dd>41</dd>" in list_page(client)

    french = list_page(client, FRENCH)
    assert "<dt>Appuis</dt>" in french and "Supporters" not in french
    assert "<dt>Supporters</dt>" in list_page(client)

    district = cycle.districts[0]
    update_proposal(session, author, proposal, proposal_input(district_id=district.id), utcnow())
    session.commit()
    assert district.name_en in list_page(client)
    assert app.extensions["pb.fragments"]  # the cards were kept


def test_a_hidden_proposal_card_differs_for_its_author_and_the_public(
    client, session, cycle, author, make_user, log_in
):
    proposal = make_proposal(session, author, cycle, summary="The secret summary")
    staff = make_user("staff@example.org", roles=["staff"])
    assert "The secret summary" in list_page(client)
    moderation.hide_proposal(session, staff, proposal, "Personal attacks", utcnow())
    session.commit()
    public = list_page(client)
    assert "Personal attacks" in public and "The secret summary" not in public
    log_in(author)
    assert "The secret summary" in list_page(client)


def test_the_search_form_shows_each_request_its_own_filters(client, session, cycle, author):
    make_proposal(session, author, cycle)
    assert 'value="lights"' in list_page(client, query="?q=lights")
    assert 'value="benches"' in list_page(client, query="?q=benches")
    assert 'value="lights"' not in list_page(client)


def test_a_cycle_page_and_card_follow_edits_closures_and_the_clock(client, session, make_user):
    """Kept pages of a cycle change with its settings (names, districts), an early closure, and the
    phase that the clock has reached."""
    from datetime import timedelta

    from pb.services.cycles import CycleSettings, close_phase, get_cycle, update_cycle
    from tests.factories import make_cycle as create

    cycle = create(session, slug="riverside", phase="proposals")
    admin = make_user("admin@example.org", roles=["admin"])
    assert "Now: Proposal submission" in client.get("/cycles/riverside", headers=ENGLISH).text
    assert "Now: Proposal submission" in client.get("/", headers=ENGLISH).text

    settings = CycleSettings.from_cycle(cycle).with_changes(name_en="Riverside renamed")
    update_cycle(session, admin, cycle, settings, utcnow())
    session.commit()
    assert "<h1>Riverside renamed</h1>" in client.get("/cycles/riverside", headers=ENGLISH).text
    assert "Riverside renamed" in client.get("/", headers=ENGLISH).text

    before_closing = client.get("/cycles/riverside", headers=ENGLISH).text
    close_phase(session, admin, get_cycle(session, "riverside"), "Enough proposals", utcnow())
    session.commit()
    for path in ("/cycles/riverside", "/"):
        assert "Now: Proposal submission" not in client.get(path, headers=ENGLISH).text
    assert client.get("/cycles/riverside", headers=ENGLISH).text != before_closing

    # Later, by the clock alone (no change to the cycle), voting is open.
    clock = client.application.extensions["pb.clock"]
    client.application.extensions["pb.clock"] = lambda: cycle.voting_start_at + timedelta(minutes=1)
    for path in ("/cycles/riverside", "/"):
        assert "Now: Voting" in client.get(path, headers=ENGLISH).text
    client.application.extensions["pb.clock"] = clock


def proposal_page(client, proposal, headers=ENGLISH) -> str:
    response = client.get(f"/cycles/lakeview/proposals/{proposal.id}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_kept_proposal_page_follows_everything_it_shows(client, session, cycle, author, make_user):
    """The page a visitor who is not signed in sees is kept whole; each change below is on the next view."""
    from sqlalchemy import update

    from pb.models import ProposalStatus, User
    from pb.services import deliberation, review
    from pb.services.proposals import add_translation, change_status

    now = utcnow()
    cycle.deliberation_during_proposals = True
    staff = make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")
    resident = make_user("resident@example.org", display_name="Rémi Resident")
    proposal = make_proposal(session, author, cycle, title="Lights for the river path")
    assert "Lights for the river path" in proposal_page(client, proposal)
    assert "Lights for the river path" in proposal_page(client, proposal)  # kept

    def shows(change, *texts, absent=()):
        change()
        session.commit()
        page = proposal_page(client, proposal)
        for text in texts:
            assert text in page, text
        for text in absent:
            assert text not in page, text

    comment = None

    def add_comment():
        nonlocal comment
        comment = deliberation.add_comment(session, resident, proposal, "Please light the bridge too.", "en", now)

    shows(add_comment, "Please light the bridge too.", "Rémi Resident", "1 comment")
    shows(lambda: deliberation.support_proposal(session, resident, proposal, now), "1 person supports this proposal")
    shows(
        lambda: session.execute(update(User).where(User.id == resident.id).values(display_name="R. Resident")),
        "R. Resident",
        absent=["Rémi Resident"],
    )
    shows(
        lambda: moderation.hide_comment(session, staff, comment, "Personal attack.", now),
        "Hidden by moderators: Personal attack.",
        absent=["Please light the bridge too."],
    )
    shows(lambda: add_translation(session, staff, proposal, "Éclairer le sentier", "Résumé", "Texte", now), "Éclairer le sentier")
    shows(
        lambda: update_proposal(session, author, proposal, proposal_input(title="Lamps on the river path"), now),
        "Lamps on the river path",
        absent=["Lights for the river path"],
    )
    shows(lambda: change_status(session, staff, proposal, ProposalStatus.UNDER_REVIEW, now), "Under review")
    def reviewed():
        data = review.ReviewInput(feasibility="feasible", public_summary="Cheap to do.", cost_estimate_cents=500_000)
        review.draft_review(session, staff, proposal, data, now)
        review.confirm_review(session, staff, proposal, now)

    shows(reviewed, "Cheap to do.", "Found feasible.")
    assert "<title>Lamps on the river path" in proposal_page(client, proposal)


def test_a_kept_proposal_page_is_only_for_visitors_not_signed_in(client, session, cycle, author, make_user, log_in):
    proposal = make_proposal(session, author, cycle, title="Benches by the school")
    visitor = proposal_page(client, proposal)
    assert "Sign in to support" in visitor and "Moderation (staff)" not in visitor
    french = proposal_page(client, proposal, FRENCH)
    assert "Historique" in french
    log_in(make_user("staff@example.org", roles=["staff"]))
    staff = proposal_page(client, proposal)
    assert "Moderation (staff)" in staff and "Sign in to support" not in staff
    assert 'name="csrf_token"' in staff


def test_the_cache_keeps_at_most_its_size_in_bytes():
    cache = FragmentCache(size=100, max_bytes=25)
    for name in "abc":
        cache(name, lambda name=name: name * 10)  # ten characters each
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") == "c" * 10
    cache.keep("timed", "t" * 20, now=utcnow(), until=None)  # past the budget: the oldest go
    assert cache.get("b") is None and cache.kept("timed", utcnow()) == "t" * 20
    cache.clear()
    assert len(cache) == 0 and cache._bytes == 0
