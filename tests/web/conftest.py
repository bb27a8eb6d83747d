"""Fixtures for the web tests of cycles and staff pages."""

from __future__ import annotations

import pytest

from tests.factories import make_cycle as create_cycle_for_tests


@pytest.fixture
def log_in(client):
    """Sign ``user`` in by setting the session directly (no password round trip), at the app's clock."""
    from pb.security import SESSION_SEEN, SESSION_STARTED

    def do(user):
        now = int(client.application.extensions["pb.clock"]().timestamp())
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = user.get_id()
            flask_session["_fresh"] = True
            flask_session[SESSION_STARTED] = flask_session[SESSION_SEEN] = now
        return user

    return do


@pytest.fixture
def make_cycle(session):
    """``make_cycle(now=..., phase="proposals", slug=..., **settings)``: a committed cycle (see tests.factories)."""

    def make(actor=None, **options):
        return create_cycle_for_tests(session, actor, **options)

    return make
