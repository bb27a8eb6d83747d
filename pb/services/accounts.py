"""Accounts: registering and signing in, sessions, passwords and their reset, language, roles, deactivation.

Sessions: a per-account session generation, not a server-side session table
----------------------------------------------------------------------------
A session is the signed session cookie naming ``User.get_id()`` = account id and
``User.session_generation``. :func:`end_sessions` moves the generation on, and from then on
every cookie naming the old one, copies included, is refused by the user loader. It is called by
signing out, a password change or reset, a role change and a deactivation: each of them ends
*every* session of the account, which is all the issue asks for, so nothing needs to tell one
session from another. Against a table of sessions (random id, its hash stored, one row a
session) this writes nothing on an ordinary request (the idle time is kept in the signed cookie,
see ``pb.security``), needs no clean-up of expired rows, and costs one integer column. What it
cannot do is end one session alone or list them; if that is wanted later, a session table can
replace it behind the same two functions (:func:`end_sessions`, ``User.get_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pb.db import utcnow
from pb.models import AuditLogEntry, Role, RoleGrant, User
from pb.passwords import (
    MIN_PASSWORD_LENGTH,
    check_credentials,
    hash_password,
    is_common_password,
    is_easy_to_guess,
    make_confirmation_token,
    make_reset_token,
    user_for_confirmation_token,
    user_for_reset_token,
    verify_password,
)
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.textsearch import like_pattern

ROLE_ORDER = (Role.RESIDENT, Role.DELEGATE, Role.STAFF, Role.AUDITOR, Role.ADMIN)
GRANTABLE_ROLES = (Role.DELEGATE, Role.STAFF, Role.AUDITOR, Role.ADMIN)
ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.DELEGATE: _l("Budget delegate"),
    Role.STAFF: _l("Staff"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("Admin"),
}
ROLE_DESCRIPTIONS = {
    Role.RESIDENT: _l("Proposes projects and votes. Every account is a resident."),
    Role.DELEGATE: _l(
        "A resident volunteer who reviews proposals and drafts ballot projects; staff confirm their work."
    ),
    Role.STAFF: _l("Runs budget cycles: reviews proposals, records paper ballots, publishes results."),
    Role.AUDITOR: _l("Reads the audit log and the election records, and changes nothing."),
    Role.ADMIN: _l("Manages accounts and grants roles; can also do everything staff can."),
}
MAX_REASON_LENGTH = 500


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def _add_user(
    session: Session,
    email: str,
    password_hash: str,
    display_name: str,
    locale: str | None,
    confirmed_at: datetime | None,
) -> User | None:
    """The new account, or None when the address has one already (checked, and then guarded by
    the unique index: another request may take the address between the check and the insert)."""
    if find_user_by_email(session, email) is not None:
        return None
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        password_hash=password_hash,
        locale=locale,
        email_confirmed_at=confirmed_at,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        return None
    return user


def create_user(
    session: Session,
    email: str,
    password: str,
    display_name: str,
    locale: str | None = None,
    *,
    confirmed_at: datetime | None = None,
) -> User:
    """An account made for someone (``pb create-admin``, the demo, tests): the caller vouches for
    the address by passing ``confirmed_at``; without it the owner must confirm it by mail."""
    user = _add_user(session, email, hash_password(password), display_name, locale, confirmed_at)
    if user is None:
        raise DomainError(_l("An account with this e-mail address already exists."), field="email")
    return user


@dataclass(frozen=True)
class Registration:
    """What registering did; the visitor gets the same answer either way, and the view mails
    the owner of ``user``: a new, unconfirmed account with the token of its confirmation link,
    or, when the address has an account already, that account, untouched (no token)."""

    user: User
    confirmation_token: str | None

    @property
    def created(self) -> bool:
        return self.confirmation_token is not None


def register(
    session: Session,
    secret_key: str,
    email: str,
    password: str,
    display_name: str,
    *,
    locale: str | None = None,
    now: datetime,
) -> Registration:
    """A resident creates their own account, unconfirmed until they follow the mailed link.

    The password must pass :func:`password_problem` whether or not the address is taken, and
    is hashed in both cases, so neither the answer nor its time tells who has an account.
    """
    problem = password_problem(password, email, display_name)
    if problem:
        raise DomainError(problem, field="password")
    password_hash = hash_password(password)
    user = _add_user(session, email, password_hash, display_name, locale, None)
    if user is None:
        existing = find_user_by_email(session, email)
        assert existing is not None  # taken by the check or by a concurrent insert; never deleted
        return Registration(existing, None)
    return Registration(user, make_confirmation_token(secret_key, user, now))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active account with this e-mail and password, or None (the same for every kind of failure)."""
    user = find_user_by_email(session, email)
    return user if check_credentials(user, password) else None


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()


def update_profile(session: Session, user: User, display_name: str, locale: str | None) -> None:
    user.display_name = display_name.strip()
    user.locale = locale
    session.flush()


def _next_password_change_time(previous: datetime) -> datetime:
    """Now, to the second, and always a later second than ``previous``.

    Sessions and reset links name the change time in whole seconds; a change within the same
    second as the one before must still end them.
    """
    now = utcnow().replace(microsecond=0)
    if int(now.timestamp()) <= int(previous.timestamp()):
        now = previous.replace(microsecond=0) + timedelta(seconds=1)
    return now


def end_sessions(session: Session, user: User) -> None:
    """End every session of ``user``, in every browser, copied cookies included (see the module's docstring)."""
    user.session_generation += 1
    session.flush()


def sign_out(session: Session, user: User) -> None:
    """Signing out ends every session of the account, not only this browser's."""
    end_sessions(session, user)


def set_password(session: Session, user: User, new_password: str) -> None:
    """Store a new password; every session and reset link issued before stops working."""
    problem = password_problem(new_password, user.email, user.display_name)
    if problem:
        raise DomainError(problem, field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = _next_password_change_time(user.password_changed_at)
    end_sessions(session, user)


def change_password(session: Session, user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise DomainError(_l("Your current password is not correct."), field="current_password")
    set_password(session, user, new_password)


@dataclass(frozen=True)
class PasswordReset:
    """Who asked for a reset, and the token for the link mailed to them."""

    user: User
    token: str


def request_password_reset(session: Session, secret_key: str, email: str) -> PasswordReset | None:
    """A reset token for the active account with this e-mail; None when there is none.

    The caller must answer the visitor the same way in both cases.
    """
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    return PasswordReset(user, make_reset_token(secret_key, user))


def account_for_reset_token(session: Session, secret_key: str, token: str) -> User | None:
    """The account a reset link is for, or None when the link is invalid, expired or already used."""
    return user_for_reset_token(secret_key, token, session)


def complete_password_reset(
    session: Session, secret_key: str, token: str, new_password: str, now: datetime | None = None
) -> User:
    """Set the new password. The link came by mail to the account's address, which proves the
    address too: an unconfirmed account is confirmed (and whoever registered it with someone
    else's address loses it, since their password and sessions end)."""
    user = account_for_reset_token(session, secret_key, token)
    if user is None:
        raise DomainError(_l("This password reset link is not valid any more. Please ask for a new one."))
    set_password(session, user, new_password)
    if not user.email_confirmed:
        user.email_confirmed_at = now or utcnow()
        session.flush()
    return user


# Confirming the e-mail address, and who may take part


CONFIRM_EMAIL_FIRST = _l(
    "Confirm your e-mail address first: open the link we sent you, or ask for a new one on your account page."
)
ACCOUNT_DEACTIVATED = _l("This account is deactivated.")


def can_take_part(user) -> bool:
    """Whether ``user`` may propose, comment, support and vote: a signed-in, active account whose
    e-mail address is confirmed. Anyone else (a visitor, ``None``) may not. Services check it
    with :func:`check_can_take_part`; pages offer those actions only when it holds."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "email_confirmed", False)
    )


def check_can_take_part(user: User) -> None:
    """Raise the :class:`DomainError` that says why ``user`` may not take part, if they may not."""
    if can_take_part(user):
        return
    if user is not None and getattr(user, "is_authenticated", False) and not user.is_active:
        raise DomainError(ACCOUNT_DEACTIVATED)
    raise DomainError(CONFIRM_EMAIL_FIRST)


@dataclass(frozen=True)
class EmailConfirmation:
    """Whom to mail a new confirmation link, and its token."""

    user: User
    token: str


def request_email_confirmation(secret_key: str, user: User | None, now: datetime) -> EmailConfirmation | None:
    """A new confirmation link for ``user`` when they are active and unconfirmed; else None."""
    if user is None or not user.is_active or user.email_confirmed:
        return None
    return EmailConfirmation(user, make_confirmation_token(secret_key, user, now))


def request_email_confirmation_for(
    session: Session, secret_key: str, email: str, now: datetime
) -> EmailConfirmation | None:
    """The same for the account with this address, known or not: the caller must answer the
    visitor the same way whether or not a link is sent."""
    return request_email_confirmation(secret_key, find_user_by_email(session, email), now)


def confirm_email(session: Session, secret_key: str, token: str, now: datetime) -> User:
    """Mark the address that ``token`` names as confirmed at ``now``.

    Refused when the link is forged, older than 48 hours, already used (the address is
    confirmed), for another address than the account's current one, or for a deactivated account.
    """
    user = user_for_confirmation_token(secret_key, token, session, now)
    if user is None:
        raise DomainError(_l("This confirmation link does not work any more. Ask for a new one."))
    user.email_confirmed_at = now
    session.flush()
    return user


def grant_role(session: Session, actor: User | None, user: User, role: Role) -> None:
    """Give ``user`` a role; recorded in the audit log, and their sessions end (they sign in again
    with the new role's shorter session limits). ``actor`` None means the command line."""
    if role is Role.RESIDENT or role in user.roles:
        return
    before = sorted(user.roles)
    user.role_grants.append(RoleGrant(role=role, granted_by_id=actor.id if actor else None))
    end_sessions(session, user)
    record_change(
        session, actor, "role.grant", "user", user.id, {"roles": before}, {"roles": sorted(user.roles)}
    )


def _active_admin_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(RoleGrant.user_id)))
            .join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.role == Role.ADMIN, User.is_active.is_(True))
        )
        or 0
    )


def _is_last_admin(session: Session, user: User) -> bool:
    return user.is_active and Role.ADMIN in user.roles and _active_admin_count(session) <= 1


def _revoke_problem(session: Session, actor: User, user: User, role: Role) -> str | None:
    """Why ``actor`` may not take ``role`` from ``user``, or None when they may."""
    if not actor.has_role(Role.ADMIN):
        return _l("Only admins can change roles.")
    if role not in GRANTABLE_ROLES or role not in user.roles:
        return _l("This account does not have this role.")
    if role is Role.ADMIN and user.id == actor.id:
        return _l("You cannot remove your own admin role.")
    if role is Role.ADMIN and _is_last_admin(session, user):
        return _l("This is the last active admin account: grant the admin role to someone else first.")
    return None


def can_revoke_role(session: Session, actor: User, user: User, role: Role) -> bool:
    """Whether ``actor`` may take ``role`` from ``user`` (pages offer the action only then)."""
    return _revoke_problem(session, actor, user, role) is None


def revoke_role(session: Session, actor: User, user: User, role: Role) -> None:
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return
    problem = _revoke_problem(session, actor, user, role)
    if problem:
        raise DomainError(problem)
    before = sorted(user.roles)
    user.role_grants.remove(grant)
    end_sessions(session, user)
    record_change(
        session, actor, "role.revoke", "user", user.id, {"roles": before}, {"roles": sorted(user.roles)}
    )


def _deactivate_problem(session: Session, actor: User, user: User) -> str | None:
    if not actor.has_role(Role.ADMIN):
        return _l("Only admins can deactivate accounts.")
    if not user.is_active:
        return _l("This account is already deactivated.")
    if user.id == actor.id:
        return _l("You cannot deactivate your own account.")
    if _is_last_admin(session, user):
        return _l("This is the last active admin account: grant the admin role to someone else first.")
    return None


def can_deactivate(session: Session, actor: User, user: User) -> bool:
    """Whether ``actor`` may deactivate ``user`` (pages offer the action only then)."""
    return _deactivate_problem(session, actor, user) is None


def can_reactivate(actor: User, user: User) -> bool:
    return actor.has_role(Role.ADMIN) and not user.is_active


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError(_l("Say why, for the audit log."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _l("A reason has at most %(max)d characters.", max=MAX_REASON_LENGTH), field="reason"
        )
    return reason


def deactivate_account(session: Session, actor: User, user: User, reason: str) -> None:
    """``user`` can no longer sign in and every session of theirs ends; audited with ``reason``."""
    reason = _clean_reason(reason)
    problem = _deactivate_problem(session, actor, user)
    if problem:
        raise DomainError(problem)
    user.is_active = False
    end_sessions(session, user)
    after = {"active": False, "reason": reason}
    record_change(session, actor, "account.deactivate", "user", user.id, {"active": True}, after)


def reactivate_account(session: Session, actor: User, user: User, reason: str) -> None:
    """``user`` can sign in again (with their old password); audited with ``reason``."""
    reason = _clean_reason(reason)
    if not can_reactivate(actor, user):
        raise DomainError(_l("This account is already active."))
    user.is_active = True
    session.flush()
    after = {"active": True, "reason": reason}
    record_change(session, actor, "account.reactivate", "user", user.id, {"active": False}, after)


def search_accounts(
    session: Session, text: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    """Accounts whose e-mail or name contains ``text`` (any case), by e-mail; and how many match in all."""
    query = select(User)
    text = text.strip()
    if text:
        pattern = like_pattern(text.lower())
        query = query.where(
            or_(User.email.like(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = list(session.scalars(query.order_by(User.email).limit(limit).offset(offset)))
    return users, total


def _history(session: Session, user: User, actions: tuple[str, ...], limit: int) -> list[AuditLogEntry]:
    return list(
        session.scalars(
            select(AuditLogEntry)
            .where(
                AuditLogEntry.subject_type == "user",
                AuditLogEntry.subject_id == str(user.id),
                AuditLogEntry.action.in_(actions),
            )
            .order_by(AuditLogEntry.id.desc())
            .limit(limit)
        )
    )


def role_history(session: Session, user: User, limit: int = 50) -> list[AuditLogEntry]:
    """The latest audit entries about this account's roles, newest first."""
    return _history(session, user, ("role.grant", "role.revoke"), limit)


def status_history(session: Session, user: User, limit: int = 50) -> list[AuditLogEntry]:
    """The latest deactivations and reactivations of this account, with their reasons, newest first."""
    return _history(session, user, ("account.deactivate", "account.reactivate"), limit)


PASSWORD_RULES = _l(
    "At least %(count)d characters. Not a common password or one that is easy to guess, "
    "and not your name or your e-mail address. A few unrelated words are easy to remember "
    "and hard to guess.",
    count=MIN_PASSWORD_LENGTH,
)


def password_problem(password: str, email: str = "", display_name: str = "") -> str | None:
    """Why a new password is not acceptable, or None (NIST 800-63B: length and a check against
    common, guessable and personal passwords, no composition rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
    if email and password.strip().lower() == normalize_email(email):
        return _l("Do not use your e-mail address as your password.")
    if is_common_password(password):
        return _l(
            "This password is one of the most common passwords, which attackers try first. "
            "Choose another one."
        )
    if is_easy_to_guess(password, (normalize_email(email).partition("@")[0], display_name)):
        return _l(
            "This password is too easy to guess: avoid common words, names, dates, keyboard rows "
            "and repeated characters. A few unrelated words make a good password."
        )
    return None
