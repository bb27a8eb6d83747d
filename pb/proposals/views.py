"""Proposal pages: the cycle's list with search and filters, a proposal's page, proposing and editing,
withdrawing, staff translations, and the photos."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from pb import permissions, photos
from pb.extensions import db_session
from pb.i18n import current_locale
from pb.labels import datetime_pattern
from pb.models import Cycle, Proposal, ProposalStatus
from pb.proposal_labels import (
    EVENT_NAMES,
    HIDDEN,
    LANGUAGE_NAMES,
    ORIGINAL_HEADINGS,
    STATUS_DESCRIPTIONS,
    STATUS_NAMES,
    TRANSLATION_HEADINGS,
)
from pb.proposals import bp
from pb.proposals.forms import (
    ConfirmForm,
    ProposalFilterForm,
    ProposalForm,
    TranslationForm,
    money_cents,
)
from pb.security import role_required
from pb.services import phases
from pb.services import proposals as service
from pb.services.cycles import CycleGlance, get_cycle
from pb.services.proposal_index import CITYWIDE
from pb.values import format_money_input
from pb.web import domain_errors, page_number, request_now, visitor_glance

PAGE_SIZE = 20
ORDER_COOKIE = "pb_order"  # the visitor's random order of proposals
ONE_YEAR = 365 * 24 * 3600
_CARDS = "<!-- the cards -->"  # where a kept list page's cards go


def _cycle_or_404(slug: str, *, categories: bool = True, districts: bool = True) -> Cycle:
    cycle = get_cycle(db_session(), slug, categories=categories, districts=districts)
    if cycle is None:
        abort(404)
    return cycle


def _proposal_or_404(cycle: Cycle, proposal_id: int) -> Proposal:
    proposal = service.get_proposal(db_session(), cycle, proposal_id)
    if proposal is None or not permissions.can_see_proposal(current_user, proposal):
        abort(404)
    return proposal


def _labels() -> dict:
    return {
        "status_names": STATUS_NAMES,
        "status_descriptions": STATUS_DESCRIPTIONS,
        "hidden_label": HIDDEN,
        "event_names": EVENT_NAMES,
        "language_names": LANGUAGE_NAMES,
        "translation_headings": TRANSLATION_HEADINGS,
        "original_headings": ORIGINAL_HEADINGS,
        "permissions": permissions,
        "dt_format": datetime_pattern(current_locale()),
    }


def _area_choices(cycle: Cycle, locale: str, *, with_all: bool) -> list[tuple[str, str]]:
    choices = [("", _("All districts"))] if with_all else []
    if cycle.allow_citywide_proposals or with_all or not cycle.districts:
        choices.append((CITYWIDE, _("City-wide")))
    choices += [(d.slug, d.name(locale)) for d in cycle.districts]
    return choices


def _category_choices(cycle: Cycle, locale: str, first: str) -> list[tuple[str, str]]:
    return [("", first)] + [(c.slug, c.name(locale)) for c in cycle.categories]


# --- The list -------------------------------------------------------------------------------------


def _visitor_seed() -> int:
    """Each visitor's own shuffled order, the same on every page of the list and on every visit.

    The seed is a plain cookie, not part of the signed session: it says nothing about anyone, a visitor
    who changes it only gets another order, and a session written for every new visitor would cost
    each first page a signed cookie (and make lists unkeepable by a cache in front)."""
    text = request.cookies.get(ORDER_COOKIE, "")
    if len(text) <= 10 and text.isascii() and text.isdigit() and 0 < int(text) < service.RANDOM_MODULUS:
        return int(text)
    seed = service.visitor_seed()

    @after_this_request
    def remember(response):
        response.set_cookie(
            ORDER_COOKIE, str(seed), max_age=ONE_YEAR, httponly=True, samesite="Lax", secure=request.is_secure
        )
        return response

    return seed


class _Later(Sequence):
    """A form's choices made on first use: only when the form is validated or rendered (a kept list
    page does neither, and then needs no districts or categories)."""

    def __init__(self, make) -> None:
        self._make, self._items = make, None

    def _all(self) -> list:
        if self._items is None:
            self._items = self._make()
        return self._items

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


def _render_list(cycle: Cycle | CycleGlance, *, mine: bool):
    """A page of the list. ``cycle`` may be a glance at it (the public list): the cycle itself is then
    loaded only for what needs its districts and categories (checking a filter, rendering the form or
    a card that is not kept)."""
    locale = current_locale()
    loaded: list[Cycle] = [cycle] if isinstance(cycle, Cycle) else []

    def full() -> Cycle:
        if not loaded:
            loaded.append(_cycle_or_404(cycle.slug))
        return loaded[0]

    made: list[ProposalFilterForm] = []

    def filter_form() -> ProposalFilterForm:
        """The search form with the request's filters checked, made on first use: to work out the
        filters (unless they were checked before), or to render it when the page is not kept."""
        if not made:
            form = ProposalFilterForm(request.args)
            form.district.choices = _Later(lambda: _area_choices(full(), locale, with_all=True))
            form.category.choices = _Later(lambda: _category_choices(full(), locale, _("All categories")))
            form.status.choices = [("", _("All statuses"))] + [
                (value, str(STATUS_NAMES.get(value, HIDDEN))) for value in service.status_choices()
            ]
            for name in ("district", "category"):
                if not request.args.get(name):  # "all" is always valid: no need to make the others to check it
                    form[name].validate_choice = False
            if request.args:
                form.validate()
            made.append(form)
        return made[0]

    # The search form shows the request's filters (and their errors): the same HTML for the same filters.
    shown = sorted((k, v) for k, v in request.args.items(multi=True) if k != "page")
    filters_key = ("proposal-filters", cycle.id, cycle.version, locale, mine, *shown)
    # The filters a request asks for, checked once per process (the cycle's version names its districts
    # and categories); no filter, or a broken one, shows the whole list (and the form its errors).
    checked = current_app.extensions["pb.list_filters"]
    filters = checked.get((cycle.id, cycle.version, mine, *shown)) if shown else service.ProposalFilters(mine=mine)
    if filters is None:
        form = filter_form()
        filters = service.ProposalFilters(mine=mine)
        if not form.errors:
            filters = service.ProposalFilters(
                query=form.q.data or "",
                district=form.district.data or "",
                category=form.category.data or "",
                status=form.status.data or "",
                sort=form.sort.data or service.DEFAULT_SORT,
                mine=mine,
            )
        checked.put((cycle.id, cycle.version, mine, *shown), filters)
    page = service.list_proposals(
        db_session(),
        loaded[0] if loaded else cycle,  # loaded to check a filter: it names the filter's district and category
        current_user if current_user.is_authenticated else None,
        filters,
        number=page_number(),
        per_page=PAGE_SIZE,
        seed=_visitor_seed() if service.sort_of(filters) == "random" else 0,  # the order is read only then
        index=current_app.extensions["pb.proposal_index"],
        stamp=getattr(cycle, "proposal_stamp", None),
    )
    if page is None:
        abort(404)
    now = request_now()

    def card_key(proposal: service.CardKey) -> tuple:
        """Everything a card shows: the proposal as of its version, its counters, the cycle's district and
        category names as of its version, the language, and whether the viewer may read it if hidden."""
        reader = permissions.can_read_hidden(current_user, proposal) if proposal.is_hidden else None
        return (
            "proposal-card",
            cycle.id,
            cycle.version,
            proposal.id,
            proposal.created_at,
            proposal.version,
            proposal.support_count,
            proposal.comment_count,
            locale,
            reader,
        )

    def areas() -> str:
        """Before a card is rendered: the cycle's districts and categories in the session, so that its
        proposals' district and category resolve without a query each."""
        full().districts, full().categories  # noqa: B018
        return ""

    # The cards: put together here when all are kept, else rendered (each kept card reused).
    kept = current_app.extensions["pb.fragments"]
    found = [kept.get(card_key(key)) for key in page.keys]
    if all(html is not None for html in found):
        cards = Markup("").join(found)
    else:
        cards = Markup(
            render_template("proposals/_cards.html", page=page, card_key=card_key, areas=areas, cycle=cycle, **_labels())
        )
    # The rest of the page, the same for every visitor of the public list with the same filters and page
    # number while the cycle's proposal stamp holds (and whether they are signed in, and submission open).
    submission_open = phases.submission_open(cycle, now)
    frame_key = None
    if not mine:
        signed_in = current_user.is_authenticated
        frame_key = ("proposal-list", cycle.id, cycle.version, cycle.proposal_stamp, locale, signed_in, submission_open)
        frame_key += (page.number, *shown)
    frame = kept(
        frame_key,
        lambda: render_template(
            "proposals/_list_content.html",
            cards=Markup(_CARDS),
            filters_key=filters_key,
            cycle=cycle,
            page=page,
            filter_form=filter_form,
            mine=mine,
            arguments={k: v for k, v in request.args.items() if k != "page" and v},
            submission_open=submission_open,
            **_labels(),
        ),
    )
    content = cards.join(frame.split(_CARDS))
    return render_template("proposals/list_proposals.html", cycle=cycle, mine=mine, content=content)


@bp.get("/cycles/<slug>/proposals")
def list_proposals(slug: str):
    glance = visitor_glance(slug)  # with the stamp the kept list is read under
    if glance is None:
        abort(404)
    return _render_list(glance, mine=False)


@bp.get("/cycles/<slug>/proposals/mine")
@login_required
def my_proposals(slug: str):
    return _render_list(_cycle_or_404(slug), mine=True)


# --- One proposal ---------------------------------------------------------------------------------


@bp.get("/cycles/<slug>/proposals/<int:proposal_id>")
def show_proposal(slug: str, proposal_id: int):
    """A proposal's page. A visitor who is not signed in sees what every such visitor sees, whatever
    the time (no form to act on, nothing of theirs): that page is kept whole under the cycle's
    proposal stamp, which moves with the proposal, its history, review, translation, comments and
    their authors' names (``ProposalActivity``), and reused after one narrow query (or none: see
    :func:`pb.web.visitor_glance`)."""
    locale = current_locale()
    page_key = None
    if not current_user.is_authenticated:
        glance = visitor_glance(slug)
        if glance is None:
            abort(404)
        page_key = ("proposal-page", glance.id, glance.version, glance.proposal_stamp, proposal_id, locale)
        kept = current_app.extensions["pb.fragments"]
        content, title = kept.get(page_key), kept.get((*page_key, "title"))
        if content is not None and title is not None:
            return render_template("proposals/show_proposal.html", cycle=glance, kept=content, kept_title=title)
    cycle = _cycle_or_404(slug, categories=False)  # the page names the proposal's category only
    proposal = _proposal_or_404(cycle, proposal_id)
    if page_key is not None:
        current_app.extensions["pb.fragments"]((*page_key, "title"), lambda: escape(proposal.title))
    now = request_now()
    return render_template(
        "proposals/show_proposal.html",
        cycle=cycle,
        proposal=proposal,
        now=now,
        page_key=page_key,
        # Made only for the author (a form's token would give every visitor a session).
        confirm_form=ConfirmForm(version=str(proposal.version)) if permissions.is_author(current_user, proposal) else None,
        **_labels(),
    )


# --- Proposing and editing ------------------------------------------------------------------------


def _prepare(form: ProposalForm, cycle: Cycle) -> None:
    locale = current_locale()
    form.district.choices = _area_choices(cycle, locale, with_all=False)
    form.category.choices = _category_choices(cycle, locale, _("No category"))


def _photo(form: ProposalForm, current: Proposal | None) -> tuple[str | None, str]:
    """The photo the proposal will have: a new upload (cleaned and stored), the current one, or none."""
    upload = form.photo.data
    if upload is not None and getattr(upload, "filename", ""):
        limit = current_app.config["PHOTO_MAX_BYTES"]
        data = upload.stream.read(limit + 1)
        photo = photos.clean(data, limit)
        return photos.store(_photo_folder(), photo), form.photo_alt.data or ""
    if current is not None and current.photo_name and not form.remove_photo.data:
        return current.photo_name, form.photo_alt.data or ""
    return None, ""


def _photo_folder() -> Path:
    folder = Path(current_app.config["PHOTO_FOLDER"])
    return folder if folder.is_absolute() else Path.cwd() / folder


def _input(form: ProposalForm, cycle: Cycle, photo: tuple[str | None, str]) -> service.ProposalInput:
    by_slug = {d.slug: d.id for d in cycle.districts}
    categories = {c.slug: c.id for c in cycle.categories}
    return service.ProposalInput(
        title=form.title.data or "",
        summary=form.summary.data or "",
        description=form.description.data or "",
        language=form.language.data or "",
        category_id=categories.get(form.category.data or ""),
        district_id=by_slug.get(form.district.data or ""),
        location=form.location.data or "",
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
        beneficiaries=form.beneficiaries.data or "",
        estimated_cost_cents=money_cents(form.estimated_cost.data),
        partner=form.partner.data or "",
        show_author_name=form.show_author_name.data != "district",
        photo_name=photo[0],
        photo_alt=photo[1],
    )


def _render_form(template: str, cycle: Cycle, form: ProposalForm, proposal: Proposal | None = None):
    return render_template(
        template,
        cycle=cycle,
        form=form,
        proposal=proposal,
        now=request_now(),
        **_labels(),
    )


@bp.route("/cycles/<slug>/proposals/new", methods=["GET", "POST"])
@login_required
def new_proposal(slug: str):
    cycle = _cycle_or_404(slug)
    now = request_now()
    form = ProposalForm()
    _prepare(form, cycle)
    if request.method == "GET":
        form.language.data = "fr" if current_locale().startswith("fr") else "en"
        form.district.data = CITYWIDE if cycle.allow_citywide_proposals or not cycle.districts else ""
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            photo = _photo(form, None)
            proposal = service.create_proposal(
                db_session(), current_user, cycle, _input(form, cycle, photo), now, submit=bool(form.submit.data)
            )
        if attempt.ok:
            flash(
                _("Your proposal is submitted and public.")
                if proposal.status is ProposalStatus.SUBMITTED
                else _("Your draft is saved. Only you can see it until you submit it.")
            )
            return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))
    return _render_form("proposals/new_proposal.html", cycle, form)


def _own_proposal(slug: str, proposal_id: int) -> tuple[Cycle, Proposal]:
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    if not permissions.is_author(current_user, proposal):
        abort(403)
    return cycle, proposal


def _fill(form: ProposalForm, proposal: Proposal) -> None:
    form.title.data = proposal.title
    form.summary.data = proposal.summary
    form.description.data = proposal.description
    form.language.data = proposal.language
    form.category.data = proposal.category.slug if proposal.category else ""
    form.district.data = proposal.district.slug if proposal.district else CITYWIDE
    form.location.data = proposal.location
    form.latitude.data = proposal.latitude
    form.longitude.data = proposal.longitude
    form.beneficiaries.data = proposal.beneficiaries
    form.estimated_cost.data = format_money_input(proposal.estimated_cost_cents)
    form.partner.data = proposal.partner
    form.show_author_name.data = "name" if proposal.show_author_name else "district"
    form.photo_alt.data = proposal.photo_alt
    form.version.data = str(proposal.version)


def _version(form) -> int | None:
    raw = (form.version.data or "").strip()
    return int(raw) if raw.isdigit() else None


@bp.route("/cycles/<slug>/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(slug: str, proposal_id: int):
    cycle, proposal = _own_proposal(slug, proposal_id)
    now = request_now()
    form = ProposalForm()
    _prepare(form, cycle)
    if request.method == "GET":
        if not permissions.can_edit_proposal(current_user, proposal, now):
            flash(_("This proposal can no longer be changed."))
            return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))
        _fill(form, proposal)
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            photo = _photo(form, proposal)
            expected = _version(form)
            service.update_proposal(
                db_session(), current_user, proposal, _input(form, cycle, photo), now, expected_version=expected
            )
            if form.submit.data and proposal.status is ProposalStatus.DRAFT:
                service.submit_proposal(db_session(), current_user, proposal, now)
        if attempt.ok:
            flash(_("Your changes are saved."))
            return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))
    return _render_form("proposals/edit_proposal.html", cycle, form, proposal)


@bp.post("/cycles/<slug>/proposals/<int:proposal_id>/submit")
@login_required
def submit_proposal(slug: str, proposal_id: int):
    cycle, proposal = _own_proposal(slug, proposal_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with domain_errors() as attempt:
            service.submit_proposal(
                db_session(), current_user, proposal, request_now(), expected_version=_version(form)
            )
        flash(_("Your proposal is submitted and public.") if attempt.ok else str(attempt.error))
    return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))


@bp.route("/cycles/<slug>/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_proposal(slug: str, proposal_id: int):
    cycle, proposal = _own_proposal(slug, proposal_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        was_draft = proposal.status is ProposalStatus.DRAFT
        with domain_errors(form) as attempt:
            service.withdraw_proposal(db_session(), current_user, proposal, request_now())
        if attempt.ok:
            if was_draft:
                flash(_("Your draft is deleted."))
                return redirect(url_for("proposals.my_proposals", slug=cycle.slug))
            flash(_("Your proposal is withdrawn. It stays on the list, marked as withdrawn."))
            return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))
    return render_template(
        "proposals/withdraw_proposal.html", cycle=cycle, proposal=proposal, form=form, **_labels()
    )


@bp.route("/cycles/<slug>/proposals/<int:proposal_id>/translation", methods=["GET", "POST"])
@role_required("staff")
def translate_proposal(slug: str, proposal_id: int):
    cycle = _cycle_or_404(slug)
    proposal = _proposal_or_404(cycle, proposal_id)
    if not permissions.can_translate_proposal(current_user, proposal):
        abort(404)
    language = "fr" if proposal.language == "en" else "en"
    existing = proposal.translation(language)
    form = TranslationForm(obj=existing)
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            service.add_translation(
                db_session(),
                current_user,
                proposal,
                form.title.data or "",
                form.summary.data or "",
                form.description.data or "",
                request_now(),
            )
        if attempt.ok:
            flash(_("The translation is saved."))
            return redirect(url_for("proposals.show_proposal", slug=cycle.slug, proposal_id=proposal.id))
    return render_template(
        "proposals/translate_proposal.html",
        cycle=cycle,
        proposal=proposal,
        form=form,
        language=language,
        **_labels(),
    )


# --- Photos ---------------------------------------------------------------------------------------


@bp.get("/photos/<name>")
def photo(name: str):
    """A proposal's photo, as re-encoded when it was uploaded, to those who may see the proposal."""
    if not photos.is_photo_name(name):
        abort(404)
    proposal = service.proposal_with_photo(db_session(), name)
    if proposal is None or not permissions.can_see_proposal(current_user, proposal):
        abort(404)
    if proposal.is_hidden and not permissions.can_read_hidden(current_user, proposal):
        abort(404)
    response = send_from_directory(
        _photo_folder(), name, mimetype=photos.CONTENT_TYPES[name.rsplit(".", 1)[1]], max_age=3600
    )
    response.headers["Content-Disposition"] = "inline"
    return response

