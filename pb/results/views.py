"""Results: staff count the sealed ballots, review the draft and publish it; once published, everyone
reads it, with each round explained, the fairness comparison, and the full ballot log to check.

Nothing about a count is public before publication: the public page says only that the results are
not published yet, and the ballot log download is a 404 until then.
"""

from __future__ import annotations

import math
from fractions import Fraction

from babel import Locale
from babel.numbers import format_decimal, format_percent
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from pb import explain
from pb.extensions import db_session
from pb.hashchain import canonical_json
from pb.i18n import current_locale
from pb.labels import datetime_pattern
from pb.models import Cycle, Result
from pb.results import bp
from pb.results.forms import CorrectionForm, CountForm, PublishForm
from pb.security import role_required
from pb.services import results, voting
from pb.services.cycles import get_cycle
from pb.services.transitions import advance_if_due
from pb.web import domain_errors, request_now

VERIFIED_KEY = "pb.results_log_verified"  # sealed logs verified by this process: {(cycle id, head): intact}
RECORD_ENDPOINT = "records.download_record"


def _cycle_or_404(slug: str, *, districts: bool = True) -> Cycle:
    cycle = get_cycle(db_session(), slug, districts=districts)
    if cycle is None:
        abort(404)
    return cycle


def _percent(value: Fraction | None, *, down: bool = False) -> str:
    """A percentage to one decimal place as the reader's language writes it (``45.3%``, ``45,3 %``).

    ``down`` rounds down, so that a share that is not whole never shows as 100.0%.
    """
    if value is None:
        return "—"
    locale = Locale.parse(current_locale())
    pattern = locale.percent_formats[None].pattern
    last = pattern.rindex("0") + 1
    tenths = math.floor(Fraction(value) * 10) if down else round(Fraction(value) * 10)
    return format_percent(tenths / 1000, format=pattern[:last] + ".0" + pattern[last:], locale=locale)


def _cents(value: Fraction | int) -> int:
    return int(round(Fraction(value)))


def _amount(value: Fraction | int) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return format_decimal(value.numerator, locale=current_locale())
    return format_decimal(round(float(value), 2), format="#,##0.##", locale=current_locale())


def _log_verified(cycle: Cycle, state: voting.LogState) -> bool:
    """Whether the sealed ballot log verifies from its first entry to its published head (checked once per process)."""
    checked = current_app.extensions.setdefault(VERIFIED_KEY, {})
    key = (cycle.id, str(state.head))
    if key not in checked:
        checked[key] = voting.verify_log(db_session(), cycle).intact
    return checked[key]


def _round_lines(report: results.ResultReport, count: results.CountReport, currency: str, locale: str) -> list[str]:
    lines, spent = [], 0
    for line in count.funded:
        spent += line.cost_cents
        text = explain.round_sentence(
            line.round or 0,
            line.project.title(locale),
            line.supporters,
            line.cost_cents,
            count.budget_cents - spent,
            currency,
            score=_amount(line.score) if report.score_based else None,
            completion=line.completion,
        )
        if line.tied_with:
            text += " " + explain.tie_sentence([p.title(locale) for p in line.tied_with])
        lines.append(text)
    return lines


def _report_context(cycle: Cycle, result: Result) -> dict:
    """What the result layout (``results/_result.html``) shows, for the public page and the staff draft."""
    session, locale = db_session(), current_locale()
    report = results.result_report(session, cycle, result)
    return {
        "report": report,
        "rounds": {index: _round_lines(report, count, cycle.currency, locale) for index, count in enumerate(report.counts)},
        "participation": results.participation_counts(session, cycle),
        "rule_text": explain.rule_explanation(cycle),
        "tie_break_text": explain.tie_break_explanation(cycle),
        "explain": explain,
        "percent": _percent,
        "cents": _cents,
        "amount": _amount,
        "locale": locale,
        "dt_format": datetime_pattern(locale),
    }


# --- Public ----------------------------------------------------------------------------------------


def _render_public(cycle: Cycle, result_id: int | None, standing_id: int | None):
    """The public page of the published result ``result_id``. A published result never changes, nor do
    the sealed log and the participation it was counted from: the page's content is kept as a fragment
    per process, keyed on the cycle's version, the result shown and the one standing, the log's head
    and the language, and rendered (the results read, their report made, a third of it counting again)
    only on the first request."""
    session, locale = db_session(), current_locale()
    state = voting.log_state(session, cycle) if result_id is not None else None
    verified = _log_verified(cycle, state) if state is not None else False
    record_available = RECORD_ENDPOINT in current_app.view_functions

    def content() -> str:
        context: dict = {"cycle": cycle, "result": None, "standing": None}
        if result_id is not None:
            result = session.get(Result, result_id)
            standing = result if standing_id == result_id else session.get(Result, standing_id)
            context |= {"result": result, "standing": standing}
            context |= _report_context(cycle, result)
            context |= {
                "log": state,
                "log_verified": verified,
                "corrected_by": results.corrected_by(session, result) if result is not standing else None,
                "record_available": record_available,
            }
        return render_template("results/_public.html", **context)

    key = ("results", cycle.id, cycle.version, result_id, standing_id, state and str(state.head), verified,
           record_available, locale)
    body = current_app.extensions["pb.fragments"](key, content)
    return render_template("results/show_results.html", cycle=cycle, body=body)


@bp.get("/cycles/<slug>/results")
def show_results(slug: str):
    cycle = _cycle_or_404(slug, districts=False)  # the kept page reads them when it is rendered again
    standing = results.standing_result_ids(db_session(), [cycle.id]).get(cycle.id)
    return _render_public(cycle, standing, standing)


@bp.get("/cycles/<slug>/results/<int:result_id>")
def show_earlier_result(slug: str, result_id: int):
    """A published result, also one a correction replaced (never a draft)."""
    cycle = _cycle_or_404(slug, districts=False)
    session = db_session()
    result = results.get_published_result(session, cycle, result_id)
    if result is None:
        abort(404)
    return _render_public(cycle, result.id, results.standing_result_ids(session, [cycle.id]).get(cycle.id))


@bp.get("/cycles/<slug>/ballot-log.jsonl")
def download_ballot_log(slug: str):
    """The full ballot log, one canonical JSON object a line; public only once a result is published."""
    cycle = _cycle_or_404(slug)
    session = db_session()
    if results.current_result(session, cycle) is None:
        abort(404)

    def lines():
        for link in voting.log_links(session, cycle):
            entry = {"position": link.position, "prev_hash": link.prev_hash, "hash": link.hash, "payload": link.payload}
            yield canonical_json(entry) + b"\n"

    response = Response(stream_with_context(lines()), content_type="application/jsonl; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{cycle.slug}-ballot-log.jsonl"'
    return response


# --- Staff -----------------------------------------------------------------------------------------


@bp.get("/staff/results/<slug>")
@role_required("staff")
def manage_results(slug: str):
    cycle = _cycle_or_404(slug)
    session, now = db_session(), request_now()
    advance_if_due(session, cycle, now)
    draft = results.pending_draft(session, cycle)
    published = results.published_results(session, cycle)
    context: dict = {
        "cycle": cycle,
        "over": cycle.voting_is_over(now),
        "draft": draft,
        "published": published,
        "count_form": CountForm(),
        "locale": current_locale(),
        "dt_format": datetime_pattern(current_locale()),
    }
    if draft is not None:
        context |= _report_context(cycle, draft)
    return render_template("results/manage_results.html", **context)


@bp.post("/staff/results/<slug>/count")
@role_required("staff")
def count_ballots(slug: str):
    cycle = _cycle_or_404(slug)
    session = db_session()
    form = CountForm()
    if form.validate_on_submit():
        standing = results.current_result(session, cycle)
        if standing is not None:
            return redirect(url_for("results.correct_result", slug=cycle.slug))
        with domain_errors() as attempt:
            results.draft_result(session, current_user, cycle, request_now())
        if attempt.ok:
            flash(_("The ballots are counted. Review the draft result, then publish it."), "success")
        else:
            flash(attempt.error.message, "error")
    else:
        flash(_("The form expired; please try again."), "error")
    return redirect(url_for("results.manage_results", slug=cycle.slug))


@bp.route("/staff/results/<slug>/publish", methods=["GET", "POST"])
@role_required("staff")
def publish_result(slug: str):
    cycle = _cycle_or_404(slug)
    session, now = db_session(), request_now()
    draft = results.pending_draft(session, cycle)
    form = PublishForm()
    if draft is not None and form.validate_on_submit():
        if form.result.data != str(draft.id):
            form.result.errors = [_("The draft was counted again meanwhile; review the new draft first.")]
        else:
            with domain_errors(form) as attempt:
                results.publish_result(session, current_user, draft, now)
            if attempt.ok:
                flash(_("The result is published."), "success")
                return redirect(url_for("results.show_results", slug=cycle.slug))
    return render_template(
        "results/publish_result.html",
        cycle=cycle,
        draft=draft,
        form=form,
        standing=results.current_result(session, cycle),
        dt_format=datetime_pattern(current_locale()),
    )


@bp.route("/staff/results/<slug>/correct", methods=["GET", "POST"])
@role_required("staff")
def correct_result(slug: str):
    cycle = _cycle_or_404(slug)
    session, now = db_session(), request_now()
    standing = results.current_result(session, cycle)
    form = CorrectionForm()
    if standing is not None and form.validate_on_submit():
        with domain_errors(form) as attempt:
            results.draft_result(session, current_user, cycle, now, corrects=standing, reason=form.reason.data)
        if attempt.ok:
            flash(_("The ballots are counted again. Review the correction, then publish it."), "success")
            return redirect(url_for("results.manage_results", slug=cycle.slug))
    return render_template(
        "results/correct_result.html",
        cycle=cycle,
        standing=standing,
        form=form,
        dt_format=datetime_pattern(current_locale()),
    )
