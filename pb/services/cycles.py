"""The rules for budget cycles: creating and editing them, their phases, and closing a phase early.

Every function takes the session, the acting user and ``now`` explicitly; it flushes and never
commits (the view or the command commits). A broken rule raises :class:`DomainError`, whose
``errors`` are keyed by field name so that a view can show each message next to its field.

Once voting has opened (:meth:`Cycle.voting_has_opened`), the ballot settings, the counting rule,
the tie-break, the start of voting and the budget are frozen: an edit that would change any of
them is refused as a whole and changes nothing (:class:`FrozenSettingsError`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy import ScalarSelect, Select, bindparam, func, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload, load_only, selectinload
from sqlalchemy.orm.exc import StaleDataError

from pb.ballot import FIELDS as BALLOT_FIELDS
from pb.ballot import LIMIT_FIELDS, BallotConfig
from pb.labels import BALLOT_TYPE_NAMES, PHASE_NAMES, rule_title
from pb.models import BallotType, Category, Cycle, District, Phase, PhaseClosure, ProposalActivity, User
from pb.models.cycle import PhaseDates, localized
from pb.services.audit import record_change
from pb.services.errors import FORM, DomainError
from pb.services.projects import cycle_references
from pb.services.results import RULE_CHOICES, TIE_BREAKS
from pb.services.transitions import advance
from pb.values import MAX_CENTS, is_valid_timezone, iso_utc, slugify, to_minute

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

STALE_EDIT = _l(
    "Someone changed this cycle since you opened it, so nothing was saved. Reload the page to see their change."
)


class FrozenSettingsError(DomainError):
    """An edit would change a setting that is frozen because voting has opened."""


# ---------------------------------------------------------------------------------------------
# The settings of a cycle, as a form or a command gives them.


@dataclass
class DistrictInput:
    name_en: str
    name_fr: str
    budget_cents: int | None = None
    id: int | None = None  # an existing district of the cycle being edited
    key: str = ""  # the form field prefix for error messages, e.g. "districts-2"


@dataclass
class CategoryInput:
    name_en: str
    name_fr: str
    id: int | None = None
    key: str = ""


PHASE_FIELDS: tuple[tuple[Phase, str, str | None], ...] = (
    (Phase.PROPOSALS, "proposals_start_at", "proposals_end_at"),
    (Phase.REVIEW, "review_start_at", "review_end_at"),
    (Phase.VOTING, "voting_start_at", "voting_end_at"),
    (Phase.RESULTS, "results_start_at", None),
)
# The same dates, one name each, in the order they happen.
PHASE_DATE_FIELDS: tuple[str, ...] = tuple(
    name for _phase, start, end in PHASE_FIELDS for name in (start, end) if name is not None
)


# The settings of how residents propose and deliberate; they never freeze.
PROPOSAL_SETTINGS = ("max_proposals_per_resident", "allow_citywide_proposals", "deliberation_during_proposals")
# Who may vote and how the ballot lists its projects; frozen with the ballot once voting opens.
VOTING_SETTINGS = ("vote_with_codes", "vote_with_accounts", "min_voting_age", "noncitizens_may_vote", "fixed_project_order")
MAX_VOTING_AGE = 25
MAX_PROPOSALS_PER_RESIDENT = 100


@dataclass
class CycleSettings:
    slug: str
    name_en: str
    name_fr: str
    proposals_start_at: datetime
    proposals_end_at: datetime
    review_start_at: datetime
    review_end_at: datetime
    voting_start_at: datetime
    voting_end_at: datetime
    results_start_at: datetime
    description_en: str = ""
    description_fr: str = ""
    currency: str = "CAD"
    timezone: str = "America/Toronto"
    budget_cents: int | None = None  # None: a budget per district
    districts: list[DistrictInput] = field(default_factory=list)
    categories: list[CategoryInput] = field(default_factory=list)
    ballot: BallotConfig = field(default_factory=BallotConfig)
    # Proposals and deliberation (see PROPOSAL_SETTINGS).
    max_proposals_per_resident: int = 5
    allow_citywide_proposals: bool = True
    deliberation_during_proposals: bool = False
    # Voting (see VOTING_SETTINGS).
    vote_with_codes: bool = True
    vote_with_accounts: bool = True
    min_voting_age: int | None = None
    noncitizens_may_vote: bool = True
    fixed_project_order: bool = False

    @classmethod
    def from_cycle(cls, cycle: Cycle) -> CycleSettings:
        """The settings a cycle has now (e.g. to change one of them)."""
        simple = {
            f.name: getattr(cycle, f.name)
            for f in fields(cls)
            if f.name not in {"districts", "categories", "ballot"}
        }
        return cls(
            **simple,
            ballot=cycle.ballot_config(),
            districts=[DistrictInput(d.name_en, d.name_fr, d.budget_cents, d.id) for d in cycle.districts],
            categories=[CategoryInput(c.name_en, c.name_fr, c.id) for c in cycle.categories],
        )

    def with_changes(self, **changes: Any) -> CycleSettings:
        """These settings with ``changes``, which may name the ballot's fields too (``max_projects=3``)."""
        ballot = {name: changes.pop(name) for name in BALLOT_FIELDS if name in changes}
        if ballot:
            changes["ballot"] = self.ballot.with_changes(**ballot)
        return replace(self, **changes)


def _normalized(settings: CycleSettings) -> CycleSettings:
    """Trimmed text, minute-precision UTC dates, and the limits the ballot type does not use cleared."""
    changes: dict[str, Any] = {
        "slug": settings.slug.strip().lower(),
        "name_en": settings.name_en.strip(),
        "name_fr": settings.name_fr.strip(),
        "description_en": settings.description_en.replace("\r\n", "\n").strip(),
        "description_fr": settings.description_fr.replace("\r\n", "\n").strip(),
        "currency": settings.currency.strip().upper(),
        "timezone": settings.timezone.strip(),
        "ballot": settings.ballot.normalized(),
        "districts": [
            replace(d, name_en=d.name_en.strip(), name_fr=d.name_fr.strip()) for d in settings.districts
        ],
        "categories": [
            replace(c, name_en=c.name_en.strip(), name_fr=c.name_fr.strip()) for c in settings.categories
        ],
    }
    for name in PHASE_DATE_FIELDS:
        changes[name] = to_minute(getattr(settings, name))
    if settings.budget_cents is not None:
        changes["districts"] = [replace(d, budget_cents=None) for d in changes["districts"]]
    return replace(settings, **changes)


def validate_settings(
    session: Session, settings: CycleSettings, cycle: Cycle | None = None
) -> dict[str, list]:
    """Every problem with ``settings`` (already normalized), keyed by field name; empty when fine."""
    errors: dict[str, list] = {}

    def add(name: str, message) -> None:
        errors.setdefault(name, []).append(message)

    # Names and addresses.
    if not SLUG_PATTERN.match(settings.slug) or len(settings.slug) > 80:
        add("slug", _l("Use lower-case letters, digits and hyphens only, e.g. lakeview-2026."))
    else:
        clash = session.scalar(select(Cycle.id).where(Cycle.slug == settings.slug))
        if clash is not None and (cycle is None or clash != cycle.id):
            add("slug", _l("Another cycle already uses this address."))
    for name in ("name_en", "name_fr"):
        if not getattr(settings, name):
            add(name, _l("Give the name in both languages."))
        elif len(getattr(settings, name)) > 200:
            add(name, _l("Use at most %(count)d characters.", count=200))
    if settings.currency not in list_currencies():
        add("currency", _l("Give a three-letter currency code, e.g. CAD."))
    if not is_valid_timezone(settings.timezone):
        add("timezone", _l("Give a time zone name from the IANA database, e.g. America/Toronto."))

    if not 1 <= settings.max_proposals_per_resident <= MAX_PROPOSALS_PER_RESIDENT:
        add(
            "max_proposals_per_resident",
            _l("Allow each resident from 1 to %(most)d proposals.", most=MAX_PROPOSALS_PER_RESIDENT),
        )

    if not (settings.vote_with_codes or settings.vote_with_accounts):
        add("vote_with_codes", _l("Let residents vote with voter codes, with confirmed accounts, or both."))
    if settings.min_voting_age is not None and not 0 <= settings.min_voting_age <= MAX_VOTING_AGE:
        add("min_voting_age", _l("Give a minimum age from 0 to %(most)d, or leave it blank.", most=MAX_VOTING_AGE))

    # Budget.
    if settings.budget_cents is not None:
        if settings.budget_cents <= 0:
            add("budget", _l("The budget must be more than zero."))
        elif settings.budget_cents > MAX_CENTS:
            add("budget", _l("The budget is too large for this system."))
    elif not settings.districts:
        add("budget_mode", _l("Add at least one district to give each district its budget."))

    for index, district in enumerate(settings.districts):
        key = district.key or f"districts-{index}"
        if not district.name_en:
            add(f"{key}-name_en", _l("Give the name in both languages."))
        if not district.name_fr:
            add(f"{key}-name_fr", _l("Give the name in both languages."))
        if settings.budget_cents is None:
            if district.budget_cents is None:
                add(f"{key}-budget", _l("Give this district's budget."))
            elif district.budget_cents <= 0:
                add(f"{key}-budget", _l("The budget must be more than zero."))
            elif district.budget_cents > MAX_CENTS:
                add(f"{key}-budget", _l("The budget is too large for this system."))
    if settings.budget_cents is None and sum(d.budget_cents or 0 for d in settings.districts) > MAX_CENTS:
        add("budget_mode", _l("The budget is too large for this system."))
    _check_duplicates(settings.districts, "districts", add)

    for index, category in enumerate(settings.categories):
        key = category.key or f"categories-{index}"
        if not category.name_en:
            add(f"{key}-name_en", _l("Give the name in both languages."))
        if not category.name_fr:
            add(f"{key}-name_fr", _l("Give the name in both languages."))
    _check_duplicates(settings.categories, "categories", add)

    _validate_phases(settings, add)
    _validate_ballot(settings.ballot, add)
    _validate_rule(settings.ballot, add)
    return errors


def _check_duplicates(rows, prefix: str, add) -> None:
    seen: set[str] = set()
    for index, row in enumerate(rows):
        name = row.name_en.casefold()
        if name and name in seen:
            add(f"{row.key or f'{prefix}-{index}'}-name_en", _l("This name is used twice."))
        seen.add(name)


def _validate_phases(settings: CycleSettings, add) -> None:
    previous_end: tuple[Phase, datetime] | None = None
    for phase, start_name, end_name in PHASE_FIELDS:
        start = getattr(settings, start_name)
        if previous_end is not None and start < previous_end[1]:
            add(
                start_name,
                _l(
                    "“%(phase)s” must start when “%(previous)s” ends, or later.",
                    phase=PHASE_NAMES[phase],
                    previous=PHASE_NAMES[previous_end[0]],
                ),
            )
        if end_name is None:
            continue
        end = getattr(settings, end_name)
        if end <= start:
            add(end_name, _l("“%(phase)s” must end after it starts.", phase=PHASE_NAMES[phase]))
        previous_end = (phase, max(start, end))


def _validate_ballot(ballot: BallotConfig, add) -> None:
    try:
        ballot_type = BallotType(ballot.ballot_type)
    except ValueError:
        add("ballot_type", _l("Choose a ballot type."))
        return
    for name in LIMIT_FIELDS:
        value = getattr(ballot, name)
        minimum = 0 if name in {"min_projects", "min_budget_share_percent"} else 1
        if value is not None and value < minimum:
            add(name, _l("Give a number of at least %(minimum)d.", minimum=minimum))
    low, high = ballot.min_projects, ballot.max_projects
    if ballot_type is BallotType.K_APPROVAL and high is None:
        add("max_projects", _l("A k-approval ballot needs the number of projects a voter may choose."))
    if low is not None and high is not None and low > high:
        add("min_projects", _l("The minimum cannot be more than the maximum."))
    if ballot_type is BallotType.KNAPSACK:
        share = ballot.min_budget_share_percent
        if share is not None and share > 100:
            add("min_budget_share_percent", _l("Give a percentage between 0 and 100."))
    if ballot_type is BallotType.RANKED:
        if ballot.ranking_length is None:
            add("ranking_length", _l("A ranked ballot needs the number of projects a voter may rank."))
        elif low is not None and low > ballot.ranking_length:
            add(
                "min_projects", _l("The minimum cannot be more than the number of projects a voter may rank.")
            )
    if ballot_type is BallotType.CUMULATIVE:
        if ballot.points_per_voter is None:
            add("points_per_voter", _l("A cumulative ballot needs the number of points each voter spreads."))
        elif (
            ballot.max_points_per_project is not None
            and ballot.max_points_per_project > ballot.points_per_voter
        ):
            add("max_points_per_project", _l("A project cannot take more points than a voter has."))


def _validate_rule(ballot: BallotConfig, add) -> None:
    rule = RULE_CHOICES.get(ballot.tally_rule)
    if rule is None:
        add("tally_rule", _l("Choose a counting rule."))
        return
    title = rule_title(rule.name)
    try:
        ballot_type = BallotType(ballot.ballot_type)
    except ValueError:
        ballot_type = None
    if ballot_type is not None and not rule.counts(ballot_type):
        add(
            "tally_rule",
            _l(
                "The rule “%(rule)s” does not count %(ballot)s ballots; choose another rule or ballot type.",
                rule=title,
                ballot=BALLOT_TYPE_NAMES[ballot_type],
            ),
        )
    if ballot.tally_utility not in rule.utilities:
        add(
            "tally_utility",
            _l("The rule “%(rule)s” does not use this measure of satisfaction.", rule=title),
        )
    if ballot.tally_completion not in rule.completions:
        add("tally_completion", _l("The rule “%(rule)s” does not take this completion.", rule=title))
    if ballot.tie_break not in TIE_BREAKS:
        add("tie_break", _l("Choose how ties are broken."))


# ---------------------------------------------------------------------------------------------
# Snapshots for the audit log.


def snapshot(cycle: Cycle) -> dict[str, Any]:
    """The cycle's settings as a JSON-able dict (what the audit log records)."""
    data: dict[str, Any] = {
        "slug": cycle.slug,
        "name_en": cycle.name_en,
        "name_fr": cycle.name_fr,
        "description_en": cycle.description_en,
        "description_fr": cycle.description_fr,
        "currency": cycle.currency,
        "timezone": cycle.timezone,
        "budget_cents": cycle.budget_cents,
        "districts": [
            {"slug": d.slug, "name_en": d.name_en, "name_fr": d.name_fr, "budget_cents": d.budget_cents}
            for d in cycle.districts
        ],
        "categories": [
            {"slug": c.slug, "name_en": c.name_en, "name_fr": c.name_fr} for c in cycle.categories
        ],
    }
    for name in PHASE_DATE_FIELDS:
        data[name] = iso_utc(getattr(cycle, name))
    data.update(cycle.ballot_config().to_dict())
    data.update((name, getattr(cycle, name)) for name in PROPOSAL_SETTINGS)
    data.update((name, getattr(cycle, name)) for name in VOTING_SETTINGS)
    return data


# What voting freezes besides the ballot configuration (and the districts' budgets).
FROZEN_KEYS = (*BALLOT_FIELDS, *VOTING_SETTINGS, "voting_start_at", "budget_cents", "currency")

# Which form field shows the refusal for each frozen key.
_FROZEN_FIELD = {"budget_cents": "budget", "districts": "budget_mode"}


def _frozen_part(data: dict[str, Any]) -> dict[str, Any]:
    part = {key: data[key] for key in FROZEN_KEYS}
    # The districts (and their budgets) decide who votes on what: their names may still change.
    part["districts"] = [(d["slug"], d["budget_cents"]) for d in data["districts"]]
    return part


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


# ---------------------------------------------------------------------------------------------
# Creating and editing.


def _apply(cycle: Cycle, settings: CycleSettings, taken_slugs: set[str]) -> None:
    for name in (
        "slug",
        "name_en",
        "name_fr",
        "description_en",
        "description_fr",
        "currency",
        "timezone",
        "budget_cents",
        *PHASE_DATE_FIELDS,
        *PROPOSAL_SETTINGS,
        *VOTING_SETTINGS,
    ):
        setattr(cycle, name, getattr(settings, name))
    settings.ballot.apply_to(cycle)

    existing_districts = {d.id: d for d in cycle.districts}
    districts: list[District] = []
    for position, row in enumerate(settings.districts):
        district = existing_districts.get(row.id) if row.id is not None else None
        if district is None:
            district = District(slug=_unique_slug(row.name_en, taken_slugs))
        district.name_en, district.name_fr = row.name_en, row.name_fr
        district.budget_cents = row.budget_cents if settings.budget_cents is None else None
        district.position = position
        districts.append(district)
    cycle.districts = districts

    existing_categories = {c.id: c for c in cycle.categories}
    categories: list[Category] = []
    category_slugs = {c.slug for c in cycle.categories}
    for position, row in enumerate(settings.categories):
        category = existing_categories.get(row.id) if row.id is not None else None
        if category is None:
            category = Category(slug=_unique_slug(row.name_en, category_slugs))
        category.name_en, category.name_fr = row.name_en, row.name_fr
        category.position = position
        categories.append(category)
    cycle.categories = categories


def _unique_slug(name: str, taken: set[str]) -> str:
    """A slug not used before in this cycle (not even by a row being removed in the same save)."""
    base = slugify(name)
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def draw_tie_break_seed() -> int:
    return secrets.randbelow(2**31)


def create_cycle(
    session: Session, actor: User | None, settings: CycleSettings, now: datetime, seed: int | None = None
) -> Cycle:
    """Create a cycle; its tie-break seed is drawn at random unless given. Recorded in the audit log."""
    settings = _normalized(settings.with_changes(tie_break_seed=draw_tie_break_seed() if seed is None else seed))
    errors = validate_settings(session, settings)
    if errors:
        raise DomainError(errors=errors)
    cycle = Cycle(created_at=now, updated_at=now)
    _apply(cycle, settings, set())
    session.add(cycle)
    session.flush()
    record_change(session, actor, "cycle.create", "cycle", cycle.id, {}, snapshot(cycle))
    advance(session, cycle, now)  # a cycle made with phases already begun records them now
    return cycle


def _removed_in_use(session: Session, cycle: Cycle, settings: CycleSettings) -> dict[str, list]:
    """Districts and categories the settings drop although a proposal or ballot project uses them."""
    kept_districts = {row.id for row in settings.districts}
    kept_categories = {row.id for row in settings.categories}
    dropped_districts = [d for d in cycle.districts if d.id not in kept_districts]
    dropped_categories = [c for c in cycle.categories if c.id not in kept_categories]
    if not dropped_districts and not dropped_categories:
        return {}
    used_districts, used_categories = cycle_references(session, cycle)
    messages = [
        _l("The district “%(name)s” has proposals or ballot projects, so it cannot be removed.", name=d.name_en)
        for d in dropped_districts
        if d.id in used_districts
    ] + [
        _l("The category “%(name)s” has proposals or ballot projects, so it cannot be removed.", name=c.name_en)
        for c in dropped_categories
        if c.id in used_categories
    ]
    return {FORM: messages} if messages else {}


def update_cycle(
    session: Session,
    actor: User | None,
    cycle: Cycle,
    settings: CycleSettings,
    now: datetime,
    expected_version: int | None = None,
) -> bool:
    """Change a cycle's settings; returns whether anything changed. Recorded in the audit log.

    Once voting has opened, an edit that would change a frozen setting is refused as a whole:
    nothing is changed and nothing is recorded. ``expected_version`` is the cycle's version the
    editor started from: if someone saved a change since, nothing is changed (so the audit log's
    "before" is always the state the change replaced).
    """
    if expected_version is not None and expected_version != cycle.version:
        raise DomainError(STALE_EDIT)
    # The tie-break seed was drawn when the cycle was created; no edit changes it.
    settings = _normalized(settings.with_changes(tie_break_seed=cycle.tie_break_seed))
    errors = validate_settings(session, settings, cycle)
    errors.update(_removed_in_use(session, cycle, settings))
    if errors:
        raise DomainError(errors=errors)
    before = snapshot(cycle)
    if cycle.voting_has_opened(now):
        proposed = _proposed_frozen_part(cycle, settings)
        current = _frozen_part(before)
        refused = [key for key in current if current[key] != proposed[key]]
        if refused:
            message = (
                _l(
                    "Voting is over, so the ballot settings, the counting rule, the start of voting, the "
                    "budget and its currency can no longer change. Nothing was saved."
                )
                if cycle.voting_is_over(now)
                else _l(
                    "Voting has opened, so the ballot settings, the counting rule, the start of voting, the "
                    "budget and its currency can no longer change. Nothing was saved."
                )
            )
            raise FrozenSettingsError(errors={_FROZEN_FIELD.get(key, key): [message] for key in refused})
    past = _changed_past_dates(cycle, settings, now)
    if past:
        raise DomainError(errors=past)
    with session.no_autoflush:
        _apply(cycle, settings, {d.slug for d in cycle.districts})
    after = snapshot(cycle)
    old, new = changed(before, after)
    if not new:
        return False
    cycle.updated_at = now
    try:
        session.flush()  # UPDATE ... WHERE version = the one read: 0 rows if another edit landed first
    except StaleDataError as error:
        raise DomainError(STALE_EDIT) from error
    record_change(session, actor, "cycle.update", "cycle", cycle.id, old, new)
    return True


def _changed_past_dates(cycle: Cycle, settings: CycleSettings, now: datetime) -> dict[str, list]:
    """Dates already passed are history, and a date cannot be moved into the past.

    Otherwise an edit could reopen voting after the results, or end a phase without the record
    that closing it early leaves.
    """
    message = _l(
        "This date has passed or would be in the past, so it cannot change. To end a phase now, close it early."
    )
    errors: dict[str, list] = {}
    for name in PHASE_DATE_FIELDS:
        old, new = getattr(cycle, name), getattr(settings, name)
        if old != new and (old <= now or new <= now):
            errors[name] = [message]
    return errors


def _proposed_frozen_part(cycle: Cycle, settings: CycleSettings) -> dict[str, Any]:
    by_id = {d.id: d.slug for d in cycle.districts}
    data: dict[str, Any] = settings.ballot.to_dict()
    data["voting_start_at"] = iso_utc(settings.voting_start_at)
    data["budget_cents"] = settings.budget_cents
    data["currency"] = settings.currency
    data.update((name, getattr(settings, name)) for name in VOTING_SETTINGS)
    data["districts"] = [
        (by_id.get(d.id) if d.id is not None else None, d.budget_cents) for d in settings.districts
    ]
    return data


# ---------------------------------------------------------------------------------------------
# Phases.


def close_phase(
    session: Session,
    actor: User | None,
    cycle: Cycle,
    reason: str,
    now: datetime,
    expected: Phase | str | None = None,
) -> PhaseClosure:
    """Close the phase open at ``now`` before its scheduled end (recorded, with the reason).

    ``expected`` is the phase the person closing saw; if another one has opened since, closing
    cannot be undone, so nothing is closed.
    """
    reason = reason.strip()
    if not reason:
        raise DomainError(_l("Give the reason for closing the phase early."), field="reason")
    phase = cycle.phase_state(now).current
    if expected is not None and phase != expected:
        raise DomainError(_l("The phase has changed since this page was opened, so nothing was closed."))
    if phase is None:
        raise DomainError(_l("No phase is open now, so there is nothing to close."))
    if phase is Phase.RESULTS:
        raise DomainError(_l("The results phase has no end, so it cannot be closed."))
    window = next(w for w in cycle.timeline() if w.phase is phase)
    closure = PhaseClosure(
        phase=phase, closed_at=now, closed_by_id=actor.id if actor else None, reason=reason
    )
    cycle.closures.append(closure)
    session.flush()
    record_change(
        session,
        actor,
        "cycle.close_phase",
        "cycle",
        cycle.id,
        {"phase": phase.value, "ends_at": iso_utc(window.ends_at)},
        {"phase": phase.value, "closed_at": iso_utc(now), "reason": reason},
    )
    return closure


# What pages show of a cycle, loaded with it in the same query (never one query per cycle): its
# closures (its timeline and where it stands; at most one a phase) and its districts (a cycle's budget
# can be theirs). Both are short, so joining them costs fewer rows than a round trip each would.
_LISTED = (joinedload(Cycle.closures), joinedload(Cycle.districts))


# The statements below are built once (``now``, the slug and the page are bound parameters): on a
# page that shows one or two cycles, building the query cost more than running it.


@cache
def _cycle_by_slug(categories: bool, districts: bool) -> Select:
    if not districts:
        options: tuple = (joinedload(Cycle.closures),)
    else:
        options = (*_LISTED, selectinload(Cycle.categories)) if categories else _LISTED
    return select(Cycle).where(Cycle.slug == bindparam("slug")).options(*options)


def get_cycle(session: Session, slug: str, *, categories: bool = True, districts: bool = True) -> Cycle | None:
    """The cycle with its districts and closures, and its categories unless the page shows none of them
    (a second query). ``districts=False``: its closures only (which phase runs), for a page kept as a
    fragment that reads districts and categories only when it is rendered again. Whatever is left out
    is loaded on first use."""
    return session.scalars(_cycle_by_slug(categories, districts), {"slug": slug}).unique().one_or_none()


_PHASE_DATES = (
    Cycle.proposals_start_at, Cycle.proposals_end_at, Cycle.review_start_at, Cycle.review_end_at,
    Cycle.voting_start_at, Cycle.voting_end_at, Cycle.results_start_at,
)


class ClosureGlance(NamedTuple):
    phase: Phase
    closed_at: datetime


@dataclass(frozen=True)
class CycleGlance(PhaseDates):
    """The few columns of a cycle that say which of its pages is shown: enough to key a kept cycle page,
    and to tell whether a phase transition is due, without loading the cycle (one Core query)."""

    id: int
    slug: str
    name_en: str
    name_fr: str
    version: int
    entered_phase: Phase | None
    proposals_start_at: datetime
    proposals_end_at: datetime
    review_start_at: datetime
    review_end_at: datetime
    voting_start_at: datetime
    voting_end_at: datetime
    results_start_at: datetime
    proposal_stamp: int  # moves with anything the cycle's proposal pages show (``ProposalActivity``)
    closures: tuple[ClosureGlance, ...]

    def name(self, locale: str) -> str:
        return localized(self.name_en, self.name_fr, locale)


_GLANCE_COLUMNS = (
    Cycle.id, Cycle.slug, Cycle.name_en, Cycle.name_fr, Cycle.version, Cycle.entered_phase, *_PHASE_DATES,
    func.coalesce(ProposalActivity.stamp, 0),
)


@cache
def _glances(one: bool) -> Select:
    query = (
        select(*_GLANCE_COLUMNS, PhaseClosure.phase, PhaseClosure.closed_at)
        .outerjoin(ProposalActivity, ProposalActivity.cycle_id == Cycle.id)
        .outerjoin(PhaseClosure, PhaseClosure.cycle_id == Cycle.id)
    )
    if one:
        return query.where(Cycle.slug == bindparam("slug")).order_by(PhaseClosure.closed_at)
    return query.order_by(Cycle.proposals_start_at.desc(), Cycle.id.desc(), PhaseClosure.closed_at)


def _read_glances(rows) -> list[CycleGlance]:
    width = len(_GLANCE_COLUMNS)
    found: dict[int, tuple] = {}  # cycle id -> (its columns, its closures), in the rows' order
    for row in rows:
        columns, closures = found.setdefault(row[0], (row[:width], []))
        if row[width] is not None:
            closures.append(ClosureGlance(row[width], row[width + 1]))
    return [CycleGlance(*columns, closures=tuple(closures)) for columns, closures in found.values()]


def cycle_glance(session: Session, slug: str) -> CycleGlance | None:
    """The cycle ``slug`` at a glance (None: no such cycle)."""
    glances = _read_glances(session.connection().execute(_glances(True), {"slug": slug}))
    return glances[0] if glances else None


def cycle_glances(session: Session) -> list[CycleGlance]:
    """Every cycle at a glance, the latest first (as :func:`list_cycles` orders them)."""
    return _read_glances(session.connection().execute(_glances(False)))


def list_cycles(session: Session) -> list[Cycle]:
    query = select(Cycle).options(*_LISTED).order_by(Cycle.proposals_start_at.desc(), Cycle.id.desc())
    return list(session.scalars(query).unique())


@dataclass(frozen=True)
class CyclePage:
    """One page of a list of cycles: ``number`` counts from 1, ``pages`` is at least 1.

    ``running`` and ``past`` count all the cycles of each list (running or to come; finished).
    """

    cycles: list[Cycle]
    number: int
    pages: int
    running: int
    past: int


@cache
def _list_counts() -> tuple[ScalarSelect, ScalarSelect]:
    """How many cycles are running or to come, and how many have finished, at ``:now``."""
    other = aliased(Cycle)
    now = bindparam("now")
    return (
        select(func.count()).select_from(other).where(other.results_start_at > now).scalar_subquery(),
        select(func.count()).select_from(other).where(other.results_start_at <= now).scalar_subquery(),
    )


# What a cycle card shows and is keyed on: loading only these (a third of a cycle's columns) halves the
# cost of turning the rows into objects; anything else a card needed would be loaded on first use.
_CARD_COLUMNS = (
    Cycle.slug, Cycle.name_en, Cycle.name_fr, Cycle.currency, Cycle.timezone, Cycle.budget_cents, Cycle.version,
    *_PHASE_DATES,
)


@cache
def _list_page(past: bool) -> Select:
    finished = Cycle.results_start_at <= bindparam("now")
    order = (
        (Cycle.results_start_at.desc(), Cycle.id.desc()) if past else (Cycle.proposals_start_at, Cycle.id)
    )
    return (
        select(Cycle, *_list_counts())
        .where(finished if past else ~finished)
        .options(joinedload(Cycle.closures), load_only(*_CARD_COLUMNS))  # a card shows the phase, not the districts
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@cache
def _signature() -> Select:
    return select(
        func.count(Cycle.id),
        func.coalesce(func.sum(Cycle.version), 0),
        func.max(Cycle.id),
        func.max(Cycle.updated_at),
        select(func.count(PhaseClosure.id)).scalar_subquery(),
        select(func.max(PhaseClosure.id)).scalar_subquery(),
    )


def cycles_signature(session: Session) -> tuple:
    """A value that changes whenever a cycle is created, edited (its version), deleted, or closes a phase
    early: the lists of cycles are kept under it. One narrow query over the cycles and their closures."""
    return tuple(session.connection().execute(_signature()).one())  # Core: no ORM layer for one row of numbers


@cache
def _next_phase_change() -> Select:
    moments = union_all(*(select(column.label("at")) for column in _PHASE_DATES)).subquery()
    return select(func.min(moments.c.at)).where(moments.c.at > bindparam("now", type_=Cycle.voting_start_at.type))


def next_phase_change(session: Session, now: datetime) -> datetime | None:
    """The next moment after ``now`` at which any cycle's phase starts or ends (None: none is to come):
    what a list of cycles shows stays the same until then, unless a cycle changes."""
    return session.scalar(_next_phase_change(), {"now": now})


def list_cycles_page(
    session: Session, now: datetime, *, past: bool, number: int = 1, per_page: int = 20
) -> CyclePage | None:
    """Cycles running or to come (``past=False``, the earliest first), or those whose results phase
    has begun (``past=True``, the latest first); ``None`` when page ``number`` does not exist.

    One query, whatever the number of cycles: the page, with both lists' counts on each row (and
    a second query for the counts when the page is empty).
    """
    parameters = {"now": now, "limit": per_page, "offset": (number - 1) * per_page}
    rows = session.execute(_list_page(past), parameters).unique().all()
    running, done = rows[0][1:] if rows else session.execute(select(*_list_counts()), parameters).one()
    pages = max(1, -(-(done if past else running) // per_page))
    if not 1 <= number <= pages:
        return None
    return CyclePage([row[0] for row in rows], number, pages, running, done)
