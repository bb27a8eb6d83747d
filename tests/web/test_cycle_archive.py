"""The home page lists cycles running or to come; finished ones go to the archive, 20 a page."""

from __future__ import annotations

import re

import pytest

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


def cycle_links(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/cycles/([^"]+)">', html)


def test_home_shows_running_cycles_first_and_links_to_the_archive(client, make_cycle):
    make_cycle(slug="coming", phase=None)
    make_cycle(slug="voting", phase="voting")
    make_cycle(slug="proposals", phase="proposals")
    make_cycle(slug="finished", phase="results")
    page = client.get("/", headers=ENGLISH)
    assert page.status_code == 200
    # Open ones first (the one that started earlier first), then the one to come; not the finished one.
    assert cycle_links(page.text) == ["voting", "proposals", "coming"]
    assert '<a href="/archive">Past budget cycles and their results</a>' in page.text


def test_home_without_running_cycles_points_to_the_archive(client, make_cycle):
    make_cycle(slug="finished", phase="results")
    page = client.get("/", headers=ENGLISH).text
    assert "No budget cycle is running or coming up." in page
    assert 'href="/archive"' in page


def test_home_without_past_cycles_has_no_archive_link(client, make_cycle):
    make_cycle(slug="open")
    assert 'href="/archive"' not in client.get("/", headers=ENGLISH).text


def test_the_archive_pages_past_cycles_20_at_a_time_latest_first(client, make_cycle):
    from datetime import timedelta

    from pb.db import utcnow

    now = utcnow()
    for number in range(23):
        make_cycle(slug=f"past-{number:02d}", phase="results", now=now - timedelta(days=number))
    make_cycle(slug="open")
    first = client.get("/archive", headers=ENGLISH)
    assert first.status_code == 200
    assert first.text.count("<h1") == 1
    assert cycle_links(first.text) == [f"past-{number:02d}" for number in range(20)]
    assert "Page 1 of 2" in first.text
    assert 'href="/archive?page=2" rel="next"' in first.text
    second = client.get("/archive?page=2", headers=ENGLISH)
    assert cycle_links(second.text) == ["past-20", "past-21", "past-22"]
    assert 'href="/archive?page=1" rel="prev"' in second.text
    assert client.get("/archive?page=3").status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", str(10**20), "١", " 1", "1e3", ""])
@pytest.mark.parametrize("path", ["/", "/archive"])
def test_a_page_number_that_is_not_a_page_is_a_404(client, make_cycle, path, page):
    make_cycle(slug="finished", phase="results")
    response = client.get(path, query_string={"page": page}, headers=FRENCH)
    assert response.status_code == 404
    assert 'lang="fr-CA"' in response.text


def test_the_archive_is_in_the_visitors_language(client, make_cycle):
    make_cycle(slug="finished", phase="results")
    page = client.get("/archive", headers=FRENCH).text
    assert '<html lang="fr-CA">' in page
    assert "<h1>Cycles budgétaires passés</h1>" in page
    assert "Cycle d’essai" in page
    assert "En cours\u00a0: Résultats" in page


def test_an_empty_archive_says_so(client):
    page = client.get("/archive", headers=ENGLISH)
    assert page.status_code == 200
    assert "No budget cycle has finished yet." in page.text
