"""The voter registry pages: staff import a file; residents check their details and become voters."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from pb.models import EligibilityBasis, VoterEligibility, VoterRegistryEntry
from pb.services import registry
from tests.factories import create_account

CSV = (
    "last_name;first_names;birth_date;postal_code;district\r\n"
    "Côté-Léger;Marie-Ève;1980-05-17;H2X 1Y4;Nord\r\n"
    "Tremblay;Jean;1975-01-02;H3Z 2Y7;south\r\n"
    ";Nobody;1975-01-02;H3Z 2Y7;south\r\n"
).encode()
DETAILS = {"last_name": "cote leger", "first_names": "MARIE EVE", "birth_date": "1980-05-17", "postal_code": "h2x1y4"}


@pytest.fixture
def staff(session):
    return create_account(session, "staff@example.org", roles=["staff"])


@pytest.fixture
def cycle(make_cycle):
    return make_cycle(phase="review", slug="reg-cycle")


def upload(client, data: bytes, name: str = "registry.csv", **extra):
    return client.post(
        "/staff/registry/reg-cycle",
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


@pytest.fixture
def imported(client, log_in, staff, cycle):
    log_in(staff)
    response = upload(client, CSV)
    assert response.status_code == 303
    client.get("/")  # the flash messages
    return cycle


def test_staff_import_and_see_the_report(client, log_in, staff, cycle, session):
    log_in(staff)
    page = client.get("/staff/registry/reg-cycle")
    assert page.status_code == 200 and "No registry was imported" in page.text
    response = upload(client, CSV)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Registry imported: 2 rows accepted, 1 rejected." in page.text
    assert "registry.csv" in page.text and "Empty: this column is required." in page.text
    assert re.search(r"<td>4</td>\s*<td><code>last_name</code></td>", page.text)
    assert "Tremblay" not in page.text and "Nobody" not in page.text
    assert session.scalar(select(func.count()).select_from(VoterRegistryEntry)) == 2


def test_the_staff_page_in_french(client, log_in, staff, imported):
    client.set_cookie("pb_locale", "fr_CA")
    page = client.get("/staff/registry/reg-cycle", headers={"Accept-Language": "fr-CA"})
    assert "Registre des électeurs\u00a0: Cycle d’essai" in page.text and "Importer le registre" in page.text


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"\r\n \r\n", "blank.csv", "The file is empty."),
        (b"last_name\x00,first_names\r\n", "nul.csv", "NUL bytes"),
        (b"\xff\xfel\x00a\x00", "utf16.csv", "NUL bytes"),
        (b"\x81\x8d\x8f", "bad.csv", "cannot be read"),
        (b"a,b\r\n1,2\r\n", "other.csv", "must name these columns"),
        (b'last_name,first_names,birth_date,postal_code\r\n"x\r\n', "quote.csv", "Line 2 cannot be read"),
        (b"x" * (registry.MAX_FILE_BYTES + 10), "big.csv", "larger than 10 MB"),
    ],
)
def test_bad_files_are_form_errors(client, log_in, staff, cycle, data, name, message):
    log_in(staff)
    response = upload(client, data, name)
    assert response.status_code == 422
    assert message in response.text


def test_no_file_is_a_form_error(client, log_in, staff, cycle):
    log_in(staff)
    response = client.post("/staff/registry/reg-cycle", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the CSV file" in response.text


def test_a_file_larger_than_any_request_is_a_413(client, log_in, staff, cycle, app):
    log_in(staff)
    response = upload(client, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 413


def test_residents_cannot_import(client, log_in, cycle, session):
    log_in(create_account(session, "someone@example.org"))
    assert client.get("/staff/registry/reg-cycle").status_code == 403
    assert upload(client, CSV).status_code == 403


def test_a_resident_matches_and_becomes_a_voter(client, log_in, imported, session):
    resident = log_in(create_account(session, "marie@example.org"))
    page = client.get("/cycles/reg-cycle/vote/registry")
    assert page.status_code == 200 and 'autocomplete="bday"' in page.text
    response = client.post("/cycles/reg-cycle/vote/registry", data=DETAILS)
    assert response.status_code == 303 and response.headers["Location"].endswith("/cycles/reg-cycle/vote")
    row = session.scalar(select(VoterEligibility).where(VoterEligibility.user_id == resident.id))
    assert row.basis is EligibilityBasis.REGISTRY and row.district.slug == "north"
    again = client.get("/cycles/reg-cycle/vote/registry")
    assert "Your account is a confirmed voter of this cycle." in again.text


def test_no_match_says_what_to_do_and_keeps_nothing(client, log_in, imported, session):
    log_in(create_account(session, "marie@example.org"))
    response = client.post("/cycles/reg-cycle/vote/registry", data={**DETAILS, "birth_date": "1980-05-18"})
    assert response.status_code == 422
    assert "see city staff in person, or ask a community partner" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert session.scalar(select(func.count()).select_from(VoterEligibility)) == 0


def test_a_second_account_is_sent_to_staff(client, log_in, imported, session):
    log_in(create_account(session, "marie@example.org"))
    assert client.post("/cycles/reg-cycle/vote/registry", data=DETAILS).status_code == 303
    log_in(create_account(session, "other@example.org"))
    response = client.post("/cycles/reg-cycle/vote/registry", data=DETAILS)
    assert response.status_code == 422 and "already confirmed another account" in response.text


def test_an_unconfirmed_e_mail_is_refused(client, log_in, imported, session):
    log_in(create_account(session, "new@example.org", confirmed=False))
    page = client.get("/cycles/reg-cycle/vote/registry")
    assert "Confirm your e-mail address first" in page.text and 'name="last_name"' not in page.text
    response = client.post("/cycles/reg-cycle/vote/registry", data=DETAILS)
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(VoterEligibility)) == 0


def test_visitors_sign_in_first(client, imported):
    client.post("/account/sign-out")
    with client.session_transaction() as flask_session:
        flask_session.clear()
    response = client.get("/cycles/reg-cycle/vote/registry")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "17/05/1980", "year-month-day"),
        ("birth_date", "1980-02-30", "year-month-day"),
        ("postal_code", "12345", "Canadian postal code"),
        ("last_name", "", "Enter your last name."),
        ("last_name", "\x1b[31m", "control characters"),
        ("first_names", "x" * 300, "at most 200"),
    ],
)
def test_bad_details_are_form_errors(client, log_in, imported, session, field, value, message):
    log_in(create_account(session, "marie@example.org"))
    response = client.post("/cycles/reg-cycle/vote/registry", data={**DETAILS, field: value})
    assert response.status_code == 422 and message in response.text


def test_nul_bytes_are_a_400(client, log_in, imported, session):
    log_in(create_account(session, "marie@example.org"))
    response = client.post("/cycles/reg-cycle/vote/registry", data={**DETAILS, "last_name": "a\x00b"})
    assert response.status_code == 400


def test_a_codes_only_cycle_has_no_registry_page(client, log_in, make_cycle, session):
    make_cycle(phase="review", slug="codes", vote_with_accounts=False)
    log_in(create_account(session, "marie@example.org"))
    assert client.get("/cycles/codes/vote/registry").status_code == 404
    assert client.get("/cycles/nowhere/vote/registry").status_code == 404


class TestRateLimit:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "REGISTRY_ACCOUNT_RATE_LIMIT": "3 per hour", "REGISTRY_RATE_LIMIT": "5 per hour"}

    def test_wrong_details_are_limited_per_account_and_per_address(self, client, log_in, imported, session):
        log_in(create_account(session, "guesser@example.org"))
        wrong = {**DETAILS, "birth_date": "1980-05-18"}
        statuses = [client.post("/cycles/reg-cycle/vote/registry", data=wrong).status_code for _ in range(4)]
        assert statuses == [422, 422, 422, 429]
        # Another account from the same address: its own three, then the address's limit of five.
        log_in(create_account(session, "second@example.org"))
        statuses = [client.post("/cycles/reg-cycle/vote/registry", data=wrong).status_code for _ in range(3)]
        assert statuses == [422, 422, 429]
        assert client.get("/cycles/reg-cycle/vote/registry").status_code == 200


class TestCsrf:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_forms_need_their_token(self, client, log_in, staff, cycle, session):
        log_in(staff)
        assert upload(client, CSV).status_code == 400
        page = client.get("/staff/registry/reg-cycle")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        assert upload(client, CSV, csrf_token=token).status_code == 303
        log_in(create_account(session, "marie@example.org"))
        assert client.post("/cycles/reg-cycle/vote/registry", data=DETAILS).status_code == 400
        page = client.get("/cycles/reg-cycle/vote/registry")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        response = client.post("/cycles/reg-cycle/vote/registry", data={**DETAILS, "csrf_token": token})
        assert response.status_code == 303


def test_a_revoked_voter_is_sent_to_staff(client, log_in, imported, session, staff):
    from pb.db import utcnow
    from pb.services import eligibility

    resident = log_in(create_account(session, "marie@example.org"))
    assert client.post("/cycles/reg-cycle/vote/registry", data=DETAILS).status_code == 303
    row = session.scalar(select(VoterEligibility).where(VoterEligibility.user_id == resident.id))
    eligibility.revoke_voter(session, staff, row, "Moved away", utcnow())
    session.commit()
    page = client.get("/cycles/reg-cycle/vote/registry")
    assert "Staff withdrew your account's confirmation" in page.text.replace("&#39;", "'")
    assert client.post("/cycles/reg-cycle/vote/registry", data=DETAILS).status_code == 422
