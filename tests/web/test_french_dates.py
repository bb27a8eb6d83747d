"""Dates and times in Canadian French follow OQLF usage: « 1er décembre », « 9 h », « 9 h 30 »."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from pb.i18n import local_date, local_datetime
from pb.labels import datetime_pattern

TORONTO = "America/Toronto"


@pytest.mark.parametrize(
    ("moment", "french", "english"),
    [
        (datetime(2026, 12, 1, 14, 0, tzinfo=UTC), "1er décembre 2026, 9 h", "December 1, 2026, 9:00"),
        (datetime(2026, 12, 5, 14, 30, tzinfo=UTC), "5 décembre 2026, 9 h 30", "December 5, 2026, 9:30"),
        (datetime(2026, 6, 11, 0, 5, tzinfo=UTC), "10 juin 2026, 20 h 05", "June 10, 2026, 8:05"),
        (datetime(2026, 5, 31, 4, 0, tzinfo=UTC), "31 mai 2026, 0 h", "May 31, 2026, 12:00"),
    ],
)
def test_phase_dates(app, moment, french, english):
    with app.test_request_context():
        with force_locale("fr_CA"):
            assert local_datetime(moment, TORONTO, datetime_pattern("fr_CA")) == french
        with force_locale("en_CA"):
            assert local_datetime(moment, TORONTO, datetime_pattern("en_CA")).startswith(english)


def test_first_of_the_month_in_long_dates_and_timestamps(app):
    first = datetime(2027, 1, 1, 17, 0, 7, tzinfo=UTC)
    with app.test_request_context(), force_locale("fr_CA"):
        assert local_date(first, TORONTO) == "1er janvier 2027"
        assert local_date(datetime(2027, 1, 11, 17, tzinfo=UTC), TORONTO) == "11 janvier 2027"
        assert local_datetime(first, "UTC", "medium") == "1er janv. 2027, 17 h 00 min 07 s"
