"""Public pages: the list of budget cycles and each cycle's page."""

from __future__ import annotations

from flask import abort, render_template

from pb.cycles import bp
from pb.cycles.explain import ballot_explanation, rule_explanation, tie_break_explanation
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.services.cycles import PHASE_NAMES, datetime_pattern, get_cycle
from pb.services.cycles import list_cycles as all_cycles
from pb.web import request_now


@bp.get("/")
def list_cycles():
    return render_template(
        "cycles/list_cycles.html",
        cycles=all_cycles(db_session()),
        now=request_now(),
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
    )


@bp.get("/cycles/<slug>")
def show_cycle(slug: str):
    cycle = get_cycle(db_session(), slug)
    if cycle is None:
        abort(404)
    return render_template(
        "cycles/show_cycle.html",
        cycle=cycle,
        now=request_now(),
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
        ballot_lines=ballot_explanation(cycle),
        rule_text=rule_explanation(cycle),
        tie_break_text=tie_break_explanation(cycle),
    )
