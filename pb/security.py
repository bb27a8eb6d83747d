"""Passwords, reset tokens, session cookies and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from pb.extensions import db_session, login_manager
from pb.models import Role, User

_hasher = PasswordHasher()
RESET_TOKEN_MAX_AGE_SECONDS = 60 * 60
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash when the e-mail is unknown keeps sign-in timing uniform.
_UNKNOWN_USER_HASH = _hasher.hash("pb-no-such-user")


def check_credentials(user: User | None, password: str) -> bool:
    if user is None:
        verify_password(_UNKNOWN_USER_HASH, password)
        return False
    return user.is_active and verify_password(user.password_hash, password)


def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="pb.password-reset")


def make_reset_token(secret_key: str, user: User) -> str:
    # The token names the password's change time, so it dies as soon as the password changes.
    return _reset_serializer(secret_key).dumps([user.id, int(user.password_changed_at.timestamp())])


def user_for_reset_token(
    secret_key: str, token: str, session: Session, max_age: int = RESET_TOKEN_MAX_AGE_SECONDS
) -> User | None:
    try:
        user_id, stamp = _reset_serializer(secret_key).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or int(user.password_changed_at.timestamp()) != stamp:
        return None
    return user


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db_session().get(User, int(user_id))
    if user is None or not user.is_active or user.get_id() != session_id:
        return None
    return user


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_security(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production" and app.config["PREFER_HTTPS"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = HttpsAwareSessionInterface()
    app.after_request(_security_headers)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def role_required(*roles: str):
    """Allow the view to accounts holding any of ``roles`` (admins count as staff); 403 otherwise."""
    from functools import wraps

    from flask import abort
    from flask_login import current_user

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.has_role(Role(role)) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: never an open redirect.

    Browsers treat a backslash like a slash (``/\\evil.example``) and ignore some control
    characters, so both are refused outright.
    """
    if not target or any(ord(c) < 32 or c == "\\" for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
