"""The audit log as people read it: field labels, and values in the reader's language.

Entries store machine values (amounts in cents, UTC dates in ISO 8601, settings by their internal
names, role names); the staff page shows each change as a label and readable before/after values:
money in the cycle's currency, dates in the cycle's time zone, both in the reader's locale. The CSV
export keeps the stored values. Formatting happens in the request, in its language.

Display labels of cycle settings that live in the staff forms (a blueprint, which this module may
not import) are written here with the same wording, so both read and translate alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.lists import format_list
from babel.numbers import format_percent
from flask_babel import lazy_gettext as _l

from pb.i18n import current_locale, local_datetime, money
from pb.labels import (
    ACTION_LABELS,
    BALLOT_TYPE_NAMES,
    COMPLETION_LABELS,
    PHASE_NAMES,
    RULE_TITLES,
    TIE_BREAK_LABELS,
    UTILITY_LABELS,
    datetime_pattern,
)
from pb.models import Role
from pb.services.accounts import ROLE_LABELS, ROLE_ORDER

SUBJECT_LABELS = {
    "cycle": _l("Cycle"),
    "user": _l("Account"),
    "audit_log": _l("Audit log"),
    "proposal": _l("Proposal"),
    "comment": _l("Comment"),
    "review": _l("Review"),
    "project": _l("Ballot project"),
    "voter_code_batch": _l("Batch of voter codes"),
    "voter": _l("Voter"),
}

# In the order the cycle form shows them; keys not listed come after, by name.
FIELD_LABELS = {
    "name_en": _l("Name in English"),
    "name_fr": _l("Name in French"),
    "slug": _l("Web address name"),
    "description_en": _l("Description in English"),
    "description_fr": _l("Description in French"),
    "currency": _l("Currency"),
    "timezone": _l("Time zone"),
    "budget_cents": _l("Budget"),
    "districts": _l("Districts"),
    "categories": _l("Categories"),
    "proposals_start_at": _l("Proposal submission opens"),
    "proposals_end_at": _l("Proposal submission closes"),
    "review_start_at": _l("Deliberation and review opens"),
    "review_end_at": _l("Deliberation and review closes"),
    "voting_start_at": _l("Voting opens"),
    "voting_end_at": _l("Voting closes"),
    "results_start_at": _l("Results are published"),
    "ballot_type": _l("Ballot type"),
    "min_projects": _l("Least number of projects a voter must choose"),
    "max_projects": _l("Most projects a voter may choose"),
    "min_budget_share_percent": _l("Least share of the budget a ballot must fill"),
    "ranking_length": _l("Number of projects a voter may rank"),
    "points_per_voter": _l("Points each voter spreads"),
    "max_points_per_project": _l("Most points a voter may give one project"),
    "allow_revision": _l("Voters may change their ballot until voting closes"),
    "tally_rule": _l("Counting rule"),
    "tally_utility": _l("Measure of voter satisfaction"),
    "tally_completion": _l("Completion (spending what the rule leaves)"),
    "tie_break": _l("Tie-break"),
    "tie_break_seed": _l("Public number for drawing lots"),
    # Closing a phase early.
    "phase": _l("Phase"),
    "ends_at": _l("Scheduled end"),
    "closed_at": _l("Closed at"),
    "reason": _l("Reason"),
    # Accounts.
    "roles": _l("Roles"),
    "active": _l("Can sign in"),
    # Re-signing the log.
    "count": _l("Entries"),
    "hash": _l("Hash of the last entry"),
    "unkeyed": _l("Entries that had no key"),
    "old_key": _l("Entries signed with the previous key"),
    "max_proposals_per_resident": _l("Most proposals each resident may make"),
    "allow_citywide_proposals": _l("Residents may propose city-wide projects"),
    "deliberation_during_proposals": _l("Residents may comment on and support proposals while submission is open"),
    "vote_with_codes": _l("Residents may vote with a one-time voter code"),
    "vote_with_accounts": _l("Residents may vote with an account that staff confirmed"),
    "min_voting_age": _l("Minimum age to vote"),
    "noncitizens_may_vote": _l("Residents who are not citizens may vote"),
    "fixed_project_order": _l("Show the projects in the order set here, not in a random order per voter"),
    # Ballot projects.
    "confirmed": _l("Confirmed by staff"),
}

NAMED_VALUES: dict[str, Mapping[Any, Any]] = {
    "ballot_type": {kind.value: label for kind, label in BALLOT_TYPE_NAMES.items()},
    "tally_rule": RULE_TITLES,
    "tally_utility": UTILITY_LABELS,
    "tally_completion": COMPLETION_LABELS,
    "tie_break": TIE_BREAK_LABELS,
    "phase": {phase.value: label for phase, label in PHASE_NAMES.items()},
}
NO_VALUE = "—"


@dataclass(frozen=True)
class ValueFormat:
    """How a cycle's values read: money in its currency, dates in its time zone."""

    currency: str = "CAD"
    timezone: str = "UTC"

    def for_side(self, values: Mapping[str, Any]) -> ValueFormat:
        """The format of one side of a change: its own currency or time zone when it changes them."""
        currency, timezone = values.get("currency"), values.get("timezone")
        return ValueFormat(
            currency if isinstance(currency, str) and currency else self.currency,
            timezone if isinstance(timezone, str) and timezone else self.timezone,
        )


@dataclass(frozen=True)
class DisplayedChange:
    name: str  # the field as stored (the CSV export's key)
    label: str
    before: str | None  # None: the field was not there
    after: str | None


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def change_list(entry, value_format: ValueFormat | None = None) -> list[DisplayedChange]:
    """The entry's before and after, field by field, in the order the cycle form shows them."""
    value_format = value_format or ValueFormat()
    before, after = _as_fields(entry.before), _as_fields(entry.after)
    formats = (value_format.for_side(before), value_format.for_side(after))
    order = {name: index for index, name in enumerate(FIELD_LABELS)}
    names = sorted(before.keys() | after.keys(), key=lambda name: (order.get(name, len(order)), name))
    return [
        DisplayedChange(
            name,
            field_label(name),
            display_value(name, before[name], formats[0]) if name in before else None,
            display_value(name, after[name], formats[1]) if name in after else None,
        )
        for name in names
    ]


def _as_fields(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {} if value is None else {"value": value}


def display_value(name: str, value: Any, value_format: ValueFormat | None = None) -> str:
    """One stored value of field ``name`` as a person reads it, in the request's language."""
    value_format = value_format or ValueFormat()
    try:
        shown = _special(name, value, value_format)
    except (TypeError, ValueError, KeyError, LookupError):
        shown = None  # a value this version does not know how to read: show it as stored
    return readable(value) if shown is None else shown


def _special(name: str, value: Any, value_format: ValueFormat) -> str | None:
    if name == "budget_cents" and value is None:
        return str(_l("A budget for each district"))
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return readable(value)
    if name.endswith("_cents") and isinstance(value, int):
        return money(value, value_format.currency)
    if name.endswith("_at") and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return local_datetime(moment, value_format.timezone, datetime_pattern(current_locale()))
    if name.endswith("_percent") and isinstance(value, int):
        return format_percent(value / 100, locale=current_locale())
    if name in NAMED_VALUES and isinstance(value, str):
        return str(NAMED_VALUES[name][value])
    if name == "roles" and isinstance(value, list):
        roles = sorted((Role(role) for role in value), key=ROLE_ORDER.index)
        return _listed(str(ROLE_LABELS[role]) for role in roles)
    if name in {"districts", "categories"} and isinstance(value, list):
        return _listed(_row(row, value_format) for row in value)
    return None


def _row(row: Any, value_format: ValueFormat) -> str:
    """A district or category: its name in the reader's language, and a district's own budget."""
    if not isinstance(row, dict):
        return readable(row)
    french = current_locale().startswith("fr")
    name = (row.get("name_fr") if french else None) or row.get("name_en") or row.get("slug") or ""
    budget = row.get("budget_cents")
    return f"{name} ({money(budget, value_format.currency)})" if isinstance(budget, int) else str(name)


def _listed(items) -> str:
    """ "Parks, Roads and Trails" in the reader's language ("Parcs, Routes et Sentiers")."""
    return format_list(list(items), locale=current_locale()) or NO_VALUE


def readable(value: Any) -> str:
    """Any JSON value as short plain text: booleans as Yes/No, lists as the language writes them."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list):
        return _listed(readable(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(key)}: {readable(item)}" for key, item in sorted(value.items()))
    return str(value)
