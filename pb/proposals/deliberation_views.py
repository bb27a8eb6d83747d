"""The discussion under a proposal: comments and replies, supports, follows, reports, and the
moderation staff do from the proposal's page, plus the staff queue of open reports.

Every change is a POST that goes back to the proposal's page, at the comment or section it is
about; a form with a mistake is shown again on a page of its own, with what was typed. Nothing
here needs JavaScript.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pb import permissions
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.labels import datetime_pattern
from pb.models import Comment, Proposal
from pb.proposals import bp
from pb.proposals.deliberation_forms import (
    ActionForm,
    CommentForm,
    EditCommentForm,
    FlagForm,
    HideForm,
    RestoreForm,
)
from pb.proposals.views import _cycle_or_404, _proposal_or_404
from pb.security import role_required
from pb.services import deliberation, moderation
from pb.web import domain_errors, page_number, request_now

QUEUE_PAGE_SIZE = 25
PROPOSAL_PATH = "/cycles/<slug>/proposals/<int:proposal_id>"
COMMENT_PATH = PROPOSAL_PATH + "/comments/<int:comment_id>"


@bp.context_processor
def _deliberation_helpers() -> dict:
    """What ``proposals/_deliberation.html`` needs beside the proposal page's own context."""
    return {"load_deliberation": _load_deliberation}


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _load_deliberation(proposal: Proposal) -> deliberation.Deliberation:
    return deliberation.load_deliberation(db_session(), proposal, _viewer())


def _readable_proposal_or_404(slug: str, proposal_id: int) -> Proposal:
    """The proposal of this cycle, if this person may read it (a hidden one: its author and staff)."""
    proposal = _proposal_or_404(_cycle_or_404(slug), proposal_id)
    if proposal.is_hidden and not permissions.can_read_hidden(current_user, proposal):
        abort(404)
    return proposal


def _comment_or_404(proposal: Proposal, comment_id: int) -> Comment:
    comment = deliberation.get_comment(db_session(), proposal, comment_id)
    if comment is None or not permissions.can_read_comment(current_user, comment):
        abort(404)
    return comment


def _back(proposal: Proposal, anchor: str):
    return redirect(
        url_for("proposals.show_proposal", slug=proposal.cycle.slug, proposal_id=proposal.id, _anchor=anchor)
    )


def _act(proposal: Proposal, anchor: str, action, done: str | None):
    """A button without text fields: do it, say so (or say why not), back to the page."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with domain_errors() as attempt:
        changed = action()
    if not attempt.ok:
        flash(str(attempt.error.message), "error")
    elif done and changed is not False:
        flash(done, "success")
    return _back(proposal, anchor)


def _page(template: str, proposal: Proposal, form, **context):
    return render_template(
        f"proposals/{template}.html",
        cycle=proposal.cycle,
        proposal=proposal,
        form=form,
        permissions=permissions,
        now=request_now(),
        dt_format=datetime_pattern(current_locale()),
        **context,
    )


# --- Comments -------------------------------------------------------------------------------------


def _comment_form(proposal: Proposal, parent: Comment | None):
    form = CommentForm()
    if request.method == "GET":
        form.language.data = current_locale()[:2]
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            comment = deliberation.add_comment(
                db_session(), current_user._get_current_object(), proposal, form.body.data,
                form.language.data, request_now(), parent=parent,
            )
        if attempt.ok:
            flash(_("Your reply is posted.") if parent else _("Your comment is posted."), "success")
            return _back(proposal, f"comment-{comment.id}")
    return _page("comment_form", proposal, form, parent=parent)


@bp.route(PROPOSAL_PATH + "/comments/new", methods=["GET", "POST"], endpoint="add_comment")
@login_required
def add_comment_view(slug: str, proposal_id: int):
    return _comment_form(_readable_proposal_or_404(slug, proposal_id), None)


@bp.route(COMMENT_PATH + "/reply", methods=["GET", "POST"], endpoint="reply_to_comment")
@login_required
def reply_to_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    return _comment_form(proposal, _comment_or_404(proposal, comment_id))


@bp.route(COMMENT_PATH + "/edit", methods=["GET", "POST"], endpoint="edit_comment")
@login_required
def edit_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    comment = _comment_or_404(proposal, comment_id)
    if comment.author_id != current_user.id:
        abort(403)
    form = EditCommentForm(data={"body": comment.body} if request.method == "GET" else None)
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            deliberation.edit_comment(
                db_session(), current_user._get_current_object(), comment, form.body.data, request_now()
            )
        if attempt.ok:
            flash(_("Your comment is changed."), "success")
            return _back(proposal, f"comment-{comment.id}")
    return _page("edit_comment", proposal, form, comment=comment)


# --- Supports and follows -------------------------------------------------------------------------


def _viewer_action(slug: str, proposal_id: int, action, done: str):
    """Support, withdraw, follow or unfollow: ``action(session, user, proposal, now)``, then back."""
    proposal = _readable_proposal_or_404(slug, proposal_id)
    user = current_user._get_current_object()
    return _act(proposal, "support", lambda: action(db_session(), user, proposal, request_now()), done)


@bp.post(PROPOSAL_PATH + "/support", endpoint="support_proposal")
@login_required
def support_proposal_view(slug: str, proposal_id: int):
    return _viewer_action(slug, proposal_id, deliberation.support_proposal, _("You support this proposal."))


@bp.post(PROPOSAL_PATH + "/support/withdraw", endpoint="withdraw_support")
@login_required
def withdraw_support_view(slug: str, proposal_id: int):
    return _viewer_action(
        slug, proposal_id, deliberation.withdraw_support, _("You no longer support this proposal.")
    )


@bp.post(PROPOSAL_PATH + "/follow", endpoint="follow_proposal")
@login_required
def follow_proposal_view(slug: str, proposal_id: int):
    return _viewer_action(
        slug, proposal_id, deliberation.follow_proposal,
        _("You follow this proposal: we will write to you when it changes status or gets a comment."),
    )


@bp.post(PROPOSAL_PATH + "/unfollow", endpoint="unfollow_proposal")
@login_required
def unfollow_proposal_view(slug: str, proposal_id: int):
    return _viewer_action(
        slug, proposal_id, lambda session, user, proposal, _now: deliberation.unfollow_proposal(session, user, proposal),
        _("You no longer follow this proposal."),
    )


# --- Reports --------------------------------------------------------------------------------------


def _reason_form(form, template: str, proposal: Proposal, comment: Comment | None, services, done: str, anchor: str):
    """A form with one reason about the proposal or one of its comments: ``services`` is the pair
    of calls (for the proposal, for a comment) taking (session, user, subject, reason, now)."""
    if form.validate_on_submit():
        on_proposal, on_comment = services
        with domain_errors(form) as attempt:
            (on_comment if comment else on_proposal)(
                db_session(), current_user._get_current_object(), comment or proposal, form.reason.data, request_now()
            )
        if attempt.ok:
            flash(done, "success")
            return _back(proposal, f"comment-{comment.id}" if comment else anchor)
    return _page(template, proposal, form, comment=comment)


def _flag_form(proposal: Proposal, comment: Comment | None):
    return _reason_form(
        FlagForm(), "flag_form", proposal, comment, (deliberation.flag_proposal, deliberation.flag_comment),
        _("Thank you: the moderators will look at your report."), "deliberation",
    )


@bp.route(PROPOSAL_PATH + "/report", methods=["GET", "POST"], endpoint="flag_proposal")
@login_required
def flag_proposal_view(slug: str, proposal_id: int):
    return _flag_form(_readable_proposal_or_404(slug, proposal_id), None)


@bp.route(COMMENT_PATH + "/report", methods=["GET", "POST"], endpoint="flag_comment")
@login_required
def flag_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    return _flag_form(proposal, _comment_or_404(proposal, comment_id))


# --- Moderation (staff, from the proposal's page) -------------------------------------------------


def _hide_form(proposal: Proposal, comment: Comment | None):
    return _reason_form(
        HideForm(), "hide_form", proposal, comment, (moderation.hide_proposal, moderation.hide_comment),
        _("Hidden. The page shows your reason in its place."), "moderation",
    )


@bp.route(PROPOSAL_PATH + "/hide", methods=["GET", "POST"], endpoint="hide_proposal")
@role_required("staff")
def hide_proposal_view(slug: str, proposal_id: int):
    return _hide_form(_readable_proposal_or_404(slug, proposal_id), None)


@bp.route(COMMENT_PATH + "/hide", methods=["GET", "POST"], endpoint="hide_comment")
@role_required("staff")
def hide_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    return _hide_form(proposal, _comment_or_404(proposal, comment_id))


@bp.post(PROPOSAL_PATH + "/restore", endpoint="restore_proposal")
@role_required("staff")
def restore_proposal_view(slug: str, proposal_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    form = RestoreForm()
    if not form.validate_on_submit():
        flash(_("The reason is too long."), "error")
        return _back(proposal, "moderation")
    with domain_errors() as attempt:
        moderation.restore_proposal(
            db_session(), current_user._get_current_object(), proposal, request_now(), form.reason.data or ""
        )
    if attempt.ok:
        flash(_("The proposal is shown again."), "success")
    else:
        flash(str(attempt.error.message), "error")
    return _back(proposal, "moderation")


@bp.post(COMMENT_PATH + "/restore", endpoint="restore_comment")
@role_required("staff")
def restore_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    comment = _comment_or_404(proposal, comment_id)
    user = current_user._get_current_object()
    return _act(
        proposal, f"comment-{comment.id}",
        lambda: moderation.restore_comment(db_session(), user, comment, request_now()),
        _("The comment is shown again."),
    )


@bp.post(PROPOSAL_PATH + "/keep", endpoint="keep_proposal")
@role_required("staff")
def keep_proposal_view(slug: str, proposal_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    user = current_user._get_current_object()
    return _act(
        proposal, "moderation",
        lambda: moderation.dismiss_flags(db_session(), user, proposal, request_now()),
        _("The reports are settled; the proposal stays as it is."),
    )


@bp.post(COMMENT_PATH + "/keep", endpoint="keep_comment")
@role_required("staff")
def keep_comment_view(slug: str, proposal_id: int, comment_id: int):
    proposal = _readable_proposal_or_404(slug, proposal_id)
    comment = _comment_or_404(proposal, comment_id)
    user = current_user._get_current_object()
    return _act(
        proposal, f"comment-{comment.id}",
        lambda: moderation.dismiss_flags(db_session(), user, comment, request_now()),
        _("The reports are settled; the comment stays as it is."),
    )


@bp.get("/staff/moderation", endpoint="moderation_queue")
@role_required("staff")
def moderation_queue_view():
    page = moderation.open_flags(db_session(), number=page_number(), per_page=QUEUE_PAGE_SIZE)
    if page is None:
        abort(404)
    return render_template(
        "proposals/moderation_queue.html", page=page, dt_format=datetime_pattern(current_locale())
    )
