from __future__ import annotations

import logging

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pb.extensions import csrf, database, db_session, limiter, uses_redis
from pb.i18n import LOCALE_COOKIE
from pb.security import cross_site_request, safe_next_path
from pb.services.accounts import set_locale
from pb.site import bp
from pb.site.forms import LanguageForm

ONE_YEAR = 365 * 24 * 3600

log = logging.getLogger(__name__)


@bp.post("/language")
@csrf.exempt  # no session token: see LanguageForm
def switch_language():
    form = LanguageForm()
    if cross_site_request() or not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        set_locale(db_session(), current_user, form.locale.data)
    response = redirect(safe_next_path(form.next.data, url_for("cycles.list_cycles")))
    response.set_cookie(
        LOCALE_COOKIE,
        form.locale.data,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


def _database_up() -> bool:
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database is down")
        return False
    return True


def _redis_up() -> bool:
    if limiter.storage.check():
        return True
    log.error("health check: the rate-limit storage (Redis) is down")
    return False


@bp.get("/healthz")
def health():
    """200 when everything the site needs answers; 503 naming what does not (details go to the log)."""
    checks = {"database": _database_up()}
    if uses_redis(current_app.config["RATELIMIT_STORAGE_URI"]):
        checks["redis"] = _redis_up()
    body = {name: "ok" if up else "down" for name, up in checks.items()}
    down = [name for name, up in checks.items() if not up]
    if down:
        return {"status": "down", "down": down, **body}, 503
    return {"status": "ok", **body}


@bp.get("/transparency")
def transparency():
    """The audit log's head, in public: a deleted tail shows against a head noted earlier."""
    from pb.services.audit import current_head

    return render_template("site/transparency.html", head=current_head(db_session()))
