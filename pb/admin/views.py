"""Admins find accounts, grant or revoke their roles, deactivate and reactivate them; every change
goes to the audit log. Pages offer only the actions the service would allow (``can_*``)."""

from __future__ import annotations

from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pb.admin import bp
from pb.admin.forms import AccountStatusForm, RoleForm
from pb.extensions import db_session
from pb.models import Role, User
from pb.security import renew_session, role_required
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


def _render_account(user: User, status_form: AccountStatusForm | None = None):
    actor = current_user._get_current_object()
    session = db_session()
    return render_template(
        "admin/show_account.html",
        user=user,
        grantable=accounts.GRANTABLE_ROLES,
        history=accounts.role_history(session, user),
        status_history=accounts.status_history(session, user),
        can_revoke=partial(accounts.can_revoke_role, session, actor, user),
        can_deactivate=accounts.can_deactivate(session, actor, user),
        can_reactivate=accounts.can_reactivate(actor, user),
        status_form=status_form or AccountStatusForm(formdata=None),
    )


@bp.get("/accounts/<int:user_id>")
@role_required("admin")
def show_account(user_id: int):
    return _render_account(_account_or_404(user_id))


def _keep_actor_signed_in(user: User) -> None:
    """A change to one's own account ends one's own sessions too; this browser stays signed in."""
    if user.id == current_user.id:
        renew_session(user)


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
        _keep_actor_signed_in(user)
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


def _change_status(user_id: int, change, done_message):
    user = _account_or_404(user_id)
    form = AccountStatusForm()
    if not form.validate_on_submit():
        return _render_account(user, status_form=form)
    with domain_errors(form) as attempt:
        change(db_session(), current_user._get_current_object(), user, form.reason.data)
    if not attempt.ok:
        return _render_account(user, status_form=form)
    flash(done_message(name=user.display_name), "success")
    return redirect(url_for("admin.show_account", user_id=user.id))


@bp.post("/accounts/<int:user_id>/deactivate")
@role_required("admin")
def deactivate_account(user_id: int):
    return _change_status(
        user_id,
        accounts.deactivate_account,
        lambda **names: _("%(name)s can no longer sign in, and has been signed out everywhere.", **names),
    )


@bp.post("/accounts/<int:user_id>/reactivate")
@role_required("admin")
def reactivate_account(user_id: int):
    return _change_status(
        user_id, accounts.reactivate_account, lambda **names: _("%(name)s can sign in again.", **names)
    )
