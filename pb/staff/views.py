"""Staff pages: the cycles, their settings, closing a phase early, and the audit log."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pb.extensions import db_session
from pb.hashchain import GENESIS
from pb.i18n import current_locale
from pb.models import Cycle, Phase, Role
from pb.security import role_required
from pb.services.audit import (
    ChainCheck,
    EntryFilter,
    field_changes,
    list_entries,
    recorded_actions,
    subject_names,
    verify_chain,
)
from pb.services.cycles import (
    PHASE_NAMES,
    close_phase,
    create_cycle,
    datetime_pattern,
    get_cycle,
    list_cycles,
    update_cycle,
)
from pb.staff import bp
from pb.staff.forms import AuditLogFilterForm, ClosePhaseForm, CycleForm
from pb.web import domain_errors, page_number, request_now

AUDIT_PAGE_SIZE = 25
FILTER_ARGS = ("actor", "action", "since", "until")
CHECKPOINT_KEY = "pb.audit_checkpoint"  # the head the staff page last verified, per process

ACTION_LABELS = {
    "cycle.create": _l("Created a cycle"),
    "cycle.update": _l("Changed a cycle's settings"),
    "cycle.close_phase": _l("Closed a phase early"),
    "proposal.hide": _l("Hid a proposal"),
    "proposal.restore": _l("Showed a hidden proposal again"),
    "proposal.keep": _l("Kept a reported proposal"),
    "comment.hide": _l("Hid a comment"),
    "comment.restore": _l("Showed a hidden comment again"),
    "comment.keep": _l("Kept a reported comment"),
    "role.grant": _l("Granted a role"),
    "role.revoke": _l("Removed a role"),
}


def _cycle_or_404(slug: str) -> Cycle:
    cycle = get_cycle(db_session(), slug)
    if cycle is None:
        abort(404)
    return cycle


@bp.get("/")
@role_required("staff", "auditor")
def dashboard():
    now = request_now()
    return render_template(
        "staff/dashboard.html",
        cycles=list_cycles(db_session()),
        now=now,
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
        can_manage=current_user.has_role(Role.STAFF),
        Phase=Phase,
    )


def _save_cycle(form: CycleForm, cycle: Cycle | None):
    """Hand the form to the service; on success redirect, else show the problems on the form."""
    settings, errors = form.to_settings()
    if settings is None:
        form.show_errors(errors)
        return None
    with domain_errors(form) as attempt:
        if cycle is None:
            cycle = create_cycle(db_session(), current_user, settings, now=request_now())
            message = _("The cycle “%(name)s” was created.", name=cycle.name(current_locale()))
        else:
            changed = update_cycle(
                db_session(),
                current_user,
                cycle,
                settings,
                now=request_now(),
                expected_version=form.expected_version(),
            )
            message = (
                _("The cycle “%(name)s” was saved.", name=cycle.name(current_locale()))
                if changed
                else _("Nothing was changed.")
            )
    if not attempt.ok:
        return None
    flash(message, "success")
    return redirect(url_for("staff.dashboard"))


@bp.route("/cycles/new", methods=["GET", "POST"], endpoint="create_cycle")
@role_required("staff")
def create_cycle_view():
    form = CycleForm()
    if form.validate_on_submit():
        response = _save_cycle(form, None)
        if response is not None:
            return response
    form.add_blank_rows()
    return render_template("staff/create_cycle.html", form=form, voting_opened=False, voting_over=False)


@bp.route("/cycles/<slug>/edit", methods=["GET", "POST"])
@role_required("staff")
def edit_cycle(slug: str):
    cycle = _cycle_or_404(slug)
    form = CycleForm() if request.method == "POST" else CycleForm(data=CycleForm.initial_data(cycle))
    if form.validate_on_submit():
        response = _save_cycle(form, cycle)
        if response is not None:
            return response
    form.add_blank_rows()
    now = request_now()
    return render_template(
        "staff/edit_cycle.html",
        form=form,
        cycle=cycle,
        voting_opened=cycle.voting_has_opened(now),
        voting_over=cycle.voting_is_over(now),
    )


@bp.route("/cycles/<slug>/close-phase", methods=["GET", "POST"], endpoint="close_phase")
@role_required("staff")
def close_phase_view(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    phase = cycle.phase_state(now).current
    form = ClosePhaseForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            closure = close_phase(
                db_session(), current_user, cycle, form.reason.data, now=now, expected=form.phase.data or None
            )
        if attempt.ok:
            flash(
                _(
                    "“%(phase)s” is closed for “%(name)s”.",
                    phase=PHASE_NAMES[closure.phase],
                    name=cycle.name(current_locale()),
                ),
                "success",
            )
            return redirect(url_for("staff.dashboard"))
    return render_template(
        "staff/close_phase.html",
        form=form,
        cycle=cycle,
        phase=phase,
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
        window=next((w for w in cycle.timeline() if w.phase is phase), None),
    )


def _audit_filter() -> tuple[AuditLogFilterForm, EntryFilter, dict[str, str]]:
    """The filters from the query string; invalid ones are shown as errors and not applied."""
    session = db_session()
    form = AuditLogFilterForm(formdata=request.args)
    actions = dict.fromkeys([*ACTION_LABELS, *recorded_actions(session)])
    form.action.choices = [("", _("Any change"))] + [
        (name, ACTION_LABELS.get(name, name)) for name in actions
    ]
    if not request.args or not form.validate():
        return form, EntryFilter(), {}
    wanted = EntryFilter(
        actor=form.actor.data or "",
        action=form.action.data or "",
        since=form.since.data,
        until=form.until.data,
    )
    args = {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}
    return form, wanted, args


def _checked_chain(session) -> ChainCheck:
    """Verify only what was appended since the last view (the full check is ``pb audit-log verify``)."""
    checkpoint = current_app.extensions.get(CHECKPOINT_KEY, GENESIS)
    check = verify_chain(session, since=checkpoint)
    if check.intact:
        current_app.extensions[CHECKPOINT_KEY] = check.head
    return check


@bp.get("/audit-log")
@role_required("staff", "auditor")
def audit_log():
    session = db_session()
    form, wanted, filter_args = _audit_filter()
    page = page_number()
    entries, total = list_entries(session, wanted, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    if page > pages:
        abort(404)
    return render_template(
        "staff/audit_log.html",
        form=form,
        filter_args=filter_args,
        entries=entries,
        page=page,
        pages=pages,
        total=total,
        check=_checked_chain(session),
        action_labels=ACTION_LABELS,
        names=subject_names(session, entries, current_locale()),
        changes=field_changes,
    )


CSV_COLUMNS = (
    "position",
    "created_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "subject",
    "before",
    "after",
    "entry_hash",
)


@bp.get("/audit-log.csv", endpoint="export_audit_log")
@role_required("staff", "auditor")
def export_audit_log():
    session = db_session()
    form, wanted, _args = _audit_filter()
    if form.errors:
        abort(400)
    entries, _total = list_entries(session, wanted)
    names = subject_names(session, entries, current_locale())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = (
            entry.position,
            entry.created_at.isoformat(),
            entry.actor_label,
            entry.action,
            entry.subject_type,
            entry.subject_id,
            names.get((entry.subject_type, entry.subject_id), ""),
            entry.before_json,
            entry.after_json,
            entry.entry_hash,
        )
        writer.writerow([_csv_safe(value) for value in row])
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


def _csv_safe(value) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading quote stops that."""
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
