"""Fixtures of the service tests: the clock, a cycle open for proposals, an author."""

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


@pytest.fixture
def author(make_user):
    """The author of the proposals a test makes."""
    return make_user("author@example.org", display_name="Amina Author")
