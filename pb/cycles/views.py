"""Public pages: the cycles running or to come, the archive of past cycles, and each cycle's page."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, render_template

from pb.cycles import bp
from pb.explain import ballot_explanation, rule_explanation, tie_break_explanation
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.labels import PHASE_NAMES, datetime_pattern
from pb.models import Cycle
from pb.services import records, voting
from pb.services.cycles import cycle_glance, cycles_signature, get_cycle, list_cycles_page, next_phase_change
from pb.services.transitions import advance_if_due, due_phase
from pb.web import page_number, request_now

PAGE_SIZE = 20


def _cycle_key(kind: str, now: datetime, locale: str):
    """Everything a cycle's card or page shows: the cycle as of its version (its districts and categories
    change with it), its early closures, which phase is running or next at ``now``, and the language
    (see ``pb.fragments``). Nothing on them depends on who is looking."""

    def key(cycle: Cycle) -> tuple:
        state = cycle.phase_state(now)
        closures = tuple(sorted((c.phase.value, c.closed_at) for c in cycle.closures))
        upcoming = state.upcoming.phase if state.upcoming else None
        return (kind, cycle.id, cycle.version, locale, closures, state.current, upcoming)

    return key


def _render_list(template: str, past: bool):
    """A page of the cycles running or to come, or of the archive.

    Its content is the same for everyone until a cycle changes or a phase starts or ends: it is kept
    whole (per page and language) under the cycles' signature until the next phase change, so a view
    that reuses it runs one narrow query instead of loading the cycles."""
    session, now, locale, number = db_session(), request_now(), current_locale(), page_number()
    kept = current_app.extensions["pb.fragments"]
    key = ("cycle-list", past, number, locale, cycles_signature(session))
    content = kept.kept(key, now)
    if content is None:
        page = list_cycles_page(session, now, past=past, number=number, per_page=PAGE_SIZE)
        if page is None:
            abort(404)
        html = render_template(
            "cycles/_past_cycles_content.html" if past else "cycles/_list_cycles_content.html",
            card_key=_cycle_key("cycle-card", now, locale),
            page=page,
            now=now,
            phase_names=PHASE_NAMES,
            dt_format=datetime_pattern(locale),
        )
        content = kept.keep(key, html, now=now, until=next_phase_change(session, now))
    return render_template(template, content=content)


@bp.get("/")
def list_cycles():
    return _render_list("cycles/list_cycles.html", past=False)


@bp.get("/archive")
def list_past_cycles():
    return _render_list("cycles/list_past_cycles.html", past=True)


def _with_ballots(key, ballots: voting.LogState | None):
    """The ballot count and the log's head change with every ballot, and the fingerprint of the key that
    signs the records (shown beside them) with a new key: part of the kept page's key."""
    signing_key = records.key_fingerprint(current_app.config["SIGNING_KEY_PATH"]) if ballots else None

    def extended(cycle: Cycle) -> tuple:
        shown = (str(ballots.head), ballots.counted, ballots.closed, signing_key) if ballots else None
        return (*key(cycle), shown)

    return extended


@bp.get("/cycles/<slug>")
def show_cycle(slug: str):
    session, now, locale = db_session(), request_now(), current_locale()
    glance = cycle_glance(session, slug)
    if glance is None:
        abort(404)
    if due_phase(glance, now) is None:
        # Nothing to record: when the page is kept, its key comes from the glance and the log's head.
        ballots = voting.log_state(session, glance) if glance.voting_has_opened(now) else None
        if ballots is None or ballots.closed or not glance.voting_is_over(now):
            key = _with_ballots(_cycle_key("cycle-page", now, locale), ballots)(glance)
            kept = current_app.extensions["pb.fragments"].get(key)
            if kept is not None:
                return render_template("cycles/show_cycle.html", cycle=glance, kept=kept)
    cycle = get_cycle(session, slug, districts=False)  # the kept page reads them when it is rendered
    if cycle is None:
        abort(404)
    advance_if_due(session, cycle, now)
    ballots = voting.log_state(session, cycle) if cycle.voting_has_opened(now) else None
    if ballots is not None and not ballots.closed and cycle.voting_is_over(now):
        voting.seal_ballot_log(session, cycle, now)  # no worker ran since the end: seal it now
        ballots = voting.log_state(session, cycle)
    return render_template(
        "cycles/show_cycle.html",
        ballots=ballots,
        voting_open=voting.voting_open(cycle, now),
        cycle=cycle,
        now=now,
        phase_names=PHASE_NAMES,
        dt_format=datetime_pattern(current_locale()),
        page_key=_with_ballots(_cycle_key("cycle-page", now, current_locale()), ballots),
        # Called by the template only when the page is not kept already.
        ballot_explanation=ballot_explanation,
        rule_explanation=rule_explanation,
        tie_break_explanation=tie_break_explanation,
    )
