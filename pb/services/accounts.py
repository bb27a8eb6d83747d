"""Accounts: creating them, their language, and the roles granted to them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from pb.models import Role, RoleGrant, User
from pb.security import MIN_PASSWORD_LENGTH, hash_password
from pb.services.audit import record_change


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(session: Session, email: str, password: str, display_name: str, locale: str | None = None) -> User:
    if find_user_by_email(session, email) is not None:
        raise AccountError(_l("An account with this e-mail address already exists."))
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()


def grant_role(session: Session, actor: User | None, user: User, role: Role) -> None:
    """Give ``user`` a role; recorded in the audit log. ``actor`` None means the command line."""
    if role is Role.RESIDENT or role in user.roles:
        return
    before = sorted(user.roles)
    user.role_grants.append(RoleGrant(role=role, granted_by_id=actor.id if actor else None))
    session.flush()
    record_change(session, actor, "role.grant", "user", user.id, {"roles": before}, {"roles": sorted(user.roles)})


def revoke_role(session: Session, actor: User, user: User, role: Role) -> None:
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return
    if role is Role.ADMIN and user.id == actor.id:
        raise AccountError(_l("You cannot remove your own admin role."))
    before = sorted(user.roles)
    user.role_grants.remove(grant)
    session.flush()
    record_change(session, actor, "role.revoke", "user", user.id, {"roles": before}, {"roles": sorted(user.roles)})


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None. Length beats complexity rules (NIST 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if email and password.strip().lower() == normalize_email(email):
        return str(_l("Do not use your e-mail address as your password."))
    return None
