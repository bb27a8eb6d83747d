"""The public election record: its page and download after publication only, and the key's fingerprint."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pb import record_format
from pb.db import utcnow
from pb.services import records
from tests.factories import PICKS, make_published_vote, make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("records-staff@example.org", roles=["staff"])


now = pytest.fixture(lambda: utcnow().replace(second=0, microsecond=0), name="now")


@pytest.fixture
def signing_key(app):
    from pathlib import Path

    private, public = record_format.generate_key()
    path = Path(app.config["SIGNING_KEY_PATH"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private)
    return record_format.load_public_key(public)


def test_no_record_before_publication(client, app, session, staff, now, signing_key):
    cycle, _, during = make_voting_cycle(session, staff, now=now)
    app.extensions["pb.clock"] = lambda: cycle.voting_end_at + timedelta(hours=1)
    assert client.get("/cycles/vote-cycle/record.zip").status_code == 404
    assert client.get("/cycles/vote-cycle/record").status_code == 404
    assert client.get("/cycles/nope/record.zip").status_code == 404


def test_the_record_is_built_once_and_downloaded(client, app, session, staff, now, signing_key, monkeypatch):
    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    built = []
    real = records.build_record
    monkeypatch.setattr(records, "build_record", lambda *args: built.append(1) or real(*args))
    first = client.get("/cycles/vote-cycle/record.zip")
    assert first.status_code == 200 and first.mimetype == "application/zip"
    assert "vote-cycle-election-record.zip" in first.headers["Content-Disposition"]
    files = record_format.read_record(first.data)
    assert record_format.PUBLIC_KEY in files
    second = client.get("/cycles/vote-cycle/record.zip")
    assert second.data == first.data and built == [1]
    page = client.get("/cycles/vote-cycle/record")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert record_format.fingerprint(signing_key) in text
    import hashlib

    assert hashlib.sha256(first.data).hexdigest() in text
    french = client.get("/cycles/vote-cycle/record", headers={"Accept-Language": "fr-CA"})
    assert "Registre du scrutin" in french.get_data(as_text=True)


def test_the_cycle_page_shows_the_key_fingerprint_once_voting_opens(client, app, session, staff, now, signing_key):
    cycle, _, during = make_voting_cycle(session, staff, now=now)
    app.extensions["pb.clock"] = lambda: during
    text = client.get("/cycles/vote-cycle").get_data(as_text=True)
    assert record_format.fingerprint(signing_key) in text


def test_without_a_key_the_cycle_page_shows_no_fingerprint_and_the_record_is_unavailable(
    client, app, session, staff, now
):
    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    assert "sign the election record" not in client.get("/cycles/vote-cycle").get_data(as_text=True)
    assert client.get("/cycles/vote-cycle/record.zip").status_code == 503


def test_the_worker_makes_each_record_once_and_open_data_lists_its_sha256(client, app, session, staff, now, signing_key):
    import hashlib

    from pb.worker import build_records

    cycle = make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    app.extensions["pb.clock"] = lambda: cycle.voting_end_at + timedelta(hours=2)
    before = client.get("/open-data").text
    assert "vote-cycle-election-record.zip" not in before and "it is being made" in before
    assert build_records(app) == 1
    assert build_records(app) == 0  # once per result
    data = client.get("/cycles/vote-cycle/record.zip").data
    page = client.get("/open-data").text
    assert "vote-cycle-election-record.zip" in page and "it is being made" not in page
    assert hashlib.sha256(data).hexdigest() in page and f"{len(data):,} bytes" in page
    french = client.get("/open-data", headers={"Accept-Language": "fr-CA"}).text
    assert "le registre signé du scrutin" in french and hashlib.sha256(data).hexdigest() in french


def test_without_a_key_the_worker_makes_no_record_and_fails_nothing(client, app, session, staff, now):
    from pb.worker import build_records, run_round

    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    assert build_records(app) == 0
    run_round(app)
    assert not list(Path(app.config["RECORD_FOLDER"]).glob("*.zip"))


def test_a_record_that_cannot_be_made_is_logged_once_and_not_counted_again_each_round(
    app, session, staff, now, signing_key, monkeypatch, caplog
):
    from pb.services.errors import DomainError
    from pb.worker import build_records

    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    attempts = []

    def refuse(*args):
        attempts.append(args)
        raise DomainError("The ballots no longer give the published result: no record can be made.")

    monkeypatch.setattr(records, "_FAILED", set())
    monkeypatch.setattr(records, "build_record", refuse)
    assert build_records(app) == 0 and build_records(app) == 0
    assert len(attempts) == 1 and "no election record for vote-cycle" in caplog.text
    monkeypatch.undo()
    monkeypatch.setattr(records, "_FAILED", set())  # a restart tries again
    assert build_records(app) == 1


def test_a_record_file_holds_the_result_it_is_named_after(app, session, staff, now, signing_key):
    import io
    import json
    import zipfile

    cycle = make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    from pb.services import results

    standing = results.current_result(session, cycle)
    data = records.build_record(session, cycle, records.load_signing_key(app.config["SIGNING_KEY_PATH"]), standing.id)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read(record_format.MANIFEST))
    assert manifest["result"]["id"] == standing.id
    with pytest.raises(Exception, match="no published result"):
        records.build_record(session, cycle, records.load_signing_key(app.config["SIGNING_KEY_PATH"]), standing.id + 99)
