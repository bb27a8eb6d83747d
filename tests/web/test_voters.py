"""The staff pages of a vote: voter codes, confirmed voters, voiding a misused ballot, closing, integrity."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from pb import voter_codes
from pb.db import Base
from pb.models import AuditLogEntry, EligibilityBasis, VoterCodeBatch, VoterEligibility, VotingKey
from pb.services import eligibility, voting
from pb.services.ballot_rules import RawChoices
from pb.services.cycles import DistrictInput
from pb.services.errors import DomainError
from pb.services.voting import ReceiptStatus
from tests.factories import create_account, make_voting_cycle

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA"}
BASE = "/staff/voting/vote-cycle"


@pytest.fixture(autouse=True)
def release_reads(app, session):
    """The tests' session ends its read transaction before each request (SQLite lets one writer in)."""
    app.before_request(lambda: session.commit())


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")


@pytest.fixture
def vote(app, session, staff):
    """A cycle one day into approval voting, the app's clock there, staff signed in."""
    from pb.db import utcnow

    cycle, projects, during = make_voting_cycle(session, staff, now=utcnow(), ballot_type="approval")
    app.extensions["pb.clock"] = lambda: during
    session.info["pb_test_now"] = during  # when cast() casts
    return cycle, projects, during


@pytest.fixture
def signed_in(vote, staff, log_in):
    log_in(staff)
    return vote


def codes_of(response) -> tuple[zipfile.ZipFile, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    table = next(name for name in archive.namelist() if name.endswith(".csv"))
    return archive, list(csv.DictReader(io.StringIO(archive.read(table).decode())))


def make_batch(client, cycle, size=3, district=0, label="Library"):
    response = client.post(
        f"{BASE}/codes", data={"size": str(size), "district": str(cycle.districts[district].id), "label": label}
    )
    assert response.status_code == 200, response.text
    return codes_of(response)[1]


def cast(session, cycle, voter, project):
    """``voter`` casts a ballot for ``project``, one day into voting (the app's clock)."""
    when = session.info["pb_test_now"]
    receipt = voting.cast_ballot(
        session, cycle, voter, RawChoices(selected=(str(project.id),)), voting.new_nonce(), when
    ).receipt
    session.commit()
    return receipt


@pytest.fixture
def voter_account(session, signed_in, staff):
    cycle, _, during = signed_in
    user = create_account(session, "ana@example.org", display_name="Ana Voter")
    eligibility.confirm_voter(
        session, staff, cycle, user, basis=EligibilityBasis.IN_PERSON, district_id=cycle.districts[0].id,
        note="Lease shown", birth_date=None, citizen=True, now=during,
    )
    session.commit()
    return user


# --- Voter codes ---------------------------------------------------------------------------------


def test_a_new_batch_is_answered_once_as_a_zip_of_slips_and_a_csv(client, session, signed_in, app):
    cycle, _, during = signed_in
    page = client.get(f"{BASE}/codes", headers=ENGLISH)
    assert page.status_code == 200
    assert "not kept" in page.text and "10 seconds" in page.text
    response = client.post(
        f"{BASE}/codes", data={"size": "12", "district": str(cycle.districts[0].id), "label": "Library"}
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    batch = session.scalar(select(VoterCodeBatch))
    assert f'codes-vote-cycle-{batch.id}.zip' in response.headers["Content-Disposition"]
    archive, rows = codes_of(response)
    assert sorted(archive.namelist()) == [f"codes-vote-cycle-{batch.id}.csv", f"codes-vote-cycle-{batch.id}.pdf"]
    pdf = PdfReader(io.BytesIO(archive.read(f"codes-vote-cycle-{batch.id}.pdf")))
    assert len(pdf.pages) == 2  # ten slips a page
    text = pdf.pages[0].extract_text()
    assert "How to vote" in text and "Comment voter" in text
    address = "http://localhost:5000/cycles/vote-cycle/vote"
    assert address in text
    assert len(rows) == 12 and len({row["code"] for row in rows}) == 12
    for row in rows:
        assert row["batch"] == str(batch.id) and row["district"] == cycle.districts[0].slug
        assert row["voting_address"] == address
        assert row["code"] == voter_codes.display(row["code"])
        voter = eligibility.code_voter(session, cycle, row["code"])
        assert voter.district_id == cycle.districts[0].id
    # The database holds none of the codes in clear, in any table.
    plain = {voter_codes.normalize(row["code"]) for row in rows}
    with app.extensions["pb.db"].engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for stored in connection.execute(select(table)):
                dump = repr(tuple(stored)).upper().replace("-", "")
                assert not [code for code in plain if code in dump], table.name
    entry = session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "voter_codes.create_batch"))
    assert entry is not None
    listing = client.get(f"{BASE}/codes", headers=ENGLISH).text
    assert "Library" in listing and "Sam Staff" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size": "0"}, "Give a whole number from 1 to 20000"),
        ({"size": "20001"}, "Give a whole number from 1 to 20000"),
        ({"size": "many"}, "Not a valid integer value"),
        ({"size": ""}, "Give the number of codes"),
        ({"district": "999999"}, "Not a valid choice"),
        ({"label": "x" * 121}, "at most 120 characters"),
    ],
)
def test_a_wrong_batch_is_a_form_error_and_makes_nothing(client, session, signed_in, fields, message):
    cycle, _, _ = signed_in
    data = {"size": "5", "district": str(cycle.districts[0].id), "label": ""} | fields
    response = client.post(f"{BASE}/codes", data=data, headers=ENGLISH)
    assert response.status_code == 422 and message in response.text
    assert session.scalar(select(VoterCodeBatch)) is None


def test_a_cycle_with_district_budgets_requires_the_district(app, client, session, staff, log_in):
    from pb.db import utcnow

    cycle, _, during = make_voting_cycle(
        session, staff, now=utcnow(), budget_cents=None,
        districts=[DistrictInput("North", "Nord", 60_000_00), DistrictInput("South", "Sud", 60_000_00)],
    )
    app.extensions["pb.clock"] = lambda: during
    log_in(staff)
    response = client.post(f"{BASE}/codes", data={"size": "5", "district": ""}, headers=ENGLISH)
    assert response.status_code == 422 and "Choose a district" in response.text
    assert session.scalar(select(VoterCodeBatch)) is None


def test_voiding_a_batch_asks_for_the_reason_and_withdraws_its_codes(client, session, signed_in):
    cycle, _, _ = signed_in
    rows = make_batch(client, cycle)
    batch = session.scalar(select(VoterCodeBatch))
    page = client.get(f"{BASE}/codes/{batch.id}/void", headers=ENGLISH)
    assert page.status_code == 200 and "cannot be undone" in page.text
    assert client.post(f"{BASE}/codes/{batch.id}/void", data={"reason": " "}).status_code == 422
    response = client.post(f"{BASE}/codes/{batch.id}/void", data={"reason": "Envelope lost"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(VoterCodeBatch, batch.id).void_reason == "Envelope lost"
    with pytest.raises(DomainError):
        eligibility.code_voter(session, cycle, rows[0]["code"])
    assert "Envelope lost" in client.get(f"{BASE}/codes", headers=ENGLISH).text
    again = client.post(f"{BASE}/codes/{batch.id}/void", data={"reason": "Again"}, headers=ENGLISH)
    assert again.status_code == 422 and "void already" in again.text
    assert client.get(f"{BASE}/codes/{batch.id + 1}/void").status_code == 404


# --- Confirmed voters ----------------------------------------------------------------------------


def confirm(client, email, **fields):
    data = {"email": email, "basis": "in_person", "district": "", "note": "Lease shown"} | fields
    return client.post(f"{BASE}/voters", data=data, headers=ENGLISH)


def test_staff_find_an_account_by_its_exact_address_and_confirm_it(client, session, signed_in, make_user):
    cycle, _, _ = signed_in
    make_user("ben@example.org", display_name="Ben Resident")
    missing = client.get(f"{BASE}/voters?email=ben@example", headers=ENGLISH)
    assert "No account has this e-mail address" in missing.text
    found = client.get(f"{BASE}/voters?email=BEN@example.org", headers=ENGLISH)
    assert "Confirm Ben Resident (ben@example.org)" in found.text and "Never write an ID number" in found.text
    response = confirm(client, "ben@example.org", district=str(cycle.districts[1].id))
    assert response.status_code == 303
    row = session.scalar(select(VoterEligibility))
    assert row.basis is EligibilityBasis.IN_PERSON and row.district_id == cycle.districts[1].id
    listing = client.get(f"{BASE}/voters", headers=ENGLISH).text
    assert "Ben Resident" in listing and "Lease shown" in listing and "Sam Staff" in listing
    again = confirm(client, "ben@example.org")
    assert again.status_code == 422 and "confirmed voter of this cycle already" in again.text


def test_confirmation_rules_are_form_errors(app, client, session, staff, make_user, log_in):
    from pb.db import utcnow

    cycle, _, during = make_voting_cycle(session, staff, now=utcnow(), min_voting_age=16, noncitizens_may_vote=False)
    app.extensions["pb.clock"] = lambda: during
    log_in(staff)
    make_user("ben@example.org")
    make_user("new@example.org", confirmed=False)
    page = client.get(f"{BASE}/voters?email=ben@example.org", headers=ENGLISH).text
    assert "Date of birth" in page and "checked, not kept" in page and "This person is a citizen" in page
    young = str(date(during.year - 10, 1, 1))
    adult = str(date(during.year - 30, 1, 1))
    cases = [
        ({"note": ""}, "Say what was checked"),
        ({"basis": "passport"}, "Not a valid choice"),
        ({"birth_date": adult, "citizen": "y", "district": "999"}, "Not a valid choice"),
        ({"citizen": "y"}, "Enter the date of birth"),
        ({"birth_date": young, "citizen": "y"}, "under 16"),
        ({"birth_date": adult}, "Only citizens vote"),
        ({"birth_date": "9999-12-31", "citizen": "y"}, "Give a date between"),
    ]
    for fields, message in cases:
        response = confirm(client, "ben@example.org", **fields)
        assert response.status_code == 422 and message in response.text, fields
    unconfirmed = confirm(client, "new@example.org", birth_date=adult, citizen="y")
    assert unconfirmed.status_code == 422 and "not confirmed yet" in unconfirmed.text
    assert confirm(client, "nobody@example.org").status_code == 400
    assert session.scalar(select(VoterEligibility)) is None
    registry = confirm(client, "ben@example.org", basis="registry", note="", birth_date=adult, citizen="y")
    assert registry.status_code == 303


def test_revoking_a_voter_needs_a_reason(client, session, voter_account, signed_in):
    cycle, _, _ = signed_in
    row = session.scalar(select(VoterEligibility))
    page = client.get(f"{BASE}/voters/{row.id}/revoke", headers=ENGLISH)
    assert page.status_code == 200 and "Ana Voter" in page.text
    assert client.post(f"{BASE}/voters/{row.id}/revoke", data={"reason": ""}).status_code == 422
    assert client.post(f"{BASE}/voters/{row.id}/revoke", data={"reason": "Moved away"}).status_code == 303
    session.expire_all()
    assert eligibility.account_voter(session, cycle, voter_account) is None
    assert "Revoked on" in client.get(f"{BASE}/voters", headers=ENGLISH).text
    assert client.get(f"{BASE}/voters/{row.id + 1}/revoke").status_code == 404


# --- Voiding a misused ballot --------------------------------------------------------------------


def void(client, **fields):
    return client.post(f"{BASE}/void-ballot", data=fields, headers=ENGLISH)


def test_a_ballot_is_voided_by_code_after_a_confirmation_step(client, session, signed_in):
    cycle, projects, during = signed_in
    code = make_batch(client, cycle)[0]["code"]
    receipt = cast(session, cycle, eligibility.code_voter(session, cycle, code), projects[0])
    step = void(client, code=code, reason="Code sold")
    assert step.status_code == 200
    assert "published" in step.text and "cannot vote again" in step.text
    assert projects[0].title_en not in step.text  # never the choices
    assert voting.check_receipt(session, cycle, receipt).status is ReceiptStatus.COUNTED
    done = void(client, code=code, reason="Code sold", void="Void the ballot")
    assert done.status_code == 303
    session.expire_all()
    check = voting.check_receipt(session, cycle, receipt)
    assert check.status is ReceiptStatus.VOIDED and check.reason == "Code sold"
    again = void(client, code=code, reason="Code sold", void="Void the ballot")
    assert again.status_code == 422 and "no counted ballot" in again.text


def test_a_ballot_is_voided_by_account_address(client, session, signed_in, voter_account):
    cycle, projects, _ = signed_in
    voter = eligibility.account_voter(session, cycle, voter_account)
    receipt = cast(session, cycle, voter, projects[0])
    assert void(client, email="ana@example.org", reason="Account taken over").status_code == 200
    assert void(client, email="ana@example.org", reason="Account taken over", void="1").status_code == 303
    session.expire_all()
    assert voting.check_receipt(session, cycle, receipt).status is ReceiptStatus.VOIDED
    assert eligibility.account_voter(session, cycle, voter_account) is None


def test_a_code_of_a_voided_batch_still_finds_its_ballot(client, session, signed_in):
    """Voiding a batch keeps the ballots already cast with it; one of them can still be voided."""
    cycle, projects, during = signed_in
    code = make_batch(client, cycle)[0]["code"]
    receipt = cast(session, cycle, eligibility.code_voter(session, cycle, code), projects[0])
    batch = session.scalar(select(VoterCodeBatch))
    client.post(f"{BASE}/codes/{batch.id}/void", data={"reason": "Stolen"})
    assert void(client, code=code, reason="Sold", void="1").status_code == 303
    session.expire_all()
    assert voting.check_receipt(session, cycle, receipt).status is ReceiptStatus.VOIDED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "Why"}, "not both"),
        ({"code": "AAAA-BBBB-CCCC-DDDD", "email": "ana@example.org", "reason": "Why"}, "not both"),
        ({"code": "AAAA-BBBB-CCCC-DDDD", "reason": "Why"}, "No code of this cycle"),
        ({"code": "0000", "reason": "Why"}, "No code of this cycle"),
        ({"email": "nobody@example.org", "reason": "Why"}, "No confirmed voter"),
        ({"email": "ana@example.org", "reason": ""}, "Give the reason"),
    ],
)
def test_a_wrong_void_request_is_a_form_error(client, session, signed_in, voter_account, fields, message):
    response = void(client, **fields, void="1")
    assert response.status_code == 422 and message in response.text


def test_after_close_no_ballot_can_be_voided(client, session, signed_in, voter_account):
    cycle, projects, _ = signed_in
    cast(session, cycle, eligibility.account_voter(session, cycle, voter_account), projects[0])
    client.post(f"{BASE}/close", data={"reason": "Storm"})
    assert "only while voting is open" in client.get(f"{BASE}/void-ballot", headers=ENGLISH).text
    response = void(client, email="ana@example.org", reason="Late", void="1")
    assert response.status_code == 422 and "Voting is over" in response.text


# --- Closing -------------------------------------------------------------------------------------


def test_closing_voting_twice_closes_it_once(client, session, signed_in):
    cycle, _, _ = signed_in
    page = client.get(f"{BASE}/close", headers=ENGLISH)
    assert page.status_code == 200 and "cannot be undone" in page.text
    assert client.post(f"{BASE}/close", data={"reason": ""}).status_code == 422
    first = client.post(f"{BASE}/close", data={"reason": "Storm warning"}, follow_redirects=True, headers=ENGLISH)
    assert "Voting is closed. The slot key is destroyed." in first.text
    assert session.get(VotingKey, cycle.id) is None
    second = client.post(f"{BASE}/close", data={"reason": "Again"}, follow_redirects=True, headers=ENGLISH)
    assert second.status_code == 200 and "Voting was closed already." in second.text
    assert voting.log_state(session, cycle).closed
    closes = session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == "cycle.close_phase")).all()
    assert len(closes) == 1


def test_closing_before_voting_opens_is_refused(app, client, session, staff, log_in, make_cycle):
    make_cycle(slug="early", phase="review")
    log_in(staff)
    response = client.post("/staff/voting/early/close", data={"reason": "Now"}, headers=ENGLISH)
    assert response.status_code == 422 and "not opened yet" in response.text


# --- The integrity dashboard ---------------------------------------------------------------------


def test_the_dashboard_counts_a_seeded_vote_and_names_no_voter(client, session, signed_in, voter_account, staff):
    cycle, projects, during = signed_in
    rows = make_batch(client, cycle, size=4)
    for row in rows[:2]:
        cast(session, cycle, eligibility.code_voter(session, cycle, row["code"]), projects[0])
    cast(session, cycle, eligibility.account_voter(session, cycle, voter_account), projects[2])
    page = client.get(BASE, headers=ENGLISH)
    assert page.status_code == 200
    text = page.text
    state = voting.log_state(session, cycle)
    assert state.counted == 3 and state.head.hash in text
    assert "Every entry links to the one before" in text
    assert "<td class=\"number\">3</td>" in text  # the hour's total, and North's participation
    assert "<td class=\"number\">2</td>" in text  # codes used of the batch
    assert "Sam Staff" in text and "In person" in text
    for row in rows:
        assert row["code"] not in text
    assert "ana@example.org" not in text and projects[0].title_en not in text
    french = client.get(BASE, headers=FRENCH)
    assert french.status_code == 200 and "Tableau de bord" in french.text


def test_the_staff_dashboard_links_to_the_vote_pages(client, signed_in):
    assert f'href="{BASE}"' in client.get("/staff/", headers=ENGLISH).text


PAGES = ["", "/codes", "/voters", "/void-ballot", "/close", "/codes/1/void", "/voters/1/revoke"]


@pytest.mark.parametrize("role", ["resident", "delegate", "auditor", None])
def test_only_staff_see_the_pages(client, session, vote, make_user, log_in, role):
    if role is not None:
        log_in(make_user(f"{role}@example.org", roles=[] if role == "resident" else [role]))
    for page in PAGES:
        response = client.get(BASE + page)
        assert response.status_code == (403 if role else 302), page
    for page in ["/codes", "/voters", "/void-ballot", "/close"]:
        assert client.post(BASE + page, data={"reason": "x", "size": "1"}).status_code == (403 if role else 302)
    assert session.scalar(select(VoterCodeBatch)) is None


def test_an_unknown_cycle_is_404(client, signed_in):
    for page in ["", "/codes", "/voters", "/void-ballot", "/close"]:
        assert client.get(f"/staff/voting/nowhere{page}").status_code == 404


def test_pages_speak_french(client, signed_in, voter_account):
    for page in ["", "/codes", "/voters", "/void-ballot", "/close"]:
        response = client.get(BASE + page, headers=FRENCH)
        assert response.status_code == 200 and 'lang="fr' in response.text
