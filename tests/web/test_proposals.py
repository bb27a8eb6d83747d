"""Proposal pages: proposing with a photo, drafts, editing, withdrawing, the list, translations, photos."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from pb.models import Proposal, ProposalStatus
from tests.factories import make_proposal


@pytest.fixture
def cycle(make_cycle):
    return make_cycle(phase="proposals")


@pytest.fixture
def resident(make_user, log_in):
    return log_in(make_user("resident@example.org", display_name="Rosa Resident"))


def form_data(**overrides):
    data = {
        "title": "Lights on the river path",
        "summary": "Warm lights from the bridge to the centre.",
        "description": "It is dark after 5 pm.\n\nPeople avoid it.",
        "language": "en",
        "category": "",
        "district": "citywide",
        "location": "River path",
        "latitude": "",
        "longitude": "",
        "beneficiaries": "People walking home",
        "estimated_cost": "25 000,00",
        "partner": "",
        "show_author_name": "name",
        "photo_alt": "",
        "version": "",
        "submit": "Submit",
    }
    data.update(overrides)
    return data


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (45.0, 30.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_resident_submits_a_proposal_and_sees_it_public(client, cycle, resident, session):
    response = client.post(f"/cycles/{cycle.slug}/proposals/new", data=form_data())
    assert response.status_code == 302
    proposal = session.scalar(select(Proposal))
    assert proposal.status is ProposalStatus.SUBMITTED and proposal.estimated_cost_cents == 25_000_00
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lights on the river path" in page and "Rosa Resident" in page
    assert 'lang="en-CA"' in page
    listing = client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)
    assert "Lights on the river path" in listing


def test_fields_not_on_the_form_are_ignored(client, cycle, resident, session, make_user):
    other = make_user("other@example.org")
    client.post(
        f"/cycles/{cycle.slug}/proposals/new",
        data=form_data(status="on_ballot", author_id=str(other.id), cycle_id="999", support_count="500"),
    )
    proposal = session.scalar(select(Proposal))
    assert proposal.status is ProposalStatus.SUBMITTED
    assert proposal.author_id == resident.id and proposal.support_count == 0


def test_html_in_every_field_is_shown_as_text(client, cycle, resident):
    script = "<script>alert(1)</script>"
    response = client.post(
        f"/cycles/{cycle.slug}/proposals/new",
        data=form_data(title=script, summary=script, description=script, location=script, beneficiaries=script,
                       partner=script),
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_missing_fields_are_shown_on_the_form_and_keep_what_was_typed(client, cycle, resident):
    response = client.post(f"/cycles/{cycle.slug}/proposals/new", data=form_data(title="", estimated_cost="lots"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please correct the following" in page and "Give an amount in dollars" in page
    assert "Warm lights from the bridge" in page


def test_a_draft_is_404_to_everyone_but_its_author(client, cycle, resident, session, make_user, log_in):
    client.post(f"/cycles/{cycle.slug}/proposals/new", data=form_data(submit="", save_draft="Save"))
    draft = session.scalar(select(Proposal))
    assert draft.status is ProposalStatus.DRAFT
    url = f"/cycles/{cycle.slug}/proposals/{draft.id}"
    assert client.get(url).status_code == 200
    assert "Lights on the river path" in client.get(f"/cycles/{cycle.slug}/proposals/mine").get_data(as_text=True)
    log_in(make_user("staff@example.org", roles=["staff"]))
    assert client.get(url).status_code == 404
    assert "Lights on the river path" not in client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)


def test_another_cycles_proposal_is_404(client, make_cycle, cycle, resident, session):
    other = make_cycle(slug="other-cycle")
    proposal = make_proposal(session, resident, other)
    assert client.get(f"/cycles/{cycle.slug}/proposals/{proposal.id}").status_code == 404
    assert client.get(f"/cycles/{other.slug}/proposals/{proposal.id}").status_code == 200


def test_a_resident_cannot_edit_or_withdraw_anothers_proposal(client, cycle, session, make_user, log_in):
    author = make_user("author@example.org")
    proposal = make_proposal(session, author, cycle)
    log_in(make_user("intruder@example.org"))
    base = f"/cycles/{cycle.slug}/proposals/{proposal.id}"
    assert client.post(base + "/edit", data=form_data(title="Mine now")).status_code == 403
    assert client.post(base + "/withdraw", data={}).status_code == 403
    session.refresh(proposal)
    assert proposal.title != "Mine now" and proposal.status is ProposalStatus.SUBMITTED


def test_editing_and_withdrawing(client, cycle, resident, session):
    proposal = make_proposal(session, resident, cycle)
    base = f"/cycles/{cycle.slug}/proposals/{proposal.id}"
    page = client.get(base + "/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post(base + "/edit", data=form_data(title="Brighter river path", version=version))
    assert response.status_code == 302
    stale = client.post(base + "/edit", data=form_data(title="Stale", version=version))
    assert "changed this proposal" in stale.get_data(as_text=True)
    assert client.post(base + "/withdraw", data={}).status_code == 302
    session.refresh(proposal)
    assert proposal.title == "Brighter river path" and proposal.status is ProposalStatus.WITHDRAWN
    assert "Withdrawn" in client.get(base).get_data(as_text=True)


def test_submitting_after_the_phase_is_refused_with_a_message(client, make_cycle, make_user, log_in):
    cycle = make_cycle(phase="review")
    log_in(make_user("late@example.org"))
    page = client.post(f"/cycles/{cycle.slug}/proposals/new", data=form_data()).get_data(as_text=True)
    assert "The time for proposals is over" in page


def test_an_unconfirmed_account_is_told_to_confirm(client, cycle, make_user, log_in):
    log_in(make_user("new@example.org", confirmed=False))
    page = client.post(f"/cycles/{cycle.slug}/proposals/new", data=form_data()).get_data(as_text=True)
    assert "Confirm your e-mail address" in page


def test_a_photo_is_reencoded_without_its_location(client, cycle, resident, session):
    data = form_data(photo=(io.BytesIO(jpeg_with_gps()), "path.jpg"), photo_alt="The dark river path")
    response = client.post(f"/cycles/{cycle.slug}/proposals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    proposal = session.scalar(select(Proposal))
    served = client.get(f"/photos/{proposal.photo_name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (64, 48) and not image.getexif()
    assert b"PhoneMaker" not in served.data
    page = client.get(f"/cycles/{cycle.slug}/proposals/{proposal.id}").get_data(as_text=True)
    assert 'alt="The dark river path"' in page


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "not a JPEG, PNG or WebP"),
        (b"GIF89a" + b"\0" * 20, "not a JPEG, PNG or WebP"),
        (jpeg_with_gps()[:200], "not a JPEG, PNG or WebP"),
    ],
)
def test_files_that_are_not_photos_are_refused_clearly(client, cycle, resident, session, payload, message):
    data = form_data(photo=(io.BytesIO(payload), "x.jpg"), photo_alt="x")
    response = client.post(f"/cycles/{cycle.slug}/proposals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert session.scalar(select(Proposal)) is None


def test_a_photo_needs_alt_text_on_the_form(client, cycle, resident, session):
    data = form_data(photo=(io.BytesIO(jpeg_with_gps()), "path.jpg"), photo_alt="")
    response = client.post(f"/cycles/{cycle.slug}/proposals/new", data=data, content_type="multipart/form-data")
    assert "alt text" in response.get_data(as_text=True)


def test_unknown_photos_are_404(client):
    assert client.get("/photos/" + "0" * 64 + ".jpg").status_code == 404
    assert client.get("/photos/../../etc/passwd").status_code == 404


def test_staff_add_a_translation_shown_as_such(client, cycle, session, make_user, log_in):
    proposal = make_proposal(session, make_user("author@example.org"), cycle)
    base = f"/cycles/{cycle.slug}/proposals/{proposal.id}"
    log_in(make_user("staff@example.org", roles=["staff"]))
    response = client.post(
        base + "/translation",
        data={"title": "Éclairage du sentier", "summary": "Des lumières.", "description": "Il fait noir."},
    )
    assert response.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Translation into French" in page and 'lang="fr-CA"' in page and "Éclairage du sentier" in page


def test_residents_cannot_translate(client, cycle, resident, session):
    proposal = make_proposal(session, resident, cycle)
    assert client.get(f"/cycles/{cycle.slug}/proposals/{proposal.id}/translation").status_code == 403


def _numbered_proposals(session, cycle, author) -> None:
    """25 proposals "Idée numéro 0" to 24 (two pages), not yet committed."""
    cycle.max_proposals_per_resident = 30
    session.commit()
    for number in range(25):
        make_proposal(session, author, cycle, title=f"Idée numéro {number}", commit=False)


def test_the_list_filters_searches_and_pages(client, cycle, session, make_user):
    author = make_user("author@example.org")
    _numbered_proposals(session, cycle, author)
    make_proposal(session, author, cycle, title="Sécurité à l’école")
    page = client.get(f"/cycles/{cycle.slug}/proposals?q=securite+ECOLE").get_data(as_text=True)
    assert "Sécurité à l’école" in page and "1 proposal" in page
    first = client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)
    assert "26 proposals" in first and "Page 1 of 2" in first
    again = client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)
    titles = re.findall(r"Idée numéro \d+", first)
    assert titles == re.findall(r"Idée numéro \d+", again)  # the visitor's order is stable


def test_a_visitors_order_is_a_plain_cookie_and_no_session(client, cycle, session, make_user):
    """The random order's seed is the visitor's own cookie (no signed session for a first visit); a
    broken or forged value is replaced, and the other sorts need none."""
    author = make_user("author@example.org")
    _numbered_proposals(session, cycle, author)
    make_proposal(session, author, cycle, title="Last one")
    sorted_page = client.get(f"/cycles/{cycle.slug}/proposals?sort=newest")
    assert "Set-Cookie" not in sorted_page.headers
    first = client.get(f"/cycles/{cycle.slug}/proposals")
    cookies = first.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("pb_order=") and "HttpOnly" in cookies[0]
    seed = cookies[0].split(";")[0].split("=")[1]
    assert "Set-Cookie" not in client.get(f"/cycles/{cycle.slug}/proposals?page=2").headers
    titles = re.findall(r"Idée numéro \d+|Last one", first.get_data(as_text=True))
    client.set_cookie("pb_order", seed)
    again = client.get(f"/cycles/{cycle.slug}/proposals").get_data(as_text=True)
    assert re.findall(r"Idée numéro \d+|Last one", again) == titles
    for forged in ("0", "-5", "99999999999999", "x", "٣", "\x00"):
        client.set_cookie("pb_order", forged)
        response = client.get(f"/cycles/{cycle.slug}/proposals")
        assert response.status_code == 200 and "pb_order=" in response.headers.get("Set-Cookie", ""), forged
    client.delete_cookie("pb_order")
    huge = client.get(f"/cycles/{cycle.slug}/proposals", headers={"Cookie": "pb_order=" + "9" * 5000})
    assert huge.status_code == 200  # more digits than int() reads: replaced like any forged value
    assert client.get(f"/cycles/{cycle.slug}/proposals?page=3").status_code == 404
    assert client.get(f"/cycles/{cycle.slug}/proposals?sort=bogus").status_code == 200


def test_french_pages(client, cycle, resident, session):
    make_proposal(session, resident, cycle)
    client.set_cookie("pb_locale", "fr_CA")
    page = client.get(f"/cycles/{cycle.slug}/proposals", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert "Propositions" in page
