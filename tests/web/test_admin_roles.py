"""Admins find accounts and grant or revoke roles; every change is in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pb.models import AuditLogEntry, Role, User
from pb.services.audit import verify_chain


@pytest.fixture
def admin(make_user, sign_in):
    user = make_user("admin@example.org", roles=["admin"], display_name="Ada Admin")
    sign_in("admin@example.org")
    return user


def role_entries(session, user) -> list[AuditLogEntry]:
    return list(
        session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.subject_type == "user", AuditLogEntry.subject_id == str(user.id))
            .order_by(AuditLogEntry.id)
        )
    )


def roles_of(session, user) -> set[Role]:
    session.expire_all()
    return set(session.get(User, user.id).roles)


def test_anonymous_visitors_are_sent_to_sign_in(client, make_user):
    make_user("amira@example.org")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")
    assert client.post("/admin/accounts/1/grant", data={"role": "admin"}).status_code == 302


@pytest.mark.parametrize("roles", [(), ("staff",), ("auditor",)])
def test_only_admins_may_enter(client, session, make_user, sign_in, roles):
    user = make_user("someone@example.org", roles=roles)
    sign_in("someone@example.org")
    assert client.get("/admin/").status_code == 403
    assert client.get(f"/admin/accounts/{user.id}").status_code == 403
    response = client.post(f"/admin/accounts/{user.id}/grant", data={"role": "admin"})
    assert response.status_code == 403
    assert "Access denied" in response.text
    assert Role.ADMIN not in roles_of(session, user)


def test_admins_list_and_search_accounts(client, make_user, admin):
    make_user("amira@example.org", display_name="Amira Khan", roles=["staff"])
    make_user("bo@example.org", display_name="Bo Tremblay")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "<h1>Accounts</h1>" in page.text
    assert "3 accounts." in page.text
    assert "amira@example.org" in page.text and "bo@example.org" in page.text
    assert "Resident, Staff" in page.text

    by_email = client.get("/admin/?q=AMIRA")
    assert "amira@example.org" in by_email.text and "bo@example.org" not in by_email.text
    assert "1 account matches “AMIRA”." in by_email.text
    by_name = client.get("/admin/?q=tremblay")
    assert "bo@example.org" in by_name.text and "amira@example.org" not in by_name.text
    nothing = client.get("/admin/?q=%25zzz")
    assert "No account matches “%zzz”." in nothing.text


def test_search_text_is_escaped(client, admin):
    page = client.get("/admin/?q=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_granting_a_role_is_audited_with_before_and_after(client, session, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira")
    response = client.post(f"/admin/accounts/{amira.id}/grant", data={"role": "staff"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Amira now has the role Staff." in response.text
    assert roles_of(session, amira) == {Role.RESIDENT, Role.STAFF}

    (entry,) = role_entries(session, amira)
    assert entry.action == "role.grant"
    assert (entry.actor_id, entry.actor_label) == (admin.id, "admin@example.org")
    assert entry.before == {"roles": ["resident"]}
    assert entry.after == {"roles": ["resident", "staff"]}
    assert verify_chain(session).intact
    # The account page shows the change from the audit log.
    assert re.search(
        r"<td>admin@example.org</td>\s*<td>Resident</td>\s*<td>Resident, Staff</td>", response.text
    )


def test_revoking_a_role_is_audited_with_before_and_after(client, session, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira", roles=["staff", "auditor"])
    response = client.post(
        f"/admin/accounts/{amira.id}/revoke", data={"role": "staff"}, follow_redirects=True
    )
    assert "Amira no longer has the role Staff." in response.text
    assert roles_of(session, amira) == {Role.RESIDENT, Role.AUDITOR}
    entry = role_entries(session, amira)[-1]
    assert entry.action == "role.revoke" and entry.actor_id == admin.id
    assert entry.before == {"roles": ["auditor", "resident", "staff"]}
    assert entry.after == {"roles": ["auditor", "resident"]}


def test_a_new_admin_can_administer(app, client, session, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira")
    client.post(f"/admin/accounts/{amira.id}/grant", data={"role": "admin"})
    other = app.test_client()
    other.post("/account/sign-in", data={"email": "amira@example.org", "password": "correct horse battery"})
    assert other.get("/admin/").status_code == 200


def test_an_admin_cannot_remove_their_own_admin_role(client, session, admin):
    before = len(role_entries(session, admin))
    response = client.post(
        f"/admin/accounts/{admin.id}/revoke", data={"role": "admin"}, follow_redirects=True
    )
    assert "You cannot remove your own admin role." in response.text
    assert Role.ADMIN in roles_of(session, admin)
    assert len(role_entries(session, admin)) == before


@pytest.mark.parametrize("role", ["resident", "superuser", ""])
def test_only_grantable_roles_are_accepted(client, session, make_user, admin, role):
    amira = make_user("amira@example.org")
    assert client.post(f"/admin/accounts/{amira.id}/grant", data={"role": role}).status_code == 400
    assert role_entries(session, amira) == []


def test_an_unknown_account_is_a_404(client, admin):
    assert client.get("/admin/accounts/9999").status_code == 404
    assert client.post("/admin/accounts/9999/grant", data={"role": "staff"}).status_code == 404


def test_the_account_page_offers_grant_and_remove(client, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira", roles=["auditor"])
    page = client.get(f"/admin/accounts/{amira.id}")
    assert "<h1>Amira</h1>" in page.text
    assert "Grant the role Staff" in page.text
    assert "Remove the role Auditor" in page.text
    assert "Grant the role Admin" in page.text
    assert f'action="/admin/accounts/{amira.id}/revoke"' in page.text


class TestCsrf:
    @pytest.fixture
    def app_settings(self, app_settings):
        return {**app_settings, "WTF_CSRF_ENABLED": True}

    def test_a_role_change_without_its_token_is_refused(self, client, session, make_user):
        make_user("admin@example.org", roles=["admin"])
        amira = make_user("amira@example.org")
        page = client.get("/account/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post(
            "/account/sign-in",
            data={"email": "admin@example.org", "password": "correct horse battery", "csrf_token": token},
        )
        response = client.post(f"/admin/accounts/{amira.id}/grant", data={"role": "admin"})
        assert response.status_code == 400
        assert Role.ADMIN not in roles_of(session, amira)

        page = client.get(f"/admin/accounts/{amira.id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post(
            f"/admin/accounts/{amira.id}/grant", data={"role": "admin", "csrf_token": token}
        )
        assert response.status_code == 302
        assert Role.ADMIN in roles_of(session, amira)


def test_the_last_admin_is_not_offered_to_remove_their_admin_role(client, make_user, admin):
    page = client.get(f"/admin/accounts/{admin.id}")
    assert "Remove the role Admin" not in page.text
    assert f'action="/admin/accounts/{admin.id}/revoke"' not in page.text
    assert "Grant the role Staff" in page.text


def test_another_admin_is_offered_to_remove_the_admin_role(client, make_user, admin):
    other = make_user("other@example.org", roles=["admin"])
    page = client.get(f"/admin/accounts/{other.id}")
    assert "Remove the role Admin" in page.text
