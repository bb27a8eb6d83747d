"""The accounts service: registering, signing in, passwords and their reset, roles, search."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from pb.models import AuditLogEntry, Role, User
from pb.passwords import verify_password
from pb.services import accounts
from pb.services.audit import verify_chain
from pb.services.errors import DomainError

SECRET = "test-secret-key-not-for-production-use"
PASSWORD = "correct horse battery"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def register(session, email, password, display_name, now=NOW):
    return accounts.register(session, SECRET, email, password, display_name, now=now)


@pytest.fixture(autouse=True)
def request_context(app):
    """Error messages are translated, so the services run inside a request as they do in the app."""
    with app.test_request_context():
        yield


def test_register_lower_cases_the_email_and_hashes_the_password(session):
    registration = register(session, "  Amira@Example.ORG ", "a long passphrase", " Amira ")
    session.commit()
    stored = session.scalars(select(User)).one()
    assert registration.created and registration.user is stored
    assert stored.email == "amira@example.org"
    assert stored.display_name == "Amira"
    assert "a long passphrase" not in stored.password_hash
    assert stored.password_hash.startswith("$argon2")
    assert verify_password(stored.password_hash, "a long passphrase")
    assert stored.roles == {Role.RESIDENT}


def test_a_registered_account_starts_unconfirmed_and_cannot_take_part(session):
    user = register(session, "amira@example.org", "a long passphrase", "Amira").user
    assert user.email_confirmed_at is None and not user.email_confirmed
    assert not accounts.can_take_part(user)
    with pytest.raises(DomainError) as caught:
        accounts.check_can_take_part(user)
    assert caught.value.message is accounts.CONFIRM_EMAIL_FIRST


def test_registering_a_taken_address_changes_nothing_and_names_its_owner(session, make_user):
    owner = make_user("amira@example.org", display_name="Amira")
    before = (owner.password_hash, owner.display_name, owner.password_changed_at, owner.session_generation)
    registration = register(session, "AMIRA@example.org", "another passphrase", "Someone else")
    session.commit()
    assert registration.user.id == owner.id
    assert not registration.created and registration.confirmation_token is None
    session.expire_all()
    (stored,) = session.scalars(select(User)).all()
    assert (
        stored.password_hash,
        stored.display_name,
        stored.password_changed_at,
        stored.session_generation,
    ) == (before)
    assert stored.email_confirmed


def test_registering_hashes_a_password_whether_or_not_the_address_is_taken(session, make_user, monkeypatch):
    """The slow step runs on both paths, so the time taken does not tell which addresses have accounts."""
    make_user("amira@example.org")
    hashed: list[str] = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(
        accounts, "hash_password", lambda password: hashed.append(password) or real_hash(password)
    )
    register(session, "amira@example.org", "first passphrase", "Amira")
    register(session, "bo@example.org", "second passphrase", "Bo")
    assert hashed == ["first passphrase", "second passphrase"]


def test_the_password_rules_apply_whether_or_not_the_address_is_taken(session, make_user):
    make_user("amira@example.org")
    for email in ("amira@example.org", "bo@example.org"):
        with pytest.raises(DomainError) as caught:
            register(session, email, "short", "Someone")
        assert (caught.value.field, str(caught.value)) == ("password", "Use at least 10 characters.")


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 10 characters"), ("Amira@Example.org", "e-mail address as your password")],
)
def test_register_refuses_weak_passwords(session, password, problem):
    with pytest.raises(DomainError) as caught:
        register(session, "amira@example.org", password, "Amira")
    assert caught.value.field == "password"
    assert problem in str(caught.value)
    assert session.scalars(select(User)).all() == []


def test_authenticate(session, make_user):
    make_user("amira@example.org")
    assert accounts.authenticate(session, "Amira@Example.org", PASSWORD).email == "amira@example.org"
    assert accounts.authenticate(session, "amira@example.org", "wrong password") is None
    assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None


def test_an_inactive_account_cannot_authenticate(session, make_user):
    user = make_user("amira@example.org")
    user.is_active = False
    session.commit()
    assert accounts.authenticate(session, "amira@example.org", PASSWORD) is None


def test_change_password_needs_the_current_one(session, make_user):
    user = make_user("amira@example.org")
    old_hash = user.password_hash
    with pytest.raises(DomainError) as caught:
        accounts.change_password(session, user, "not my password", "a brand new passphrase")
    assert caught.value.field == "current_password"
    assert user.password_hash == old_hash


def test_change_password_ends_older_sessions_even_within_the_same_second(session, make_user):
    user = make_user("amira@example.org")
    old_session_id = user.get_id()
    accounts.change_password(session, user, PASSWORD, "a brand new passphrase")
    session.commit()
    session.refresh(user)
    assert verify_password(user.password_hash, "a brand new passphrase")
    assert not verify_password(user.password_hash, PASSWORD)
    assert user.get_id() != old_session_id
    # And again at once: every change moves the change time to a later second.
    second_id = user.get_id()
    accounts.change_password(session, user, "a brand new passphrase", "yet another passphrase")
    assert user.get_id() != second_id


def test_change_password_applies_the_password_rules(session, make_user):
    user = make_user("amira@example.org")
    with pytest.raises(DomainError) as caught:
        accounts.change_password(session, user, PASSWORD, "short")
    assert caught.value.field == "new_password"


def test_password_reset_round_trip(session, make_user):
    user = make_user("amira@example.org")
    reset = accounts.request_password_reset(session, SECRET, "AMIRA@example.org")
    assert reset is not None and reset.user.id == user.id
    assert accounts.account_for_reset_token(session, SECRET, reset.token).id == user.id

    accounts.complete_password_reset(session, SECRET, reset.token, "my new passphrase")
    session.commit()
    assert accounts.authenticate(session, "amira@example.org", "my new passphrase") is not None
    assert accounts.authenticate(session, "amira@example.org", PASSWORD) is None
    # Used once, the token is dead.
    assert accounts.account_for_reset_token(session, SECRET, reset.token) is None
    with pytest.raises(DomainError):
        accounts.complete_password_reset(session, SECRET, reset.token, "another passphrase")


def test_no_reset_for_unknown_or_inactive_accounts(session, make_user):
    assert accounts.request_password_reset(session, SECRET, "nobody@example.org") is None
    user = make_user("amira@example.org")
    user.is_active = False
    session.commit()
    assert accounts.request_password_reset(session, SECRET, "amira@example.org") is None


def test_a_reset_token_expires_after_an_hour(session, make_user, monkeypatch):
    make_user("amira@example.org")
    an_hour_and_a_second_ago = int(time.time()) - 3601
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: an_hour_and_a_second_ago)
        reset = accounts.request_password_reset(session, SECRET, "amira@example.org")
    assert accounts.account_for_reset_token(session, SECRET, reset.token) is None


def test_a_reset_token_dies_when_the_password_changes(session, make_user):
    user = make_user("amira@example.org")
    reset = accounts.request_password_reset(session, SECRET, "amira@example.org")
    accounts.change_password(session, user, PASSWORD, "changed in the meantime")
    assert accounts.account_for_reset_token(session, SECRET, reset.token) is None


def test_a_token_signed_with_another_key_is_refused(session, make_user):
    make_user("amira@example.org")
    reset = accounts.request_password_reset(session, "some-other-secret-key", "amira@example.org")
    assert accounts.account_for_reset_token(session, SECRET, reset.token) is None


def test_a_reset_confirms_the_address_it_was_mailed_to(session):
    user = register(session, "amira@example.org", "a long passphrase", "Amira").user
    reset = accounts.request_password_reset(session, SECRET, "amira@example.org")
    accounts.complete_password_reset(session, SECRET, reset.token, "my new passphrase", NOW)
    assert user.email_confirmed_at == NOW


# Confirming the e-mail address


def unconfirmed(session, email="amira@example.org"):
    registration = register(session, email, "a long passphrase", "Amira")
    session.commit()
    return registration.user, registration.confirmation_token


def test_following_the_link_confirms_the_address_and_lets_the_person_take_part(session):
    user, token = unconfirmed(session)
    later = NOW + timedelta(hours=47)
    assert accounts.confirm_email(session, SECRET, token, later) is user
    session.commit()
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.email_confirmed_at == later
    assert accounts.can_take_part(stored)
    accounts.check_can_take_part(stored)


def test_a_confirmation_link_works_only_once(session):
    user, token = unconfirmed(session)
    accounts.confirm_email(session, SECRET, token, NOW)
    with pytest.raises(DomainError) as caught:
        accounts.confirm_email(session, SECRET, token, NOW + timedelta(minutes=1))
    assert "does not work any more" in str(caught.value)
    assert user.email_confirmed_at == NOW


def test_a_confirmation_link_expires_after_48_hours(session):
    user, token = unconfirmed(session)
    with pytest.raises(DomainError):
        accounts.confirm_email(session, SECRET, token, NOW + timedelta(hours=48, seconds=1))
    assert not user.email_confirmed


def test_a_confirmation_link_dies_when_the_address_changes(session):
    user, token = unconfirmed(session)
    user.email = "amira.khan@example.org"
    session.flush()
    with pytest.raises(DomainError):
        accounts.confirm_email(session, SECRET, token, NOW)
    assert not user.email_confirmed
    # A link for the new address works.
    again = accounts.request_email_confirmation(SECRET, user, NOW)
    accounts.confirm_email(session, SECRET, again.token, NOW)
    assert user.email_confirmed


@pytest.mark.parametrize("token", ["", "nonsense", "eyJhbGciOi.tampered.value"])
def test_a_made_up_confirmation_link_is_refused(session, token):
    unconfirmed(session)
    with pytest.raises(DomainError):
        accounts.confirm_email(session, SECRET, token, NOW)


def test_a_confirmation_link_signed_with_another_key_or_as_a_reset_link_is_refused(session):
    user, _token = unconfirmed(session)
    other_key = accounts.request_email_confirmation("some-other-secret-key", user, NOW).token
    reset_link = accounts.request_password_reset(session, SECRET, user.email).token
    for token in (other_key, reset_link):
        with pytest.raises(DomainError):
            accounts.confirm_email(session, SECRET, token, NOW)
    assert not user.email_confirmed


def test_a_deactivated_account_cannot_be_confirmed(session):
    user, token = unconfirmed(session)
    user.is_active = False
    with pytest.raises(DomainError):
        accounts.confirm_email(session, SECRET, token, NOW)


def test_a_new_link_only_for_active_unconfirmed_accounts(session, make_user):
    user, _token = unconfirmed(session)
    confirmation = accounts.request_email_confirmation_for(session, SECRET, " AMIRA@example.org", NOW)
    assert confirmation.user is user
    accounts.confirm_email(session, SECRET, confirmation.token, NOW)
    assert accounts.request_email_confirmation_for(session, SECRET, "amira@example.org", NOW) is None
    assert accounts.request_email_confirmation_for(session, SECRET, "nobody@example.org", NOW) is None
    inactive, _ = unconfirmed(session, "bo@example.org")
    inactive.is_active = False
    assert accounts.request_email_confirmation(SECRET, inactive, NOW) is None


def test_accounts_made_for_someone_start_confirmed_only_when_the_maker_says_so(session):
    made = accounts.create_user(session, "boss@example.org", PASSWORD, "Boss", confirmed_at=NOW)
    assert made.email_confirmed_at == NOW
    assert not accounts.create_user(session, "bo@example.org", PASSWORD, "Bo").email_confirmed


def test_who_may_take_part(session, make_user):
    from flask_login import AnonymousUserMixin

    confirmed = make_user("amira@example.org")
    assert accounts.can_take_part(confirmed)
    assert not accounts.can_take_part(None)
    assert not accounts.can_take_part(AnonymousUserMixin())
    with pytest.raises(DomainError) as caught:
        accounts.check_can_take_part(None)
    assert caught.value.message is accounts.CONFIRM_EMAIL_FIRST
    confirmed.is_active = False
    assert not accounts.can_take_part(confirmed)
    with pytest.raises(DomainError) as caught:
        accounts.check_can_take_part(confirmed)
    assert caught.value.message is accounts.ACCOUNT_DEACTIVATED


def test_the_messages_are_lazy_and_translated():
    from flask_babel import LazyString, force_locale

    assert isinstance(accounts.CONFIRM_EMAIL_FIRST, LazyString)
    assert str(accounts.CONFIRM_EMAIL_FIRST).startswith("Confirm your e-mail address first:")
    with force_locale("fr_CA"):
        assert str(accounts.CONFIRM_EMAIL_FIRST).startswith("Confirmez d’abord votre adresse courriel\u00a0:")


def test_update_profile(session, make_user):
    user = make_user("amira@example.org")
    accounts.update_profile(session, user, "  Amira K. ", "fr_CA")
    session.commit()
    session.refresh(user)
    assert (user.display_name, user.locale) == ("Amira K.", "fr_CA")


def _entries(session) -> list[AuditLogEntry]:
    return list(session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id)))


def test_granting_and_revoking_roles_is_audited_with_before_and_after(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    user = make_user("amira@example.org")
    accounts.grant_role(session, admin, user, Role.STAFF)
    accounts.grant_role(session, admin, user, Role.AUDITOR)
    accounts.revoke_role(session, admin, user, Role.STAFF)
    session.commit()

    entries = [e for e in _entries(session) if e.subject_id == str(user.id)]
    assert [(e.action, e.actor_label, e.before, e.after) for e in entries] == [
        ("role.grant", "admin@example.org", {"roles": ["resident"]}, {"roles": ["resident", "staff"]}),
        (
            "role.grant",
            "admin@example.org",
            {"roles": ["resident", "staff"]},
            {"roles": ["auditor", "resident", "staff"]},
        ),
        (
            "role.revoke",
            "admin@example.org",
            {"roles": ["auditor", "resident", "staff"]},
            {"roles": ["auditor", "resident"]},
        ),
    ]
    assert all(e.actor_id == admin.id for e in entries)
    assert verify_chain(session).intact
    assert [e.action for e in accounts.role_history(session, user)] == [
        "role.revoke",
        "role.grant",
        "role.grant",
    ]


def test_granting_a_role_twice_or_revoking_one_not_held_changes_nothing(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    user = make_user("amira@example.org", roles=["staff"])
    before = len(_entries(session))
    accounts.grant_role(session, admin, user, Role.STAFF)
    accounts.grant_role(session, admin, user, Role.RESIDENT)
    accounts.revoke_role(session, admin, user, Role.AUDITOR)
    assert len(_entries(session)) == before
    assert user.roles == {Role.RESIDENT, Role.STAFF}


def test_an_admin_cannot_remove_their_own_admin_role(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    with pytest.raises(DomainError):
        accounts.revoke_role(session, admin, admin, Role.ADMIN)
    assert Role.ADMIN in admin.roles


def test_search_accounts(session, make_user):
    make_user("amira@example.org", display_name="Amira Khan")
    make_user("bo@example.org", display_name="Bo Tremblay")
    make_user("c_100%@example.org", display_name="Chloé")

    def emails(text, **page):
        users, total = accounts.search_accounts(session, text, **page)
        return [u.email for u in users], total

    assert emails("") == (["amira@example.org", "bo@example.org", "c_100%@example.org"], 3)
    assert emails("AMIRA") == (["amira@example.org"], 1)
    assert emails("tremblay") == (["bo@example.org"], 1)
    # LIKE wildcards in the search are plain characters.
    assert emails("%") == (["c_100%@example.org"], 1)
    assert emails("_1") == (["c_100%@example.org"], 1)
    assert emails("", limit=2, offset=2) == (["c_100%@example.org"], 3)


# Common and guessable passwords


@pytest.mark.parametrize(
    "password", ["password123", "PASSWORD123", "qwertyuiop", "iloveyou12", " 1234567890 "]
)
def test_common_passwords_are_refused_with_the_reason(session, password):
    with pytest.raises(DomainError) as caught:
        register(session, "amira@example.org", password, "Amira")
    assert caught.value.field == "password"
    assert "one of the most common passwords" in str(caught.value)
    assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize(
    ("password", "name"),
    [
        ("aaaaaaaaaaaa", "Amira"),  # repeats
        ("abcdefghijkl", "Amira"),  # a sequence
        ("Password1!", "Amira"),  # a common word dressed up
        ("amirakhan1990", "Amira Khan"),  # the person's own name and a year
        ("zq" * 40, "Amira"),  # past zxcvbn's 72 characters, still weak
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(session, password, name):
    with pytest.raises(DomainError) as caught:
        register(session, "amira.khan@example.org", password, name)
    assert "too easy to guess" in str(caught.value)


def test_a_password_change_refuses_a_common_password(session, make_user):
    user = make_user("amira@example.org")
    with pytest.raises(DomainError) as caught:
        accounts.change_password(session, user, PASSWORD, "password123")
    assert caught.value.field == "new_password"
    assert verify_password(user.password_hash, PASSWORD)


@pytest.mark.parametrize("password", [PASSWORD, "une longue phrase", "Lakeview bus shelter 42"])
def test_passphrases_are_accepted(session, password):
    assert accounts.password_problem(password, "amira@example.org", "Amira") is None


# Deactivation and who may do what


def test_deactivating_ends_every_session_and_is_audited(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    user = make_user("amira@example.org")
    old_session_id = user.get_id()
    accounts.deactivate_account(session, admin, user, "  Asked by e-mail ")
    assert not user.is_active
    assert user.get_id() != old_session_id
    assert accounts.authenticate(session, "amira@example.org", PASSWORD) is None
    entry = _entries(session)[-1]
    assert (entry.action, entry.after) == (
        "account.deactivate",
        {"active": False, "reason": "Asked by e-mail"},
    )
    assert verify_chain(session).intact


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_deactivating_needs_a_reason_of_reasonable_length(session, make_user, reason):
    admin = make_user("admin@example.org", roles=["admin"])
    user = make_user("amira@example.org")
    with pytest.raises(DomainError) as caught:
        accounts.deactivate_account(session, admin, user, reason)
    assert caught.value.field == "reason"
    assert user.is_active


def test_an_admin_cannot_deactivate_themselves(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    assert not accounts.can_deactivate(session, admin, admin)
    with pytest.raises(DomainError):
        accounts.deactivate_account(session, admin, admin, "testing")
    assert admin.is_active


def test_the_last_active_admin_keeps_the_role_and_the_account(session, make_user):
    """Even an acting admin whose own account was deactivated meanwhile cannot remove the last one."""
    stale = make_user("stale@example.org", roles=["admin"])
    last = make_user("last@example.org", roles=["admin"])
    stale.is_active = False
    session.flush()
    assert not accounts.can_revoke_role(session, stale, last, Role.ADMIN)
    assert not accounts.can_deactivate(session, stale, last)
    with pytest.raises(DomainError, match="last active admin"):
        accounts.revoke_role(session, stale, last, Role.ADMIN)
    with pytest.raises(DomainError, match="last active admin"):
        accounts.deactivate_account(session, stale, last, "testing")
    assert Role.ADMIN in last.roles and last.is_active


def test_who_may_revoke_which_role(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    other_admin = make_user("other@example.org", roles=["admin"])
    staff = make_user("staff@example.org", roles=["staff"])
    assert accounts.can_revoke_role(session, admin, other_admin, Role.ADMIN)
    assert not accounts.can_revoke_role(session, admin, admin, Role.ADMIN)
    assert accounts.can_revoke_role(session, admin, staff, Role.STAFF)
    assert not accounts.can_revoke_role(session, admin, staff, Role.AUDITOR)  # not held
    assert not accounts.can_revoke_role(session, admin, staff, Role.RESIDENT)
    assert not accounts.can_revoke_role(session, staff, other_admin, Role.ADMIN)  # not an admin
    with pytest.raises(DomainError):
        accounts.revoke_role(session, staff, other_admin, Role.ADMIN)


def test_sign_out_and_role_changes_move_the_session_generation(session, make_user):
    admin = make_user("admin@example.org", roles=["admin"])
    user = make_user("amira@example.org")
    ids = [user.get_id()]
    accounts.sign_out(session, user)
    ids.append(user.get_id())
    accounts.grant_role(session, admin, user, Role.STAFF)
    ids.append(user.get_id())
    accounts.revoke_role(session, admin, user, Role.STAFF)
    ids.append(user.get_id())
    assert len(set(ids)) == 4
