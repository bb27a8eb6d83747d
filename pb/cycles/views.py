"""Public pages: the cycles running or to come, the archive of past cycles, and each cycle's page."""

from __future__ import annotations

from flask import abort, render_template

from pb.cycles import bp
from pb.explain import ballot_explanation, rule_explanation, tie_break_explanation
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.labels import PHASE_NAMES, datetime_pattern
from pb.services import voting
from pb.services.cycles import get_cycle, list_cycles_page
from pb.services.transitions import advance_if_due
from pb.web import page_number, request_now

PAGE_SIZE = 20


def _render_list(template: str, past: bool):
    now = request_now()
    page = list_cycles_page(db_session(), now, past=past, number=page_number(), per_page=PAGE_SIZE)
    if page is None:
        abort(404)
    return render_template(
        template,
        page=page,
        now=now,
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
    )


@bp.get("/")
def list_cycles():
    return _render_list("cycles/list_cycles.html", past=False)


@bp.get("/archive")
def list_past_cycles():
    return _render_list("cycles/list_past_cycles.html", past=True)


@bp.get("/cycles/<slug>")
def show_cycle(slug: str):
    session, now = db_session(), request_now()
    cycle = get_cycle(session, slug)
    if cycle is None:
        abort(404)
    advance_if_due(session, cycle, now)
    voting_open = voting.voting_open(cycle, now)
    return render_template(
        "cycles/show_cycle.html",
        cycle=cycle,
        now=now,
        voting_open=voting_open,
        # While voting runs: how many ballots count, and the ballot log's head (it changes with each ballot).
        ballot_log=voting.log_state(session, cycle) if voting_open else None,
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
        ballot_lines=ballot_explanation(cycle),
        rule_text=rule_explanation(cycle),
        tie_break_text=tie_break_explanation(cycle),
    )
