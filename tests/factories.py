"""Building test data through the services, so tests see what real use produces."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from pb.models import Role, User
from pb.services.accounts import create_user, grant_role


def create_account(
    session: Session,
    email: str,
    roles: Iterable[Role | str] = (),
    password: str = "correct horse battery",
    display_name: str = "Test Person",
    locale: str | None = None,
) -> User:
    user = create_user(session, email, password, display_name, locale)
    for role in roles:
        grant_role(session, None, user, Role(role))
    session.commit()
    return user
