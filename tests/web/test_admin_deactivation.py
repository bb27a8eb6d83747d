"""Admins deactivate and reactivate accounts, with a reason in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pb.models import AuditLogEntry, User

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(make_user, sign_in):
    user = make_user("admin@example.org", roles=["admin"], display_name="Ada Admin")
    sign_in("admin@example.org")
    return user


def signed_in(client) -> bool:
    return "Sign out" in client.get("/").text


def is_active(session, user) -> bool:
    session.expire_all()
    return session.get(User, user.id).is_active


def status_entries(session, user) -> list[AuditLogEntry]:
    return list(
        session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.subject_id == str(user.id), AuditLogEntry.action.like("account.%"))
            .order_by(AuditLogEntry.id)
        )
    )


def test_deactivating_ends_sessions_refuses_sign_in_and_is_audited(app, client, session, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira")
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert signed_in(browser)

    response = client.post(
        f"/admin/accounts/{amira.id}/deactivate", data={"reason": "Asked by e-mail"}, follow_redirects=True
    )
    assert "Amira can no longer sign in, and has been signed out everywhere." in response.text
    assert "Asked by e-mail" in response.text  # the history on the account page
    assert not is_active(session, amira)
    assert not signed_in(browser)
    again = browser.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert "The e-mail address or the password is not correct." in again.text

    (entry,) = status_entries(session, amira)
    assert (entry.action, entry.actor_id) == ("account.deactivate", admin.id)
    assert entry.before == {"active": True}
    assert entry.after == {"active": False, "reason": "Asked by e-mail"}


def test_reactivating_lets_the_person_sign_in_again(app, client, session, make_user, admin):
    amira = make_user("amira@example.org", display_name="Amira")
    client.post(f"/admin/accounts/{amira.id}/deactivate", data={"reason": "Left the city"})
    page = client.get(f"/admin/accounts/{amira.id}")
    assert "Reactivate this account" in page.text and "Deactivate this account" not in page.text
    response = client.post(
        f"/admin/accounts/{amira.id}/reactivate", data={"reason": "Came back"}, follow_redirects=True
    )
    assert "Amira can sign in again." in response.text
    assert is_active(session, amira)
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": "amira@example.org", "password": PASSWORD})
    assert signed_in(browser)
    assert [e.action for e in status_entries(session, amira)] == ["account.deactivate", "account.reactivate"]


def test_a_reason_is_required(client, session, make_user, admin):
    amira = make_user("amira@example.org")
    response = client.post(f"/admin/accounts/{amira.id}/deactivate", data={"reason": "   "})
    assert response.status_code == 200
    assert "Say why, for the audit log." in response.text
    assert 'aria-invalid="true"' in response.text
    assert is_active(session, amira)
    assert status_entries(session, amira) == []


def test_an_admin_is_not_offered_and_cannot_deactivate_themselves(client, session, admin):
    page = client.get(f"/admin/accounts/{admin.id}")
    assert "Deactivate this account" not in page.text
    response = client.post(f"/admin/accounts/{admin.id}/deactivate", data={"reason": "Oops"})
    assert "You cannot deactivate your own account." in response.text
    assert is_active(session, admin)
    assert signed_in(client)
    assert status_entries(session, admin) == []


def test_another_admin_can_be_deactivated(client, session, make_user, admin):
    other = make_user("other@example.org", roles=["admin"])
    assert "Deactivate this account" in client.get(f"/admin/accounts/{other.id}").text
    client.post(f"/admin/accounts/{other.id}/deactivate", data={"reason": "Term ended"})
    assert not is_active(session, other)


@pytest.mark.parametrize("roles", [(), ("staff",), ("auditor",)])
def test_only_admins_may_deactivate(client, session, make_user, sign_in, roles):
    make_user("someone@example.org", roles=roles)
    amira = make_user("amira@example.org")
    sign_in("someone@example.org")
    for action in ("deactivate", "reactivate"):
        response = client.post(f"/admin/accounts/{amira.id}/{action}", data={"reason": "x"})
        assert response.status_code == 403
    assert is_active(session, amira)


def test_an_unknown_account_is_a_404(client, admin):
    assert client.post("/admin/accounts/9999/deactivate", data={"reason": "x"}).status_code == 404
