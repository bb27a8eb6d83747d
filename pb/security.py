"""The web side of security: signed-in users, session cookies, headers, roles, redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from pb.extensions import db_session, login_manager
from pb.models import Role, User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    # The roles come in the same query: every page asks for them (the menu), so never a second one.
    user = db_session().get(User, int(user_id), options=[joinedload(User.role_grants)])
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
