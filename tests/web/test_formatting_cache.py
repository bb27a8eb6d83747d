"""Amounts and dates are formatted once per process and then looked up (``pb.i18n``): the lookup
must answer exactly what Babel would, for each language and whatever time zone the value came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from flask_babel import force_locale

from pb.i18n import local_date, local_datetime, money

TORONTO = "America/Toronto"


def test_the_same_value_in_each_language_and_again(app):
    moment = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    with app.test_request_context():
        for _ in range(2):  # the second time comes from the cache
            with force_locale("fr_CA"):
                assert money(123_456_78) == "123\xa0456,78\xa0$"
                assert local_date(moment, TORONTO) == "1er décembre 2026"
            with force_locale("en_CA"):
                assert money(123_456_78) == "$123,456.78"
                assert money(123_456_78, "EUR") == "€123,456.78"
                assert local_date(moment, TORONTO) == "December 1, 2026"
                assert local_datetime(moment, TORONTO, "yyyy-MM-dd HH:mm") == "2026-12-01 09:00"


def test_an_instant_reads_the_same_whatever_zone_it_arrives_in(app):
    utc = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    shifted = utc.astimezone(timezone(timedelta(hours=-5)))  # equal to utc, and hashed alike
    with app.test_request_context(), force_locale("en_CA"):
        assert local_datetime(shifted, TORONTO) == local_datetime(utc, TORONTO)
        assert local_datetime(utc, "UTC", "short") != local_datetime(utc, TORONTO, "short")
