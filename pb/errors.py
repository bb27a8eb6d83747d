"""Error pages in the visitor's language, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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
    title, explanation = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return render_template(
        "errors/error.html", code=code, title=title, explanation=explanation, detail=detail
    ), code


def _handle_http_exception(error: HTTPException):
    code = error.code or 500
    if code not in ERROR_TEXTS or isinstance(error, SecurityError):
        # An untrusted Host header fails before URLs can be built, so no page template can render.
        return error
    return render_error(code)


def _handle_csrf_error(error: CSRFError):
    return render_error(
        400,
        detail=str(
            _l("The form expired or was sent from another site. Please reload the page and try again.")
        ),
    )


def _handle_unexpected(error: Exception):
    log.exception("unhandled error")
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
    return render_error(500)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
