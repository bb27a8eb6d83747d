"""``pb create-admin`` makes the first admin, or makes an existing account an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pb.commands import cli
from pb.models import AuditLogEntry, Role, User
from pb.passwords import verify_password


def create_admin(runner, *args, **kwargs):
    return runner.invoke(cli, ["create-admin", *args], **kwargs)


def test_creates_the_first_admin(runner, session):
    result = create_admin(
        runner, "--email", "Boss@Example.org", "--name", "The Boss", "--password", "a long admin passphrase"
    )
    assert result.exit_code == 0, result.output
    assert "boss@example.org is an admin" in result.output

    user = session.scalars(select(User)).one()
    assert (user.email, user.display_name) == ("boss@example.org", "The Boss")
    assert user.roles == {Role.RESIDENT, Role.ADMIN}
    assert verify_password(user.password_hash, "a long admin passphrase")
    (entry,) = session.scalars(select(AuditLogEntry)).all()
    assert (entry.action, entry.actor_id, entry.actor_label) == ("role.grant", None, "command line")
    assert (entry.before, entry.after) == ({"roles": ["resident"]}, {"roles": ["admin", "resident"]})


def test_the_new_admin_can_sign_in_and_reach_the_admin_pages(runner, client):
    create_admin(
        runner, "--email", "boss@example.org", "--name", "Boss", "--password", "a long admin passphrase"
    )
    client.post("/account/sign-in", data={"email": "boss@example.org", "password": "a long admin passphrase"})
    assert client.get("/admin/").status_code == 200


def test_asks_for_what_is_not_given(runner, session):
    answers = "boss@example.org\nBoss\na long admin passphrase\na long admin passphrase\n"
    result = create_admin(runner, input=answers)
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "a long admin passphrase" not in result.output  # the password is not echoed
    assert Role.ADMIN in session.scalars(select(User)).one().roles


def test_makes_an_existing_account_an_admin_without_touching_its_password(runner, session, make_user):
    user = make_user("amira@example.org")
    result = create_admin(
        runner, "--email", "AMIRA@example.org", "--name", "ignored", "--password", "not used at all"
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    user = session.get(User, user.id)
    assert Role.ADMIN in user.roles
    assert verify_password(user.password_hash, "correct horse battery")
    assert user.display_name == "Test Person"


def test_running_it_twice_grants_once(runner, session):
    for _ in range(2):
        result = create_admin(
            runner, "--email", "boss@example.org", "--name", "Boss", "--password", "a long admin passphrase"
        )
        assert result.exit_code == 0, result.output
    assert len(session.scalars(select(AuditLogEntry)).all()) == 1
    assert len(session.scalars(select(User)).all()) == 1


def test_refuses_a_short_password(runner, session):
    result = create_admin(runner, "--email", "boss@example.org", "--name", "Boss", "--password", "short")
    assert result.exit_code == 1
    assert "Use at least 10 characters." in result.output
    assert session.scalars(select(User)).all() == []


def test_the_new_admin_starts_with_a_confirmed_address(runner, session):
    create_admin(
        runner, "--email", "boss@example.org", "--name", "Boss", "--password", "a long admin passphrase"
    )
    assert session.scalars(select(User)).one().email_confirmed


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Boss@Example.org", "Do not use your e-mail address as your password."),
        ("robertasmith1985", "This password is too easy to guess"),
        ("password123", "one of the most common passwords"),
    ],
)
def test_refuses_the_passwords_registration_refuses(runner, session, password, reason):
    """The same rules as registration: the address and the name count against the password."""
    result = create_admin(
        runner, "--email", "boss@example.org", "--name", "Roberta Smith", "--password", password
    )
    assert result.exit_code == 1
    assert reason in result.output
    assert session.scalars(select(User)).all() == []


def test_refuses_an_account_whose_address_is_not_confirmed(runner, session, make_user):
    """Anyone can register any address: an unconfirmed account may not be its owner's."""
    user = make_user("boss@example.org", confirmed=False)
    result = create_admin(runner, "--email", "boss@example.org", "--name", "Boss", "--password", "ignored")
    assert result.exit_code == 1
    assert "boss@example.org has an account whose address is not confirmed yet" in result.output
    session.expire_all()
    assert Role.ADMIN not in session.get(User, user.id).roles
