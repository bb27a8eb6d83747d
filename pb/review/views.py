"""Review pages: staff and budget delegates only; what each may do on them is asked of ``pb.permissions``."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pb import permissions
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.models import Cycle, Proposal, ProposalStatus
from pb.proposal_labels import STATUS_NAMES
from pb.review import bp
from pb.review.forms import (
    MONEY_HINT,
    AssignForm,
    ConfirmForm,
    DeclineMergeForm,
    MergeForm,
    ProjectForm,
    ReviewForm,
    UnassignForm,
)
from pb.security import role_required
from pb.services import phases
from pb.services import projects as project_service
from pb.services import review as review_service
from pb.services.cycles import get_cycle, list_cycles
from pb.services.proposals import get_proposal
from pb.services.review import QueueFilters, public_review
from pb.values import format_money_input
from pb.web import domain_errors, page_number, request_now

REVIEWERS = ("staff", "delegate")
QUEUE_PAGE_SIZE = 25


@bp.app_template_global("public_review")
def public_review_global(proposal: Proposal):
    """For the public proposal page (``proposals/_review_public.html``): the review's public part."""
    return public_review(db_session(), proposal)


def _cycle_or_404(slug: str) -> Cycle:
    cycle = get_cycle(db_session(), slug)
    if cycle is None:
        abort(404)
    return cycle


def _proposal_or_404(cycle: Cycle, proposal_id: int) -> Proposal:
    proposal = get_proposal(db_session(), cycle, proposal_id)
    if proposal is None or proposal.status is ProposalStatus.DRAFT:
        abort(404)
    return proposal


@bp.get("/")
@role_required(*REVIEWERS)
def list_review_cycles():
    now = request_now()
    cycles = [c for c in list_cycles(db_session()) if phases.review_open(c, now) or c.voting_has_opened(now)]
    return render_template("review/list_review_cycles.html", cycles=cycles, now=now)


@bp.get("/<slug>")
@role_required(*REVIEWERS)
def list_queue(slug: str):
    cycle = _cycle_or_404(slug)
    assignment = request.args.get("assignment", "")
    status = request.args.get("status", "")
    filters = QueueFilters(
        assignment=assignment if assignment in review_service.QUEUE_ASSIGNMENTS else "",
        status=status if status in review_service.queue_statuses() else "",
    )
    page = review_service.review_queue(
        db_session(), cycle, current_user, filters, number=page_number(), per_page=QUEUE_PAGE_SIZE
    )
    if page is None:
        abort(404)
    return render_template(
        "review/list_queue.html",
        cycle=cycle,
        page=page,
        filters=filters,
        statuses=review_service.queue_statuses(),
        status_names=STATUS_NAMES,
    )


def _review_page(cycle: Cycle, proposal: Proposal, **forms):
    """The review page, with the forms given (holding their errors) and fresh ones for the rest."""
    session = db_session()
    now = request_now()
    merged = review_service.load_review_page(session, proposal)
    draft_project = review_service.draft_project_of(session, proposal)
    review = proposal.review
    if "review_form" not in forms:
        forms["review_form"] = ReviewForm(formdata=None, data=ReviewForm.initial_data(review))
    if "assign_form" not in forms:
        forms["assign_form"] = AssignForm(formdata=None)
    if "merge_form" not in forms:
        suggested = {}
        if review is not None and review.merge_into_id is not None:
            suggested = {"target": review.merge_into_id, "reason": review.merge_reason}
        forms["merge_form"] = MergeForm(formdata=None, data=suggested)
    assigned = {a.reviewer_id for a in proposal.review_assignments}
    can_assign = permissions.can_assign_reviewers(current_user) and phases.review_open(cycle, now)
    if can_assign:
        forms["assign_form"].reviewer.choices = [
            (str(u.id), u.display_name) for u in review_service.list_reviewers(session) if u.id not in assigned
        ]
    return render_template(
        "review/review_proposal.html",
        cycle=cycle,
        proposal=proposal,
        review=review,
        merged=merged,
        can_review=permissions.can_review(current_user, proposal, now),
        can_confirm=permissions.can_confirm_review(current_user)
        and phases.review_open(cycle, now)
        and proposal.status in permissions.REVIEWABLE_STATUSES,
        can_assign=can_assign,
        can_merge=permissions.can_merge_proposals(current_user),
        draft_project=draft_project,
        can_make_project=permissions.can_draft_ballot_projects(current_user, cycle, now)
        and proposal.status is ProposalStatus.FEASIBLE
        and draft_project is None,
        confirm_form=forms.pop("confirm_form", None) or ConfirmForm(formdata=None),
        unassign_form=UnassignForm(formdata=None),
        decline_form=DeclineMergeForm(formdata=None),
        status_names=STATUS_NAMES,
        money_hint=MONEY_HINT,
        **forms,
    )


def _back_to(cycle: Cycle, proposal: Proposal):
    return redirect(url_for("review.review_proposal", slug=cycle.slug, proposal_id=proposal.id))


def _act_and_go_back(cycle: Cycle, proposal: Proposal, form, action: Callable[[], object], done: str):
    """A button on the review page: ``action()`` if the form is valid, then ``done`` or the reason it
    was refused flashed, and back to the page."""
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            action()
        if attempt.ok:
            flash(done, "success")
        for message in form.form_errors:
            flash(message, "error")
    return _back_to(cycle, proposal)


@bp.route("/<slug>/proposals/<int:proposal_id>", methods=["GET", "POST"])
@role_required(*REVIEWERS)
def review_proposal(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    if request.method == "GET":
        return _review_page(cycle, proposal)
    form = ReviewForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            review_service.draft_review(db_session(), current_user, proposal, form.to_input(), request_now())
        if attempt.ok:
            flash(_("The review was saved."), "success")
            return _back_to(cycle, proposal)
    return _review_page(cycle, proposal, review_form=form)


@bp.post("/<slug>/proposals/<int:proposal_id>/assign")
@role_required("staff")
def assign_reviewer(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    session = db_session()
    form = AssignForm()
    form.reviewer.choices = [(str(u.id), u.display_name) for u in review_service.list_reviewers(session)]
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            reviewer = review_service.get_reviewer(session, int(form.reviewer.data))
            review_service.assign_reviewer(session, current_user, proposal, reviewer, request_now())
        if attempt.ok:
            flash(_("%(name)s will review this proposal.", name=reviewer.display_name), "success")
            return _back_to(cycle, proposal)
    return _review_page(cycle, proposal, assign_form=form)


@bp.post("/<slug>/proposals/<int:proposal_id>/unassign")
@role_required("staff")
def unassign_reviewer(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    form = UnassignForm()

    def unassign():
        review_service.unassign_reviewer(db_session(), current_user, proposal, form.reviewer(), request_now())

    return _act_and_go_back(cycle, proposal, form, unassign, _("The reviewer was taken off this proposal."))


@bp.post("/<slug>/proposals/<int:proposal_id>/confirm")
@role_required("staff")
def confirm_review(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            review_service.confirm_review(db_session(), current_user, proposal, request_now())
        if attempt.ok:
            flash(_("The review is confirmed; the author is told."), "success")
            return _back_to(cycle, proposal)
    return _review_page(cycle, proposal, confirm_form=form)


@bp.post("/<slug>/proposals/<int:proposal_id>/merge")
@role_required(*REVIEWERS)
def merge_proposal(slug: str, proposal_id: int):
    """Staff merge; a delegate's merge is a suggestion that staff confirm."""
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    form = MergeForm()
    if form.validate_on_submit():
        staff = permissions.can_merge_proposals(current_user)
        action = review_service.merge_proposal if staff else review_service.suggest_merge
        with domain_errors(form) as attempt:
            action(db_session(), current_user, proposal, form.target.data, form.reason.data, request_now())
        if attempt.ok:
            message = _("The proposals were merged.") if staff else _("Your suggestion was sent to staff.")
            flash(message, "success")
            return _back_to(cycle, proposal)
    return _review_page(cycle, proposal, merge_form=form)


@bp.post("/<slug>/proposals/<int:proposal_id>/decline-merge")
@role_required("staff")
def decline_merge(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)

    def decline():
        review_service.decline_merge(db_session(), current_user, proposal, request_now())

    return _act_and_go_back(cycle, proposal, DeclineMergeForm(), decline, _("The suggested merge was turned down."))


# --- Ballot projects ----------------------------------------------------------------------------


@bp.get("/<slug>/projects")
@role_required(*REVIEWERS)
def list_projects(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    return render_template(
        "review/list_projects.html",
        cycle=cycle,
        projects=project_service.list_projects(db_session(), cycle),
        can_draft=permissions.can_draft_ballot_projects(current_user, cycle, now),
        can_manage=permissions.can_manage_ballot_projects(current_user, cycle, now),
        can_edit=lambda project: permissions.can_edit_ballot_project(current_user, project, now),
        can_confirm=permissions.can_confirm_ballot_project(current_user),
        frozen=not phases.ballot_projects_open(cycle, now),
        delete_form=ConfirmForm(formdata=None),
    )


def _project_form(cycle: Cycle, project=None) -> ProjectForm:
    session = db_session()
    choices = project_service.feasible_proposals(session, cycle)
    if request.method == "POST":
        form = ProjectForm()
    elif project is not None:
        form = ProjectForm(formdata=None, data=ProjectForm.initial_data(project))
    else:
        form = ProjectForm(formdata=None, data=_from_proposals(choices))
    form.set_choices(cycle, current_locale(), choices)
    return form


def _from_proposals(choices: list[Proposal]) -> dict:
    """A new project's form, filled from the proposals named in the address (``?proposal=3``)."""
    wanted = set(request.args.getlist("proposal"))
    chosen = [p for p in choices if str(p.id) in wanted]
    if not chosen:
        return {}
    first = chosen[0]
    data = {"proposals": [str(p.id) for p in chosen], "district": str(first.district_id or "")}
    data["category"] = str(first.category_id or "")
    data[f"title_{first.language}"] = first.title
    data[f"description_{first.language}"] = first.summary
    estimate = sum(p.review.cost_estimate_cents or 0 for p in chosen if p.review is not None)
    if estimate:
        data["cost"] = format_money_input(estimate)
    return data


def _project_page(cycle: Cycle, form: ProjectForm, project=None):
    now = request_now()
    return render_template(
        "review/edit_project.html",
        cycle=cycle,
        form=form,
        project=project,
        frozen=not phases.ballot_projects_open(cycle, now),
        drafting=not permissions.can_confirm_ballot_project(current_user),
        money_hint=MONEY_HINT,
    )


@bp.route("/<slug>/projects/new", methods=["GET", "POST"])
@role_required(*REVIEWERS)
def create_project(slug: str):
    """Staff make a confirmed project; a budget delegate a draft that staff confirm."""
    cycle = _cycle_or_404(slug)
    form = _project_form(cycle)
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            project = project_service.create_project(
                db_session(), current_user, cycle, form.to_input(), request_now(), form.proposal_ids()
            )
        if attempt.ok:
            title = project.title(current_locale())
            if project.is_confirmed:
                flash(_("The ballot project “%(title)s” was created.", title=title), "success")
            else:
                flash(_("The draft ballot project “%(title)s” was saved; staff will confirm it.", title=title), "success")
            return redirect(url_for("review.list_projects", slug=cycle.slug))
    return _project_page(cycle, form)


def _project_or_404(cycle: Cycle, project_id: int):
    project = project_service.get_project(db_session(), cycle, project_id)
    if project is None:
        abort(404)
    return project


@bp.route("/<slug>/projects/<int:project_id>", methods=["GET", "POST"])
@role_required(*REVIEWERS)
def edit_project(slug: str, project_id: int):
    """Staff change any project; a budget delegate only a draft (the frozen list shows as such)."""
    cycle = _cycle_or_404(slug)
    project = _project_or_404(cycle, project_id)
    now = request_now()
    if phases.ballot_projects_open(cycle, now) and not permissions.can_edit_ballot_project(current_user, project, now):
        abort(403)
    form = _project_form(cycle, project)
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            changed = project_service.update_project(db_session(), current_user, project, form.to_input(), request_now())
        if attempt.ok:
            flash(_("The ballot project was saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("review.list_projects", slug=cycle.slug))
    return _project_page(cycle, form, project)


@bp.post("/<slug>/projects/<int:project_id>/delete")
@role_required("staff")
def delete_project(slug: str, project_id: int):
    cycle = _cycle_or_404(slug)
    project = _project_or_404(cycle, project_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        confirmed = project.is_confirmed
        with domain_errors(form) as attempt:
            project_service.delete_project(db_session(), current_user, project, request_now())
        if attempt.ok:
            if confirmed:
                flash(_("The ballot project was removed; its proposals are feasible again."), "success")
            else:
                flash(_("The draft ballot project was removed."), "success")
        else:
            flash(form.form_errors[0], "error")
    return redirect(url_for("review.list_projects", slug=cycle.slug))


@bp.post("/<slug>/projects/<int:project_id>/confirm")
@role_required("staff")
def confirm_project(slug: str, project_id: int):
    """Staff confirm a budget delegate's draft: it and its proposals are on the ballot."""
    cycle = _cycle_or_404(slug)
    project = _project_or_404(cycle, project_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            project_service.confirm_project(db_session(), current_user, project, request_now())
        if attempt.ok:
            flash(_("The ballot project “%(title)s” is confirmed: it is on the ballot.",
                    title=project.title(current_locale())), "success")
        else:
            flash(form.form_errors[0], "error")
    return redirect(url_for("review.list_projects", slug=cycle.slug))
