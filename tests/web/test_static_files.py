"""The style sheet's address carries a digest of its content, so browsers keep it for a year (even
for a signed-in person, whose pages are never stored) and fetch it again only when it changes."""

from __future__ import annotations

import re

from pb.app import STATIC_MAX_AGE_SECONDS


def style_sheet(page: str) -> str:
    return re.search(r'href="(/static/pb\.css\?v=[0-9a-f]{12})"', page).group(1)


def test_the_style_sheet_is_versioned_and_kept_for_a_year(client, make_user, sign_in):
    address = style_sheet(client.get("/").get_data(as_text=True))
    response = client.get(address)
    assert response.status_code == 200
    assert f"max-age={STATIC_MAX_AGE_SECONDS}" in response.headers["Cache-Control"]
    make_user()
    sign_in("resident@example.org")
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    assert style_sheet(page.get_data(as_text=True)) == address
    signed_in = client.get(address)
    assert "no-store" not in signed_in.headers["Cache-Control"]
    assert f"max-age={STATIC_MAX_AGE_SECONDS}" in signed_in.headers["Cache-Control"]


def test_an_unversioned_address_is_revalidated_as_before(client):
    response = client.get("/static/pb.css")
    assert response.status_code == 200
    assert f"max-age={STATIC_MAX_AGE_SECONDS}" not in response.headers.get("Cache-Control", "")


def test_the_version_follows_the_content(tmp_path):
    from pb import app as app_module

    sheet = tmp_path / "pb.css"
    sheet.write_text("body { color: black }")
    first = app_module._file_digest(str(sheet), 1, sheet.stat().st_size)
    sheet.write_text("body { color: blue }")
    assert app_module._file_digest(str(sheet), 2, sheet.stat().st_size) != first
