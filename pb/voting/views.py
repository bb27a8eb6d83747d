"""Residents vote: with a voter code or a confirmed account, on a ballot page per ballot type, with a
review step before casting, a receipt afterwards, and a public receipt check once voting is over.

Every page works without JavaScript (``static/ballot.js`` only adds live totals and filters). The
choices travel in the form, one field per project, so a broken rule shows its message with every
choice kept.
"""

from __future__ import annotations

import secrets

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from pb.extensions import db_session, limiter
from pb.i18n import current_locale
from pb.labels import BALLOT_TYPE_NAMES, PHASE_NAMES, datetime_pattern
from pb.models import BallotType, Cycle, Participation
from pb.services import ballot_rules, eligibility, voting
from pb.services.cycles import get_cycle
from pb.voter_codes import normalize, prefix
from pb.voting import bp
from pb.voting.forms import BallotForm, CodeForm, ReceiptForm
from pb.web import domain_errors, request_now

VOTER_KEY = "pb_voter"  # the code checked in this browser: {"cycle": id, "code": code id}
ORDER_KEY = "pb_ballot_order"  # this browser's random project order
RECEIPT_KEY = "pb_receipt"  # the last cast's receipt, for the confirmation page
ACTIONS = ("update", "review", "change", "cast")


def _cycle_or_404(slug: str) -> Cycle:
    cycle = get_cycle(db_session(), slug, categories=False)  # a ballot's categories come with its projects
    if cycle is None:
        abort(404)
    return cycle


def _voter(cycle: Cycle) -> voting.Voter | None:
    """Who votes from this browser: the code entered here, else the signed-in confirmed account."""
    remembered = session.get(VOTER_KEY)
    if isinstance(remembered, dict) and remembered.get("cycle") == cycle.id and isinstance(remembered.get("code"), int):
        voter = eligibility.voter_for_code_id(db_session(), cycle, remembered["code"])
        if voter is not None:
            return voter
        session.pop(VOTER_KEY, None)
    if current_user.is_authenticated:
        return eligibility.account_voter(db_session(), cycle, current_user)
    return None


def _has_voted(cycle: Cycle, voter: voting.Voter) -> bool:
    if voter.voted is not None:  # a code's row says it (used when its ballot was cast)
        return voter.voted
    return (
        db_session().scalar(
            select(Participation.id).where(Participation.cycle_id == cycle.id, Participation.voter == voter.ref)
        )
        is not None
    )


def _common(cycle: Cycle) -> dict:
    locale = current_locale()
    return {
        "cycle": cycle,
        "locale": locale,
        "dt_format": datetime_pattern(locale),
        "phase_names": PHASE_NAMES,
        "ballot_type_names": BALLOT_TYPE_NAMES,
    }


# --- Starting: who votes -------------------------------------------------------------------------


@bp.get("/cycles/<slug>/vote")
def start_vote(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    voter = _voter(cycle) if voting.voting_open(cycle, now) else None
    return render_template(
        "voting/start_vote.html",
        **_common(cycle),
        now=now,
        open=voting.voting_open(cycle, now),
        over=cycle.voting_is_over(now),
        voter=voter,
        voted=voter is not None and _has_voted(cycle, voter),
        revision=voting.config_for(db_session(), cycle).allow_revision,
        form=CodeForm(),
    )


def _code_limit() -> str:
    return current_app.config["VOTER_CODE_RATE_LIMIT"]


def _prefix_limit() -> str:
    return current_app.config["VOTER_CODE_PREFIX_RATE_LIMIT"]


def _typed_prefix() -> str:
    """Wrong codes count against their first four characters too, from whatever address they come."""
    code = normalize(request.form.get("code", ""))
    return "code-prefix:" + (prefix(code) if code else "-")


def _wrong_code(response) -> bool:
    return response.status_code == 422


@bp.post("/cycles/<slug>/vote/code")
@limiter.limit(_code_limit, deduct_when=_wrong_code)
@limiter.limit(_prefix_limit, key_func=_typed_prefix, deduct_when=_wrong_code)
def enter_code(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    form = CodeForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            voting.require_voting_open(cycle, now)
            if not cycle.vote_with_codes:
                abort(404)
            voter = eligibility.code_voter(db_session(), cycle, form.code.data)
        if attempt.ok:
            session[VOTER_KEY] = {"cycle": cycle.id, "code": voter.code_id}
            # The ballot itself rather than a redirect to it: one request fewer for every voter. Its
            # form posts to the ballot's address; sending the code again (a reload) shows the ballot
            # again, with a new nonce, and changes nothing.
            return _ballot_page(cycle, voter, now, BallotForm(formdata=None))
    return (
        render_template(
            "voting/start_vote.html",
            **_common(cycle),
            now=now,
            open=voting.voting_open(cycle, now),
            over=cycle.voting_is_over(now),
            voter=None,
            voted=False,
            revision=voting.config_for(db_session(), cycle).allow_revision,
            form=form,
        ),
        422,
    )


@bp.get("/cycles/<slug>/vote/code")
def code_address(slug: str):
    """The code's answer is the ballot at this address; opened again from the address bar or history,
    it sends to the ballot (or, with no code entered here, to the start page)."""
    cycle = _cycle_or_404(slug)
    return redirect(url_for("voting.show_ballot", slug=cycle.slug), 303)


@bp.post("/cycles/<slug>/vote/leave")
def leave(slug: str):
    """Forget the code entered in this browser (a shared computer: the next person starts afresh)."""
    cycle = _cycle_or_404(slug)
    if not BallotForm().validate_on_submit():
        abort(400)
    session.pop(VOTER_KEY, None)
    session.pop(RECEIPT_KEY, None)
    return redirect(url_for("voting.start_vote", slug=cycle.slug), 303)


# --- The ballot ----------------------------------------------------------------------------------


def _raw_choices(config, projects) -> ballot_rules.RawChoices:
    """The choices as the form sent them (untrusted: the rules read them)."""
    form = request.form
    if config.ballot_type is BallotType.RANKED:
        return ballot_rules.RawChoices(ranks={str(p.id): form.get(f"rank-{p.id}", "") for p in projects}
                                       | _extra(form, "rank-"))
    if config.ballot_type is BallotType.CUMULATIVE:
        return ballot_rules.RawChoices(points={str(p.id): form.get(f"points-{p.id}", "") for p in projects}
                                       | _extra(form, "points-"))
    return ballot_rules.RawChoices(selected=tuple(form.getlist("project")))


def _extra(form, start: str) -> dict[str, str]:
    """Fields for projects not on this voter's ballot (a tampered form): the rules refuse them by name."""
    return {name[len(start):]: value for name, value in form.items() if name.startswith(start)}


def _ordered(cycle: Cycle, projects: list) -> list:
    if cycle.fixed_project_order:
        return projects
    seed = session.get(ORDER_KEY)
    if not isinstance(seed, str):
        seed = session[ORDER_KEY] = secrets.token_hex(8)
    return voting.shuffled(projects, f"{cycle.id}|{seed}")


def _state(config, projects, raw: ballot_rules.RawChoices) -> dict:
    """What the form shows back: the choices as sent, and the running totals of the valid ones."""
    costs = {p.id: p.cost_cents for p in projects}
    selected = {int(v) for v in raw.selected if v.isdigit() and int(v) in costs}
    points = {}
    for key, value in raw.points.items():
        if key.isdigit() and int(key) in costs and value.strip().isdigit() and len(value.strip()) < 10:
            points[int(key)] = int(value.strip())
    ranks = {int(k): v for k, v in raw.ranks.items() if k.isdigit() and int(k) in costs}
    total = sum(costs[i] for i in selected)
    return {
        "selected": selected,
        "ranks": ranks,
        "points": {int(k): v for k, v in raw.points.items() if k.isdigit()},
        "total_cost": total,
        "total_points": sum(points.values()),
    }


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@bp.route("/cycles/<slug>/ballot", methods=["GET", "POST"])
def show_ballot(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    db = db_session()
    if not voting.voting_open(cycle, now):
        return redirect(url_for("voting.start_vote", slug=cycle.slug))
    voter = _voter(cycle)
    if voter is None:
        if request.method == "POST" and _receipt_of(cycle) is not None:
            # The cast form sent again after its code was forgotten (a reload of the confirmation):
            # the receipt page, not a new vote.
            return redirect(url_for("voting.ballot_cast", slug=cycle.slug), 303)
        return redirect(url_for("voting.start_vote", slug=cycle.slug))
    form = BallotForm()
    raw = ballot_rules.RawChoices()
    template = "voting/show_ballot.html"
    choices = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        config = voting.ballot_config(db, cycle, now)
        projects = voting.offered_projects(db, cycle, voter.district_id)
        raw = _raw_choices(config, projects)
        action = request.form.get("action", "update")
        if action not in ACTIONS:
            abort(400)
        if action == "cast":
            with domain_errors(form) as attempt:
                cast = voting.cast_ballot(db, cycle, voter, raw, form.nonce.data or "", now)
            if attempt.ok:
                session[RECEIPT_KEY] = {
                    "cycle": cycle.id,
                    "receipt": cast.receipt,
                    "replaced": cast.replaced,
                    "account": voter.is_account,
                }
                if voter.code_id is not None:
                    session.pop(VOTER_KEY, None)  # a shared computer must not keep the code
                # The confirmation itself rather than a redirect to it (one request fewer). Sending
                # the form again writes nothing: the nonce gives back this receipt (an account), or,
                # the code being forgotten, the receipt page answers (see above).
                return _confirmation(cycle, session[RECEIPT_KEY], config)
        elif action == "review":
            with domain_errors(form) as attempt:
                budget = voting.ballot_budget(cycle, voter.district_id)
                options = [ballot_rules.Option(p.id, p.cost_cents, p.title(current_locale())) for p in projects]
                choices = ballot_rules.validate(config, budget, options, raw)
            if attempt.ok:
                template = "voting/review_ballot.html"
    return _ballot_page(cycle, voter, now, form, raw=raw, template=template, choices=choices)


def _ballot_page(cycle: Cycle, voter: voting.Voter, now, form: BallotForm, *, raw=None, template="voting/show_ballot.html",
                 choices=None):
    """The ballot (or its review), with the choices as sent, for ``voter``; a new nonce unless the form
    carries one (a POST that shows the ballot again keeps its nonce)."""
    db = db_session()
    config = voting.ballot_config(db, cycle, now)
    projects = _ordered(cycle, list(voting.offered_projects(db, cycle, voter.district_id)))
    budget = voting.ballot_budget(cycle, voter.district_id)
    raw = raw or ballot_rules.RawChoices()
    if not form.nonce.data or request.method == "GET":
        form.nonce.data = voting.new_nonce()
    by_id = {p.id: p for p in projects}
    show_category, show_district = _number(request.values.get("show_category")), _number(request.values.get("show_district"))
    visible = [
        p for p in projects
        if show_category in (None, p.category_id) and show_district in (None, p.district_id)
    ]
    return render_template(
        template,
        **_common(cycle),
        form=form,
        config=config,
        budget=budget,
        projects=projects,
        by_id=by_id,
        costs={p.id: p.cost_cents for p in projects},
        visible=visible,
        hidden_ids=[p.id for p in projects if p not in visible],
        show_category=show_category,
        show_district=show_district,
        rank_count=min(config.ranking_length or len(projects), len(projects)),
        choices=choices,
        state=_state(config, projects, raw),
        explanation=ballot_rules.describe_limits(config, budget, currency=cycle.currency),
        voter=voter,
        voted=_has_voted(cycle, voter),
        categories=sorted({p.category for p in projects if p.category}, key=lambda c: c.position),
        districts=sorted({p.district for p in projects if p.district}, key=lambda d: d.position),
    )


def _receipt_of(cycle: Cycle) -> dict | None:
    """The last cast's receipt in this browser's session, if it was cast in ``cycle``."""
    cast = session.get(RECEIPT_KEY)
    return cast if isinstance(cast, dict) and cast.get("cycle") == cycle.id else None


def _confirmation(cycle: Cycle, cast: dict, config=None):
    return render_template(
        "voting/ballot_cast.html",
        **_common(cycle),
        receipt=voting.format_receipt(cast["receipt"]),
        replaced=cast.get("replaced", False),
        account=cast.get("account", False),
        revision=(config or voting.config_for(db_session(), cycle)).allow_revision,
        form=BallotForm(formdata=None),
    )


@bp.get("/cycles/<slug>/ballot/cast")
def ballot_cast(slug: str):
    """The last receipt of this browser, again (the cast's answer shows it first)."""
    cycle = _cycle_or_404(slug)
    cast = _receipt_of(cycle)
    if cast is None:
        return redirect(url_for("voting.start_vote", slug=cycle.slug))
    return _confirmation(cycle, cast)


# --- Receipts ------------------------------------------------------------------------------------


@bp.route("/cycles/<slug>/receipt", methods=["GET", "POST"])
def check_receipt(slug: str):
    """A POST form, so that a receipt never lands in an access log beside the checker's address."""
    cycle = _cycle_or_404(slug)
    now = request_now()
    over = cycle.voting_is_over(now)
    form = ReceiptForm()
    result = None
    if over and form.validate_on_submit():
        with domain_errors(form) as attempt:
            result = voting.check_receipt(db_session(), cycle, form.receipt.data)
        if not attempt.ok:
            result = None
    return render_template(
        "voting/check_receipt.html",
        **_common(cycle),
        over=over,
        form=form,
        result=result,
        shown=voting.format_receipt(result.receipt) if result else "",
    )
