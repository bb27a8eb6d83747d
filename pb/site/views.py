from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from pb.extensions import db_session
from pb.i18n import LOCALE_COOKIE
from pb.security import safe_next_path
from pb.services.accounts import set_locale
from pb.site import bp
from pb.site.forms import LanguageForm

ONE_YEAR = 365 * 24 * 3600


@bp.post("/language")
def switch_language():
    form = LanguageForm()
    if not form.validate_on_submit():
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


@bp.get("/healthz")
def health():
    db_session().execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/transparency")
def transparency():
    """The audit log's head, in public: a deleted tail shows against a head noted earlier."""
    from pb.services.audit import current_head

    return render_template("site/transparency.html", head=current_head(db_session()))
