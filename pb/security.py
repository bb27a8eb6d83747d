"""The web side of security: signed-in users, session cookies, headers, roles, redirects.

A session is the signed cookie naming the account and its session generation (see
``pb.services.accounts``), plus the times it started and was last used. Both times are checked
against the settings on every request: a session ends after ``session_idle_minutes`` without a
request or ``session_lifetime_hours`` after sign-in (the ``staff_`` settings for any account with
a role besides resident). The cookie is signed, so a browser cannot move either time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy.orm import joinedload

from pb.extensions import db_session, login_manager
from pb.models import Role, User
from pb.web import request_now

SESSION_STARTED = "_pb_started"  # epoch seconds of the sign-in
SESSION_SEEN = "_pb_seen"  # epoch seconds of the last request, to the minute
_SEEN_RESOLUTION_SECONDS = 60  # rewrite the cookie at most once a minute
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", SESSION_STARTED, SESSION_SEEN)
HSTS = "max-age=31536000; includeSubDomains"


def session_limits(user: User) -> tuple[timedelta, timedelta]:
    """How long a session of ``user`` may stay idle, and how long it may last in all."""
    config = current_app.config
    if user.roles - {Role.RESIDENT}:
        return (
            timedelta(minutes=config["STAFF_SESSION_IDLE_MINUTES"]),
            timedelta(hours=config["STAFF_SESSION_LIFETIME_HOURS"]),
        )
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"]), timedelta(
        hours=config["SESSION_LIFETIME_HOURS"]
    )


def _now_seconds() -> int:
    return int(request_now().timestamp())


def start_session(user: User) -> None:
    """Sign ``user`` in with a fresh session: nothing set before it (by an attacker, say) survives."""
    session.clear()
    login_user(user)
    session[SESSION_STARTED] = session[SESSION_SEEN] = _now_seconds()


def renew_session(user: User) -> None:
    """Keep this browser signed in after its own action ended every session of ``user``.

    The new session keeps the old one's start, so renewing never extends its lifetime.
    """
    started = session.get(SESSION_STARTED)
    start_session(user)
    if isinstance(started, int):
        session[SESSION_STARTED] = started


def _end_session() -> None:
    for key in _LOGIN_KEYS:
        session.pop(key, None)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _sep, _generation = session_id.partition(":")
    if not user_id.isdigit():
        return None
    # The roles come in the same query: every page asks for them (the menu), so never a second one.
    user = db_session().get(User, int(user_id), options=[joinedload(User.role_grants)])
    if user is None or not user.is_active or user.get_id() != session_id:
        _end_session()  # signed out elsewhere, password or roles changed, or deactivated
        return None
    started, seen = session.get(SESSION_STARTED), session.get(SESSION_SEEN)
    if not isinstance(started, int) or not isinstance(seen, int):
        _end_session()
        return None
    now = _now_seconds()
    idle, lifetime = session_limits(user)
    if now - seen >= idle.total_seconds() or now - started >= lifetime.total_seconds():
        _end_session()
        flash(_("Your session has ended. Please sign in again."), "info")
        return None
    if now - seen >= _SEEN_RESOLUTION_SECONDS:
        session[SESSION_SEEN] = now
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
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if "_user_id" in session and request.endpoint != "static":
        # Pages for a signed-in person must not stay in a shared browser's or a proxy's cache (the
        # style sheet is the same for everyone: it may).
        response.headers["Cache-Control"] = "no-store"
    return response


_UNREADABLE_IN_ADDRESS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def refuse_unreadable_input() -> None:
    """One guard for every request: what no page can use is refused with a 400 page.

    Control characters in the path, a query parameter or a field name, and NUL or lone surrogates
    anywhere in a form (PostgreSQL cannot store them). Other control characters in form values
    are refused by the form itself (``pb.forms.PbForm``), next to the field, keeping what was typed.
    """
    if _UNREADABLE_IN_ADDRESS.search(request.path):
        abort(400)
    for key, value in request.args.items(multi=True):
        if _UNREADABLE_IN_ADDRESS.search(key) or _UNREADABLE_IN_ADDRESS.search(value):
            abort(400)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for key, value in request.form.items(multi=True):
            if _UNREADABLE_IN_ADDRESS.search(key) or _UNSTORABLE.search(value):
                abort(400)


def init_security(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production" and app.config["PREFER_HTTPS"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = HttpsAwareSessionInterface()
    app.before_request(refuse_unreadable_input)
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


def cross_site_request() -> bool:
    """Whether the browser says this request comes from another site.

    Browsers send ``Sec-Fetch-Site`` with every form POST: ``cross-site`` (or ``same-site`` from a
    sibling host) for a form that another site submits. When it is there it decides alone. Older
    browsers send only ``Origin``: a request whose origin names another host (or ``null``) is
    refused; the host is compared without scheme and port, which a TLS-terminating proxy may change.
    Requests with neither header (old browsers, scripts) are not refused on this ground. This protects
    the one form that carries no session token (the language switch; see ``pb.site.views``)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return urlsplit(origin).hostname != urlsplit("//" + request.host).hostname
