"""Translations are looked up once per page, and WTForms' catalogue is read from disk once per process."""

from __future__ import annotations

from babel import support

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


def test_wtforms_catalogue_is_read_once_and_still_translates(client, monkeypatch):
    from pb import i18n

    i18n._wtforms_catalog.cache_clear()
    loads: list[str] = []
    original = support.Translations.load.__func__

    def counting_load(cls, dirname=None, locales=None, domain=None):
        loads.append(domain)
        return original(cls, dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", classmethod(counting_load))
    for _ in range(3):
        assert client.get("/account/sign-in", headers=FRENCH).status_code == 200
    assert loads.count("wtforms") == 1
    with client.application.test_request_context(headers=FRENCH):
        assert i18n._WTFORMS_TRANSLATIONS.ugettext("This field is required.") == "Ce champ est requis."


def test_a_page_looks_its_catalogue_up_once(client, make_cycle, monkeypatch):
    """Templates take the catalogue from their context, not through the request for each string."""
    from pb import i18n

    lookups = []
    original = i18n.get_translations

    def counting():
        lookups.append(1)
        return original()

    monkeypatch.setattr(i18n, "get_translations", counting)
    make_cycle(slug="open")
    make_cycle(slug="finished", phase="results")
    page = client.get("/", headers=FRENCH)
    assert "Cycles budgétaires passés et leurs résultats" in page.text
    assert len(lookups) == 2  # one per template rendered (the list's content, kept, and the page around it)
    assert len(client.get("/", headers=FRENCH).text) and len(lookups) == 3  # kept: the page only
