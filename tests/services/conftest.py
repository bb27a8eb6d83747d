"""Fixtures of the review and ballot project service tests."""

from __future__ import annotations

import pytest

from pb.db import utcnow
from tests.factories import make_cycle


@pytest.fixture
def now():
    """The tests' clock, to the minute (cycles are scheduled in whole minutes)."""
    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def cycle(session, now):
    """A cycle open for proposals (review is open from submission until voting)."""
    return make_cycle(session, now=now, phase="proposals")
