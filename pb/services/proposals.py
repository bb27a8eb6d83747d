"""Proposals: residents submit project ideas, edit them while submission is open, withdraw them;
staff add translations; every status change is kept as public history.

Reviews (feasibility, cost, merging) and moderation build on :func:`change_status` and
:func:`record_step`, the only ways a proposal's status moves.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from pb import permissions
from pb.models import (
    LANGUAGES,
    PUBLIC_STATUSES,
    Category,
    Cycle,
    District,
    Proposal,
    ProposalStatus,
    ProposalStatusChange,
    ProposalTranslation,
    User,
)
from pb.services import deliberation, phases
from pb.services.accounts import check_can_take_part
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.proposal_index import (
    CITYWIDE,
    CardKey,
    ProposalIndex,
    Selection,
    own_listing,
    public_listing,
)
from pb.textsearch import fold

MAX_COST_CENTS = 10**15  # ten trillion dollars: more than any budget, less than a BIGINT
SORTS = ("random", "supported", "newest", "commented")
DEFAULT_SORT = "random"
RANDOM_MODULUS = 2_147_483_647  # seeds of the random order are below it (a cookie of ten digits at most)
STALE = _l("Someone changed this proposal since you opened it. Reload the page and make your change again.")


@dataclass(frozen=True)
class ProposalInput:
    """What a resident writes; fields not here (status, author, cycle) cannot be set from a form."""

    title: str
    summary: str
    description: str
    language: str
    category_id: int | None = None
    district_id: int | None = None  # None: city-wide
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    beneficiaries: str = ""
    estimated_cost_cents: int | None = None
    partner: str = ""
    show_author_name: bool = True
    photo_name: str | None = None  # a stored photo's name (``pb.photos.store``), or None
    photo_alt: str = ""


def _clean(data: ProposalInput) -> ProposalInput:
    return ProposalInput(
        title=data.title.strip(),
        summary=data.summary.strip(),
        description=data.description.strip(),
        language=data.language,
        category_id=data.category_id,
        district_id=data.district_id,
        location=data.location.strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        beneficiaries=data.beneficiaries.strip(),
        estimated_cost_cents=data.estimated_cost_cents,
        partner=data.partner.strip(),
        show_author_name=data.show_author_name,
        photo_name=data.photo_name,
        photo_alt=data.photo_alt.strip() if data.photo_name else "",
    )


def _validate(cycle: Cycle, data: ProposalInput) -> None:
    errors: dict[str, list] = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).append(message)

    for name, message in (
        ("title", _l("Give the proposal a title.")),
        ("summary", _l("Write a short summary.")),
        ("description", _l("Describe the proposal.")),
    ):
        if not getattr(data, name):
            add(name, message)
    if data.language not in LANGUAGES:
        add("language", _l("Choose English or French."))
    if data.category_id is not None and data.category_id not in {c.id for c in cycle.categories}:
        add("category", _l("Choose one of this cycle's categories."))
    if data.district_id is None:
        if cycle.districts and not cycle.allow_citywide_proposals:
            add("district", _l("Choose the district the proposal is for."))
    elif data.district_id not in {d.id for d in cycle.districts}:
        add("district", _l("Choose one of this cycle's districts."))
    if (data.latitude is None) != (data.longitude is None):
        add("latitude", _l("Give both the latitude and the longitude, or neither."))
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        add("latitude", _l("A latitude is between -90 and 90."))
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        add("longitude", _l("A longitude is between -180 and 180."))
    if data.photo_name is not None and not data.photo_alt:
        add("photo_alt", _l("Describe the photo for people who cannot see it (alt text)."))
    cost = data.estimated_cost_cents
    if cost is not None and not 0 < cost <= MAX_COST_CENTS:
        add("estimated_cost", _l("Give a cost above zero, or leave it blank."))
    if errors:
        raise DomainError(errors=errors)


def _apply(proposal: Proposal, data: ProposalInput) -> None:
    for name in ProposalInput.__dataclass_fields__:
        setattr(proposal, name, getattr(data, name))
    refresh_search_text(proposal)


def refresh_search_text(proposal: Proposal) -> None:
    parts = [proposal.title, proposal.summary, proposal.description]
    for translation in proposal.translations:
        parts += [translation.title, translation.summary, translation.description]
    proposal.search_text = fold(" ".join(parts))


def _count_for_author(session: Session, cycle: Cycle, author: User) -> int:
    return session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.cycle_id == cycle.id,
            Proposal.author_id == author.id,
            Proposal.status != ProposalStatus.WITHDRAWN,
        )
    )


def _require_participant(user: User) -> None:
    check_can_take_part(user)


def record_step(
    session: Session,
    proposal: Proposal,
    actor: User | None,
    now: datetime,
    *,
    to_status: ProposalStatus,
    event: str = "status",
    public_reason: str = "",
) -> ProposalStatusChange:
    """Add one step to the proposal's public history (a status change, a hiding, a restoring...)."""
    from_status = proposal.status if proposal.id is not None else None
    step = ProposalStatusChange(
        proposal=proposal,
        from_status=from_status,
        to_status=to_status,
        event=event,
        actor_id=actor.id if actor else None,
        public_reason=public_reason,
        at=now,
    )
    session.add(step)
    return step


def create_proposal(
    session: Session, author: User, cycle: Cycle, data: ProposalInput, now: datetime, *, submit: bool
) -> Proposal:
    """A new proposal: a draft only its author sees, or submitted at once (``submit``)."""
    _require_participant(author)
    phases.require_submission_open(cycle, now)
    data = _clean(data)
    _validate(cycle, data)
    if _count_for_author(session, cycle, author) >= cycle.max_proposals_per_resident:
        raise DomainError(
            _l(
                "You have reached this cycle's limit of %(count)s proposals. Withdraw one to make room.",
                count=cycle.max_proposals_per_resident,
            )
        )
    proposal = Proposal(cycle=cycle, author=author, status=ProposalStatus.DRAFT, created_at=now, updated_at=now)
    _apply(proposal, data)
    session.add(proposal)
    session.flush()
    if submit:
        _submit(session, proposal, author, now)
    return proposal


def _submit(session: Session, proposal: Proposal, actor: User, now: datetime) -> None:
    record_step(session, proposal, actor, now, to_status=ProposalStatus.SUBMITTED)
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_at = now
    session.flush()
    deliberation.follow_proposal(session, actor, proposal, now)  # authors get mail about their proposals


def _require_editable(actor: User, proposal: Proposal, now: datetime, expected_version: int | None) -> None:
    _require_participant(actor)
    if not permissions.is_author(actor, proposal):
        raise DomainError(_l("Only the author can change this proposal."))
    phases.require_submission_open(proposal.cycle, now)
    if not permissions.can_edit_proposal(actor, proposal, now):
        raise DomainError(_l("This proposal can no longer be changed: it is being reviewed or has been decided."))
    if expected_version is not None and expected_version != proposal.version:
        raise DomainError(STALE)


def update_proposal(
    session: Session,
    actor: User,
    proposal: Proposal,
    data: ProposalInput,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> None:
    _require_editable(actor, proposal, now, expected_version)
    data = _clean(data)
    _validate(proposal.cycle, data)
    _apply(proposal, data)
    proposal.updated_at = now
    session.flush()


def submit_proposal(
    session: Session, actor: User, proposal: Proposal, now: datetime, *, expected_version: int | None = None
) -> None:
    _require_editable(actor, proposal, now, expected_version)
    if proposal.status is not ProposalStatus.DRAFT:
        raise DomainError(_l("This proposal has already been submitted."))
    _submit(session, proposal, actor, now)


def withdraw_proposal(session: Session, actor: User, proposal: Proposal, now: datetime) -> None:
    """The author takes the proposal back; it stays findable, marked as withdrawn."""
    _require_editable(actor, proposal, now, None)
    if proposal.status is ProposalStatus.DRAFT:
        session.delete(proposal)  # nobody else has seen a draft: nothing to keep
    else:
        record_step(session, proposal, actor, now, to_status=ProposalStatus.WITHDRAWN)
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.updated_at = now
    session.flush()


def change_status(
    session: Session,
    actor: User,
    proposal: Proposal,
    status: ProposalStatus,
    now: datetime,
    public_reason: str = "",
) -> None:
    """A reviewer's or moderator's status change: public history and the admin audit log."""
    if status is proposal.status:
        return
    before = {"status": proposal.status.value}
    record_step(session, proposal, actor, now, to_status=status, public_reason=public_reason.strip())
    proposal.status = status
    proposal.updated_at = now
    session.flush()
    record_change(
        session,
        actor,
        "proposal.status_changed",
        "proposal",
        proposal.id,
        before,
        {"status": status.value, "public_reason": public_reason.strip()},
        now=now,
    )


def add_translation(
    session: Session,
    actor: User,
    proposal: Proposal,
    title: str,
    summary: str,
    description: str,
    now: datetime,
) -> ProposalTranslation:
    """Staff write the proposal in the other official language; the page shows it as a translation."""
    if not permissions.can_translate_proposal(actor, proposal):
        raise DomainError(_l("Only staff can add a translation."))
    title, summary, description = title.strip(), summary.strip(), description.strip()
    if not (title and summary and description):
        raise DomainError(_l("A translation needs the title, the summary and the description."))
    language = "fr" if proposal.language == "en" else "en"
    translation = proposal.translation(language)
    before = None
    if translation is None:
        translation = ProposalTranslation(language=language)
        proposal.translations.append(translation)
    else:
        before = {"title": translation.title, "summary": translation.summary, "description": translation.description}
    translation.title, translation.summary, translation.description = title, summary, description
    translation.translated_by_id = actor.id
    translation.translated_at = now
    refresh_search_text(proposal)
    session.flush()
    record_change(
        session,
        actor,
        "proposal.translated",
        "proposal",
        proposal.id,
        before,
        {"language": language, "title": title, "summary": summary, "description": description},
        now=now,
    )
    return translation


# --- Reading --------------------------------------------------------------------------------------


def get_proposal(session: Session, cycle: Cycle, proposal_id: int) -> Proposal | None:
    """The proposal of this cycle with what its page shows, in two queries: the proposal with its
    translation (one at most) and the rows it names, then its history."""
    return (
        session.scalars(
            select(Proposal)
            .where(Proposal.cycle_id == cycle.id, Proposal.id == proposal_id)
            .options(
                joinedload(Proposal.author),
                joinedload(Proposal.category),
                joinedload(Proposal.district),
                joinedload(Proposal.merged_into),
                joinedload(Proposal.translations),
                selectinload(Proposal.history).joinedload(ProposalStatusChange.actor),
            )
        )
        .unique()
        .one_or_none()
    )


def proposal_with_photo(session: Session, photo_name: str) -> Proposal | None:
    """A proposal showing this photo (the same photo uploaded twice is one file), the public ones first."""
    return session.scalars(
        select(Proposal)
        .where(Proposal.photo_name == photo_name)
        .order_by((Proposal.status == ProposalStatus.DRAFT), Proposal.hidden_at.is_not(None), Proposal.id)
        .limit(1)
    ).first()


@dataclass(frozen=True)
class ProposalFilters:
    query: str = ""
    district: str = ""  # a district's slug, "citywide", or "" for all
    category: str = ""  # a category's slug, or ""
    status: str = ""  # a public status, or ""
    sort: str = DEFAULT_SORT
    mine: bool = False  # the viewer's own proposals, drafts included


@dataclass
class ProposalPage:
    keys: list[CardKey]
    total: int
    number: int
    per_page: int
    filters: ProposalFilters = field(default_factory=ProposalFilters)
    load: Callable[[list[int]], list[Proposal]] | None = field(default=None, repr=False)
    _items: list[Proposal] | None = field(default=None, repr=False)

    @property
    def items(self) -> list[Proposal]:
        """The page's proposals, in order: loaded on first use, in one query."""
        if self._items is None:
            self._items = self.load([key.id for key in self.keys]) if self.load and self.keys else []
        return self._items

    @items.setter
    def items(self, proposals: list[Proposal]) -> None:
        self._items = proposals

    def proposal(self, proposal_id: int) -> Proposal | None:
        """One of the page's proposals (None if it was deleted since the page's ids were read)."""
        return next((p for p in self.items if p.id == proposal_id), None)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _area_id(session: Session, cycle: Cycle, model: type[District] | type[Category], slug: str) -> int | str:
    """The id of the cycle's district or category ``slug`` (-1: none has it), or ``slug`` itself when it
    names none in particular ("" for all, and "citywide" for districts: a category may have that slug).
    From the cycle's own list when ``cycle`` is loaded, else one query (``cycle`` may be a glance)."""
    if slug == "" or (slug == CITYWIDE and model is District):
        return slug
    if isinstance(cycle, Cycle):
        areas = cycle.districts if model is District else cycle.categories
        return next((area.id for area in areas if area.slug == slug), -1)
    found = session.scalar(select(model.id).where(model.cycle_id == cycle.id, model.slug == slug))
    return -1 if found is None else found


def visitor_seed() -> int:
    """A fresh random seed for one visitor's shuffled order (kept in a cookie by the web layer)."""
    return random.SystemRandom().randrange(1, RANDOM_MODULUS)


def sort_of(filters: ProposalFilters) -> str:
    """The order the list is shown in (an unknown one is the default)."""
    return filters.sort if filters.sort in SORTS else DEFAULT_SORT


def list_proposals(
    session: Session,
    cycle: Cycle,
    viewer: User | None,
    filters: ProposalFilters,
    *,
    number: int,
    per_page: int,
    seed: int,
    index: ProposalIndex | None = None,
    stamp: int | None = None,
) -> ProposalPage | None:
    """One page of the cycle's proposals (None past the last page), filtered, ordered and cut in Python
    (:mod:`pb.services.proposal_index`): the public ones, or the viewer's own with their drafts
    (``filters.mine``). With ``index`` and the cycle's ``stamp`` (its ``proposal_stamp``, read before),
    the public proposals come from the process's snapshot, read again only when the stamp has moved;
    otherwise they are read now. ``cycle`` may be a glance (``CycleGlance``): its id and version are
    all this reads. The page's proposals themselves are loaded only when
    ``items`` is first read (a card to render), in one query by primary key.
    """
    if filters.mine and viewer is not None and getattr(viewer, "is_authenticated", False):
        listing = own_listing(session, cycle.id, viewer.id)
    elif index is not None and stamp is not None:
        listing = index.listing(session, cycle.id, cycle.version, stamp)
    else:
        listing = public_listing(session, cycle.id)
    selection = Selection(
        filters.query,
        _area_id(session, cycle, District, filters.district),
        _area_id(session, cycle, Category, filters.category),
        filters.status,
        sort_of(filters),
    )
    keys, total = listing.page(session, selection, number=number, per_page=per_page, seed=seed)
    if not keys:  # an empty list, or past its end
        return ProposalPage([], total, number, per_page, filters) if number == 1 else None

    def load(ids: list[int]) -> list[Proposal]:
        # The long texts a card does not show stay in the database. A card names its district and
        # category: the cycle's (the page puts them in the session before it renders a card), so the
        # many-to-one attributes resolve without a query or a join.
        loaded = {
            proposal.id: proposal
            for proposal in session.scalars(
                select(Proposal)
                .where(Proposal.id.in_(ids))
                .options(defer(Proposal.description), defer(Proposal.search_text))
            )
        }
        return [loaded[i] for i in ids if i in loaded]  # a row deleted in between is left out

    return ProposalPage(keys, total, number, per_page, filters, load)


def status_choices() -> tuple[str, ...]:
    return (*(s.value for s in PUBLIC_STATUSES), "hidden")

