"""Error pages in the visitor's language, never a stack trace."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("We could not find the page you asked for. Check the address.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too much data"), _l("What you sent is larger than this site accepts.")),
    429: (_l("Too many attempts"), _l("You have tried too many times. Please wait a minute and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An error on our side stopped this page. It has been logged; please try again later."),
    ),
}


def render_error(code: int, detail: str | None = None):
    """The styled error page in the visitor's language, whatever state the request is in.

    The database session is rolled back first (a failed statement leaves PostgreSQL refusing the
    rest of the transaction). If the page still cannot render (the database is down, so the
    signed-in person cannot be loaded), it renders again as for an anonymous visitor, and as a
    last resort falls back to a short page without the site's layout.
    """
    title, explanation = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    _rollback_request_session()
    for attempt in ("as the request stands", "as for an anonymous visitor"):
        try:
            return render_template(
                "errors/error.html", code=code, title=title, explanation=explanation, detail=detail
            ), code
        except Exception:
            log.exception("the error page failed to render %s", attempt)
        _forget_request_session()
        g._login_user = AnonymousUserMixin()
    return (
        f"<!doctype html><html lang=\"en\"><title>{escape(str(title))}</title>"
        f"<h1>{escape(str(title))}</h1><p>{escape(str(explanation))}</p>",
        code,
        {"Content-Type": "text/html; charset=utf-8"},
    )


def _rollback_request_session() -> None:
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:
        log.exception("rolling back the request's session failed")
        _forget_request_session()


def _forget_request_session() -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except Exception:
            log.exception("closing the request's session failed")


def _handle_http_exception(error: HTTPException):
    code = error.code or 500
    if code not in ERROR_TEXTS or isinstance(error, SecurityError):
        # An untrusted Host header fails before URLs can be built, so no page template can render.
        return error
    return render_error(code)


def _handle_too_many(error: HTTPException):
    """The 429 page, with ``Retry-After``: the seconds until the breached limit's window turns."""
    from pb.extensions import limiter

    response = make_response(render_error(429))
    breached = limiter.current_limit
    if breached is not None:
        try:
            response.headers["Retry-After"] = str(max(1, int(breached.reset_at - time.time())))
        except Exception:  # the storage went away since the check: the page still answers
            log.warning("no Retry-After: the rate limit's window could not be read")
    return response


def _handle_csrf_error(error: CSRFError):
    return render_error(
        400,
        detail=str(
            _l("The form expired or was sent from another site. Please reload the page and try again.")
        ),
    )


def _handle_unexpected(error: Exception):
    log.exception("unhandled error")
    return render_error(500)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(429, _handle_too_many)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
