"""Guessing voter codes: 10,000 wrong codes from one address are stopped after the first ten ("10 per
minute; 60 per hour"), and once stopped even the right code waits, so the answers tell a guesser nothing.

The 10,000 run against the limits kept in this process's memory; the same limits kept in Redis (as in
production, where the workers share them) are checked with fewer guesses: both are fixed windows that start
at the first wrong code, so they stop guessers alike.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter

import pytest
import redis

from pb import create_app
from pb.extensions import limiter
from pb.voter_codes import display, generate_many
from tests.conftest import TEST_SETTINGS
from tests.factories import create_account, make_voting_cycle

GUESSES = {"memory": 10_000, "redis": 200}
LIVE_REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", "redis"])
def guessed_app(request, database_url, tmp_path):
    """The app with its rate limits in memory, or in Redis under a key prefix of this test's own."""
    if database_url.startswith("postgresql"):
        pytest.skip("the limits never touch the database: once, on SQLite, is enough")
    settings = {**TEST_SETTINGS, "DATABASE_URL": database_url, "PHOTO_FOLDER": str(tmp_path / "photos")}
    prefix = f"pb-test-{secrets.token_hex(4)}"
    if request.param == "redis":
        try:
            redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        # A prefix of its own, removed after: other runs may share this Redis database.
        settings |= {"RATELIMIT_STORAGE_URI": LIVE_REDIS, "RATELIMIT_KEY_PREFIX": prefix}
    application = create_app(settings)
    if request.param == "memory":
        with application.app_context():
            limiter.reset()
    yield application, GUESSES[request.param]
    application.extensions["pb.db"].engine.dispose()
    if request.param == "redis":
        store = redis.Redis.from_url(LIVE_REDIS)
        keys = list(store.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            store.delete(*keys)


def test_ten_thousand_wrong_codes_from_one_address_are_stopped_after_ten(guessed_app):
    application, guesses = guessed_app
    factory = application.extensions["pb.db"].session_factory
    with factory() as session:
        from pb.db import utcnow
        from pb.services import eligibility

        staff = create_account(session, "staff@example.org", roles=["staff"])
        now = utcnow().replace(second=0, microsecond=0)
        cycle, _projects, during = make_voting_cycle(session, staff, now=now, ballot_type="approval")
        right = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during).codes[0]
        session.commit()
        slug = cycle.slug
    application.extensions["pb.clock"] = lambda: during
    client = application.test_client()
    path = f"/cycles/{slug}/vote/code"
    # Well-formed codes that are wrong, each with its own prefix: only the per-address limit can stop them.
    statuses = Counter()
    first_refusal = None
    started = time.monotonic()
    for number, code in enumerate(generate_many(guesses), start=1):
        status = client.post(path, data={"code": display(code)}).status_code
        statuses[status] += 1
        if status == 429 and first_refusal is None:
            first_refusal = number
    minutes = int((time.monotonic() - started) // 60) + 1  # a slow machine may see the minute's window turn
    assert set(statuses) == {422, 429} and statuses[422] + statuses[429] == guesses, statuses
    assert first_refusal == 11  # ten wrong codes a minute from one address, then 429
    assert statuses[422] <= min(10 * minutes, 60), (statuses, minutes)  # and sixty an hour
    # The right code now waits too: a 429 says nothing about whether a code is right.
    refused = client.post(path, data={"code": display(right)})
    assert refused.status_code == 429
    # The refusal says when to try again (answers within the limits carry no rate-limit headers).
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # Another address is not held back by this one's guesses.
    other = client.post(path, data={"code": display(right)}, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert other.status_code == 200 and "Review my ballot" in other.text  # the ballot opens
