"""Staff pages of a vote: voter codes, confirmed voters, voiding a misused ballot, closing voting,
and the integrity dashboard. Staff only; no page shows how anyone voted."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from pb import code_slips
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.labels import PHASE_NAMES, datetime_pattern
from pb.models import Channel, Cycle, EligibilityBasis
from pb.security import role_required
from pb.services import eligibility, voting, voting_stats
from pb.services.accounts import can_take_part, find_user_by_email
from pb.services.cycles import get_cycle
from pb.services.errors import DomainError
from pb.services.transitions import advance_if_due
from pb.voters import bp, files
from pb.voters.forms import (
    BASIS_SHORT,
    BatchForm,
    CloseVotingForm,
    ConfirmVoterForm,
    FindAccountForm,
    RevokeVoterForm,
    VoidBallotForm,
    VoidBatchForm,
)
from pb.web import domain_errors, request_now


def _cycle_or_404(slug: str) -> Cycle:
    """The cycle, with the phase transitions due by now recorded (voting opened: its log exists)."""
    cycle = get_cycle(db_session(), slug)
    if cycle is None:
        abort(404)
    advance_if_due(db_session(), cycle, request_now())
    return cycle


def _common(cycle: Cycle) -> dict:
    locale = current_locale()
    now = request_now()
    return {
        "cycle": cycle,
        "locale": locale,
        "now": now,
        "dt_format": datetime_pattern(locale),
        "phase_names": PHASE_NAMES,
        "voting_open": voting.voting_open(cycle, now),
        "voting_over": cycle.voting_is_over(now),
        "basis_names": BASIS_SHORT,
        "channel_names": {Channel.ONLINE: _("Online"), Channel.PAPER: _("Paper")},
    }


def _district_choices(cycle: Cycle) -> list[tuple[str, str]]:
    locale = current_locale()
    none = _("Choose a district") if cycle.has_district_budgets else _("No district (city-wide)")
    return [("", none)] + [(str(d.id), d.name(locale)) for d in cycle.districts]


def _district_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- The integrity dashboard ---------------------------------------------------------------------


@bp.get("/<slug>")
@role_required("staff")
def show_dashboard(slug: str):
    cycle = _cycle_or_404(slug)
    session = db_session()
    now = request_now()
    return render_template(
        "voters/show_dashboard.html",
        **_common(cycle),
        state=voting.log_state(session, cycle),
        verification=voting.verify_log(session, cycle),
        activity=voting_stats.hourly_activity(session, cycle),
        burst_factor=voting_stats.BURST_FACTOR,
        burst_minimum=voting_stats.BURST_MINIMUM,
        batches=eligibility.list_batches(session, cycle),
        accounts=voting_stats.accounts_per_day(session, cycle, now),
        confirmations=voting_stats.confirmations_by_staff(session, cycle),
        participation=voting_stats.participation_counts(session, cycle),
        channels=list(Channel),
        format_day=format_date,
    )


# --- Voter codes ---------------------------------------------------------------------------------


def _batches_page(cycle: Cycle, form: BatchForm, status: int = 200):
    return (
        render_template(
            "voters/list_batches.html",
            **_common(cycle),
            form=form,
            batches=eligibility.list_batches(db_session(), cycle),
            max_size=eligibility.MAX_BATCH_SIZE,
        ),
        status,
    )


@bp.get("/<slug>/codes")
@role_required("staff")
def list_batches(slug: str):
    cycle = _cycle_or_404(slug)
    form = BatchForm(formdata=None)
    form.district.choices = _district_choices(cycle)
    return _batches_page(cycle, form)


def _voting_address(cycle: Cycle) -> str:
    public = current_app.config.get("PUBLIC_URL") or None
    if public is None:
        return url_for("voting.start_vote", slug=cycle.slug, _external=True)
    with current_app.test_request_context(base_url=public):
        return url_for("voting.start_vote", slug=cycle.slug, _external=True)


@bp.post("/<slug>/codes")
@role_required("staff")
def create_batch(slug: str):
    cycle = _cycle_or_404(slug)
    form = BatchForm()
    form.district.choices = _district_choices(cycle)
    if not form.validate_on_submit():
        return _batches_page(cycle, form, 422)
    address = _voting_address(cycle)
    with domain_errors(form) as attempt:
        made = eligibility.create_code_batch(
            db_session(),
            current_user,
            cycle,
            form.size.data,
            _district_id(form.district.data),
            form.label.data or "",
            request_now(),
        )
    if not attempt.ok:
        return _batches_page(cycle, form, 422)
    batch = made.batch
    district = batch.district.slug if batch.district is not None else ""
    title = files.printable_title(
        " · ".join(part for part in (cycle.name(current_locale()), batch.label, f"#{batch.id}") if part)
    )
    try:
        pdf = code_slips.render_slips(made.codes, address, files.slip_texts(), title=title)
    except ValueError as error:  # an address too long for a slip: nothing is kept
        db_session().rollback()
        form.form_errors.append(_("The slips cannot be printed: %(problem)s", problem=str(error)))
        return _batches_page(cycle, form, 422)
    stem = f"codes-{cycle.slug}-{batch.id}"
    archive = files.batch_zip(stem, pdf, files.codes_csv(made.codes, batch.id, district, address))
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{stem}.zip"', "Cache-Control": "no-store"},
    )


@bp.route("/<slug>/codes/<int:batch_id>/void", methods=["GET", "POST"])
@role_required("staff")
def void_batch(slug: str, batch_id: int):
    cycle = _cycle_or_404(slug)
    batch = eligibility.get_batch(db_session(), cycle, batch_id)
    if batch is None:
        abort(404)
    form = VoidBatchForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            eligibility.void_batch(db_session(), current_user, batch, form.reason.data, request_now())
        if attempt.ok:
            flash(_("Batch %(number)s is void: its unused codes no longer open a ballot.", number=batch.id), "success")
            return redirect(url_for("voters.list_batches", slug=cycle.slug), 303)
    status = 422 if form.errors else 200
    return render_template("voters/void_batch.html", **_common(cycle), form=form, batch=batch), status


# --- Confirmed voters ----------------------------------------------------------------------------


def _voters_page(cycle: Cycle, find_form: FindAccountForm, confirm_form: ConfirmVoterForm | None, account, status=200):
    return (
        render_template(
            "voters/list_voters.html",
            **_common(cycle),
            find_form=find_form,
            confirm_form=confirm_form,
            account=account,
            voters=eligibility.list_voters(db_session(), cycle),
        ),
        status,
    )


def _confirm_form(cycle: Cycle, **kwargs) -> ConfirmVoterForm:
    form = ConfirmVoterForm(**kwargs)
    form.district.choices = _district_choices(cycle)
    return form


@bp.get("/<slug>/voters")
@role_required("staff")
def list_voters(slug: str):
    cycle = _cycle_or_404(slug)
    find_form = FindAccountForm(request.args)
    account = None
    confirm_form = None
    if "email" in request.args and find_form.validate():
        account = find_user_by_email(db_session(), find_form.email.data)
        if account is None:
            find_form.email.errors = [_("No account has this e-mail address.")]
        else:
            confirm_form = _confirm_form(cycle, formdata=None, data={"email": account.email})
    return _voters_page(cycle, find_form, confirm_form, account)


@bp.post("/<slug>/voters")
@role_required("staff")
def confirm_voter(slug: str):
    cycle = _cycle_or_404(slug)
    form = _confirm_form(cycle)
    account = find_user_by_email(db_session(), form.email.data or "") if form.email.data else None
    find_form = FindAccountForm(formdata=None, data={"email": form.email.data or ""})
    if account is None:
        abort(400)
    if form.validate_on_submit():
        if not can_take_part(account):
            form.form_errors.append(
                _("This account cannot vote: its e-mail address is not confirmed yet, or it is deactivated.")
            )
        else:
            with domain_errors(form) as attempt:
                eligibility.confirm_voter(
                    db_session(),
                    current_user,
                    cycle,
                    account,
                    basis=EligibilityBasis(form.basis.data),
                    district_id=_district_id(form.district.data),
                    note=form.note.data or "",
                    birth_date=form.birth_date.data,
                    citizen=bool(form.citizen.data),
                    now=request_now(),
                )
            if attempt.ok:
                flash(_("%(email)s is a confirmed voter of this cycle.", email=account.email), "success")
                return redirect(url_for("voters.list_voters", slug=cycle.slug), 303)
    return _voters_page(cycle, find_form, form, account, 422)


@bp.route("/<slug>/voters/<int:eligibility_id>/revoke", methods=["GET", "POST"])
@role_required("staff")
def revoke_voter(slug: str, eligibility_id: int):
    cycle = _cycle_or_404(slug)
    row = eligibility.get_voter(db_session(), cycle, eligibility_id)
    if row is None:
        abort(404)
    form = RevokeVoterForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            eligibility.revoke_voter(db_session(), current_user, row, form.reason.data, request_now())
        if attempt.ok:
            flash(_("%(email)s is no longer a confirmed voter of this cycle.", email=row.user.email), "success")
            return redirect(url_for("voters.list_voters", slug=cycle.slug), 303)
    status = 422 if form.errors else 200
    return render_template("voters/revoke_voter.html", **_common(cycle), form=form, row=row), status


# --- Voiding a misused ballot --------------------------------------------------------------------


def _misused_voter(cycle: Cycle, form: VoidBallotForm) -> voting.Voter | None:
    """The voter staff named by code or by e-mail (one of them), or None with the error on the form."""
    code, email = (form.code.data or "").strip(), (form.email.data or "").strip()
    if bool(code) == bool(email):
        form.form_errors.append(_("Give either a voter code or an account’s e-mail address, not both."))
        return None
    session = db_session()
    if code:
        try:
            return eligibility.code_voter(session, cycle, code, withdrawn_too=True)
        except DomainError:
            form.code.errors = [_("No code of this cycle matches. Check each character.")]
            return None
    account = find_user_by_email(session, email)
    voter = eligibility.account_voter(session, cycle, account, revoked_too=True) if account is not None else None
    if voter is None:
        form.email.errors = [_("No confirmed voter of this cycle has this e-mail address.")]
    return voter


@bp.route("/<slug>/void-ballot", methods=["GET", "POST"])
@role_required("staff")
def void_ballot(slug: str):
    cycle = _cycle_or_404(slug)
    form = VoidBallotForm()
    confirming = False
    if form.validate_on_submit():
        voter = _misused_voter(cycle, form)
        if voter is not None and not form.void.data:
            confirming = True  # the confirmation step: the same values, and the button that voids
        elif voter is not None:
            with domain_errors(form) as attempt:
                voided = voting.void_ballot(db_session(), current_user, cycle, voter, form.reason.data, request_now())
            if attempt.ok and voided:
                flash(_("The ballot was voided. The reason is in the public ballot log."), "success")
                return redirect(url_for("voters.void_ballot", slug=cycle.slug), 303)
            if attempt.ok:
                form.form_errors.append(_("This voter has no counted ballot: nothing was voided."))
    status = 422 if form.errors else 200
    template = "voters/confirm_void_ballot.html" if confirming else "voters/void_ballot.html"
    return render_template(template, **_common(cycle), form=form), status


# --- Closing -------------------------------------------------------------------------------------


@bp.route("/<slug>/close", methods=["GET", "POST"])
@role_required("staff")
def close_voting(slug: str):
    cycle = _cycle_or_404(slug)
    form = CloseVotingForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            closed = voting.close_voting(db_session(), current_user, cycle, form.reason.data, request_now())
        if attempt.ok:
            flash(
                _("Voting is closed. The slot key is destroyed.") if closed else _("Voting was closed already."),
                "success",
            )
            return redirect(url_for("voters.close_voting", slug=cycle.slug), 303)
    state = voting.log_state(db_session(), cycle)
    status = 422 if form.errors else 200
    return render_template("voters/close_voting.html", **_common(cycle), form=form, state=state), status
