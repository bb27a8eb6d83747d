"""Public proposal pages for visitors who are not signed in, from a cycle's state read at most
``PUBLIC_PAGE_MAX_AGE_MS`` ago (pb.web.visitor_glance); everyone signed in reads it on every request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pb.config import DEFAULT_PUBLIC_PAGE_AGE_MS, ConfigError, load_settings
from pb.db import utcnow
from pb.services import moderation
from pb.web import RecentGlances
from tests.factories import make_proposal

ENGLISH = {"Accept-Language": "en-CA"}
MAX_AGE_MS = 30_000


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "PUBLIC_PAGE_MAX_AGE_MS": MAX_AGE_MS}


@pytest.fixture
def clock(app):
    clock = Clock()
    app.extensions["pb.recent_glances"].clock = clock
    return clock


@pytest.fixture
def lakeview(make_cycle, make_user):
    """The cycle "lakeview", open for proposals, and the author of its proposals."""
    return make_cycle(slug="lakeview", phase="proposals"), make_user("author@example.org")


def get(client, path: str) -> str:
    response = client.get(path, headers=ENGLISH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def signed_in_client(app, email: str):
    other = app.test_client()
    answer = other.post("/account/sign-in", data={"email": email, "password": "correct horse battery"})
    assert answer.status_code == 302
    return other


def test_a_visitor_sees_the_list_as_read_at_most_the_max_age_ago(
    app, client, session, lakeview, clock, query_counter
):
    cycle, author = lakeview
    make_proposal(session, author, cycle, title="Lights for the river path")
    assert "Lights for the river path" in get(client, "/cycles/lakeview/proposals")
    make_proposal(session, author, cycle, title="Benches by the school")

    clock.seconds += MAX_AGE_MS / 1000 - 0.001  # just under the max age: the list as it was, without a query
    with query_counter() as statements:
        page = get(client, "/cycles/lakeview/proposals")
    assert "Benches by the school" not in page and statements == []

    clock.seconds += 0.001  # the max age: read again
    with query_counter() as statements:
        page = get(client, "/cycles/lakeview/proposals")
    assert "Benches by the school" in page and "Lights for the river path" in page and len(statements) >= 1


def test_a_visitor_sees_a_proposal_page_as_read_at_most_the_max_age_ago(
    app, client, session, lakeview, make_user, clock, query_counter
):
    from pb.services import deliberation

    cycle, author = lakeview
    cycle.deliberation_during_proposals = True
    resident = make_user("resident@example.org")
    proposal = make_proposal(session, author, cycle, title="Lights for the river path")
    path = f"/cycles/lakeview/proposals/{proposal.id}"
    assert "Please light the bridge too." not in get(client, path)
    deliberation.add_comment(session, resident, proposal, "Please light the bridge too.", "en", utcnow())
    session.commit()

    clock.seconds += MAX_AGE_MS / 1000 - 0.001
    with query_counter() as statements:
        page = get(client, path)
    assert "Please light the bridge too." not in page and statements == []
    assert "Please light the bridge too." in get(signed_in_client(app, "resident@example.org"), path)
    clock.seconds += 0.001  # the max age: read again
    assert "Please light the bridge too." in get(client, path)


def test_someone_signed_in_always_sees_the_latest_and_the_visitors_follow(
    app, client, session, lakeview, make_user, clock
):
    cycle, author = lakeview
    make_user("resident@example.org")
    resident = signed_in_client(app, "resident@example.org")
    proposal = make_proposal(session, author, cycle, title="Lights for the river path")
    assert "Lights for the river path" in get(client, "/cycles/lakeview/proposals")
    assert "Lights for the river path" in get(client, f"/cycles/lakeview/proposals/{proposal.id}")

    make_proposal(session, author, cycle, title="Benches by the school")
    assert "Benches by the school" not in get(client, "/cycles/lakeview/proposals")  # the visitor: as read
    assert "Benches by the school" in get(resident, "/cycles/lakeview/proposals")  # signed in: read now
    # What a process read last is what its visitors see next: never an older state after a newer one.
    assert "Benches by the school" in get(client, "/cycles/lakeview/proposals")


def test_a_hidden_proposal_leaves_the_visitors_pages_within_the_max_age(
    app, client, session, lakeview, make_user, clock
):
    cycle, author = lakeview
    staff = make_user("staff@example.org", roles=["staff"])
    proposal = make_proposal(session, author, cycle, title="Lights for the river path")
    path = f"/cycles/lakeview/proposals/{proposal.id}"
    assert "Lights for the river path" in get(client, path)
    moderation.hide_proposal(session, staff, proposal, "Names a private person.", utcnow())
    session.commit()
    assert "Names a private person." in get(signed_in_client(app, "staff@example.org"), path)
    clock.seconds += MAX_AGE_MS / 1000
    assert "Names a private person." in get(client, path)


def test_an_unknown_cycle_is_a_404_every_time_and_not_kept(app, client, clock):
    for _ in range(2):
        assert client.get("/cycles/nowhere/proposals", headers=ENGLISH).status_code == 404
        assert client.get("/cycles/nowhere/proposals/1", headers=ENGLISH).status_code == 404
    assert app.extensions["pb.recent_glances"].recent("nowhere") is None


def glance(stamp: int, version: int = 1, id: int = 1) -> SimpleNamespace:
    """What RecentGlances reads of a CycleGlance."""
    return SimpleNamespace(id=id, version=version, proposal_stamp=stamp)


def test_recent_glances_keep_each_read_for_the_max_age_only():
    clock = Clock()
    glances = RecentGlances(max_age=1.0, clock=clock)
    first, second = glance(stamp=5), glance(stamp=9)
    assert glances.recent("lakeview") is None
    assert glances.read(lambda: first, "lakeview") is first
    clock.seconds += 0.999
    assert glances.recent("lakeview") is first
    assert glances.read(lambda: second, "lakeview") is second  # a newer read replaces it
    assert glances.recent("lakeview") is second
    clock.seconds += 1.0
    assert glances.recent("lakeview") is None
    assert glances.read(lambda: None, "gone") is None and glances.recent("gone") is None
    never = RecentGlances(max_age=0.0, clock=clock)
    never.read(lambda: first, "lakeview")
    assert never.recent("lakeview") is None and len(never._glances) == 0


def test_a_read_that_ends_after_a_newer_one_does_not_replace_it():
    """Two threads: the one that read first stores last; the process keeps the newer state."""
    clock = Clock()
    glances = RecentGlances(max_age=1.0, clock=clock)
    older, newer = glance(stamp=5), glance(stamp=9)

    def slow_read():
        glances.read(lambda: newer, "lakeview")  # another thread reads and stores meanwhile
        return older

    assert glances.read(slow_read, "lakeview") is older  # this request shows what it read
    assert glances.recent("lakeview") is newer
    glances.read(lambda: glance(stamp=1, version=2), "lakeview")  # an edited cycle: a newer version
    assert glances.recent("lakeview").version == 2
    other = glance(stamp=0, id=2)  # another cycle now has the slug (the old one deleted)
    assert glances.read(lambda: other, "lakeview") is other and glances.recent("lakeview") is other


def test_recent_glances_are_bounded():
    glances = RecentGlances(max_age=60.0, size=2)
    for slug in ("a", "b", "c"):
        glances.read(lambda slug=slug: glance(stamp=1), slug)
    assert glances.recent("a") is None and glances.recent("c") is not None


def test_the_max_age_is_zero_in_tests_and_one_second_elsewhere():
    assert load_settings(environ={"PB_ENV": "testing"})["PUBLIC_PAGE_MAX_AGE_MS"] == 0
    assert load_settings(environ={"PB_ENV": "development"})["PUBLIC_PAGE_MAX_AGE_MS"] == DEFAULT_PUBLIC_PAGE_AGE_MS == 1000
    settings = load_settings(environ={"PB_ENV": "testing", "PB_PUBLIC_PAGE_MAX_AGE_MS": "250"})
    assert settings["PUBLIC_PAGE_MAX_AGE_MS"] == 250


@pytest.mark.parametrize("value", ["-1", "60001", "soon", "1.5"])
def test_a_bad_max_age_stops_start_up_with_one_line(value):
    with pytest.raises(ConfigError, match=r"app.public_page_max_age_ms \(PB_PUBLIC_PAGE_MAX_AGE_MS\)"):
        load_settings(environ={"PB_ENV": "testing", "PB_PUBLIC_PAGE_MAX_AGE_MS": value})
