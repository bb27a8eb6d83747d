"""The voter registry pages: staff import the registry of a cycle; residents check their details against it.

The resident's page keeps nothing of what was typed: the details are hashed by the service and
compared; the page that shows them again (to correct a typo) is never cached. Checks that find no
match are rate-limited per address and per account, so the page cannot be used to test who is on
the registry.
"""

from __future__ import annotations

import hashlib

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pb.extensions import client_network, db_session, limiter
from pb.i18n import current_locale
from pb.models import Cycle
from pb.registry import bp
from pb.registry.forms import RegistryCheckForm, RegistryUploadForm, parse_birth_date
from pb.security import role_required
from pb.services import registry
from pb.services.accounts import can_take_part
from pb.services.cycles import get_cycle
from pb.web import domain_errors, request_now

# Read at most this much of an upload: anything longer is refused without reading the rest.
_READ_LIMIT = registry.MAX_FILE_BYTES + 1


def _cycle_or_404(slug: str) -> Cycle:
    cycle = get_cycle(db_session(), slug)
    if cycle is None:
        abort(404)
    return cycle


def _no_store(body, status: int = 200):
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Staff -----------------------------------------------------------------------------------------


@bp.route("/staff/registry/<slug>", methods=["GET", "POST"])
@role_required("staff")
def manage_registry(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    form = RegistryUploadForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            upload = form.file.data
            data = upload.stream.read(_READ_LIMIT)
            with domain_errors(form) as attempt:
                report = registry.import_registry(db_session(), current_user, cycle, data, upload.filename or "", now)
            if attempt.ok:
                flash(
                    _("Registry imported: %(accepted)s rows accepted, %(rejected)s rejected.",
                      accepted=report.accepted, rejected=report.rejected),
                    "success",
                )
                if report.matched_not_in_file:
                    flash(
                        _("%(count)s confirmed voters matched an earlier registry and are not in this file. Their "
                          "confirmation stands: review them on the voters page.", count=report.matched_not_in_file),
                        "info",
                    )
                return redirect(url_for("registry.manage_registry", slug=cycle.slug), 303)
    state = registry.registry_state(db_session(), cycle)
    return (
        render_template(
            "registry/manage_registry.html",
            cycle=cycle,
            form=form,
            state=state,
            locale=current_locale(),
            over=cycle.voting_is_over(now),
            max_megabytes=registry.MAX_FILE_BYTES // (1024 * 1024),
            max_rows=registry.MAX_ROWS,
            max_rejections=registry.MAX_STORED_REJECTIONS,
        ),
        status,
    )


# --- Residents -------------------------------------------------------------------------------------


def _address_limit() -> str:
    return current_app.config["REGISTRY_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["REGISTRY_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    """Checks count against the account whatever address they come from (the address for anyone else)."""
    if current_user.is_authenticated:
        return "registry-account:" + hashlib.sha256(f"id:{current_user.id}".encode()).hexdigest()[:32]
    return client_network()


def _refused(response) -> bool:
    return response.status_code == 422


@bp.route("/cycles/<slug>/vote/registry", methods=["GET", "POST"])
@login_required
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_refused)
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_refused)
def check_registry(slug: str):
    cycle = _cycle_or_404(slug)
    if not cycle.vote_with_accounts:
        abort(404)
    now = request_now()
    form = RegistryCheckForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with domain_errors(form) as attempt:
                registry.match_registry(
                    db_session(),
                    current_user,
                    cycle,
                    last_name=form.last_name.data,
                    first_names=form.first_names.data,
                    birth_date=parse_birth_date(form.birth_date.data),
                    postal_code=form.postal_code.data,
                    now=now,
                )
            if attempt.ok:
                flash(_("Your details are on the voter registry: your account is now a voter of this cycle."), "success")
                return redirect(url_for("voting.start_vote", slug=cycle.slug), 303)
    return _no_store(
        render_template(
            "registry/check_registry.html",
            cycle=cycle,
            form=form,
            locale=current_locale(),
            over=cycle.voting_is_over(now),
            has_registry=registry.has_registry(db_session(), cycle),
            may_take_part=can_take_part(current_user),
            eligibility=registry.current_eligibility(db_session(), cycle, current_user),
        ),
        status,
    )
