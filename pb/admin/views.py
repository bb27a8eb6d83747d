"""Admins find accounts and grant or revoke their roles; every change goes to the audit log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pb.admin import bp
from pb.admin.forms import RoleForm
from pb.extensions import db_session
from pb.models import Role, User
from pb.security import role_required
from pb.services import accounts
from pb.services.outbox import MAX_ATTEMPTS, undelivered_mail
from pb.web import domain_errors, page_number

PAGE_SIZE = 50


def _account_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.context_processor
def _role_texts() -> dict:
    return {
        "role_labels": accounts.ROLE_LABELS,
        "role_descriptions": accounts.ROLE_DESCRIPTIONS,
        "role_order": accounts.ROLE_ORDER,
    }


@bp.get("/")
@role_required("admin")
def list_accounts():
    query = request.args.get("q", "")[:254]
    page = page_number()
    users, total = accounts.search_accounts(
        db_session(), query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        abort(404)
    return render_template(
        "admin/list_accounts.html", users=users, total=total, query=query, page=page, pages=pages
    )


@bp.get("/accounts/<int:user_id>")
@role_required("admin")
def show_account(user_id: int):
    user = _account_or_404(user_id)
    return render_template(
        "admin/show_account.html",
        user=user,
        grantable=accounts.GRANTABLE_ROLES,
        history=accounts.role_history(db_session(), user),
    )


def _change_role(user_id: int, change, done_message):
    user = _account_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = Role(form.role.data)
    with domain_errors() as attempt:
        change(db_session(), current_user._get_current_object(), user, role)
    if attempt.error is not None:
        flash(attempt.error.message, "error")
    else:
        flash(done_message(name=user.display_name, role=accounts.ROLE_LABELS[role]), "success")
    return redirect(url_for("admin.show_account", user_id=user.id))


@bp.post("/accounts/<int:user_id>/grant")
@role_required("admin")
def grant_role(user_id: int):
    return _change_role(
        user_id, accounts.grant_role, lambda **names: _("%(name)s now has the role %(role)s.", **names)
    )


@bp.post("/accounts/<int:user_id>/revoke")
@role_required("admin")
def revoke_role(user_id: int):
    return _change_role(
        user_id, accounts.revoke_role, lambda **names: _("%(name)s no longer has the role %(role)s.", **names)
    )


@bp.get("/outbox")
@role_required("admin")
def list_outbox():
    """Mail waiting to be sent and mail given up; never the bodies, which can hold one-time links."""
    return render_template(
        "admin/list_outbox.html", summary=undelivered_mail(db_session()), max_attempts=MAX_ATTEMPTS
    )
