"""Staff forms: a cycle's settings, and closing a phase early."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from pb.ballot import EDITABLE_FIELDS, BallotConfig
from pb.forms import LONG_TEXT, MAX_COUNT, PbForm, PbRowForm, date_range, text_length, whole_number
from pb.labels import BALLOT_TYPE_NAMES, COMPLETION_LABELS, TIE_BREAK_LABELS, UTILITY_LABELS, rule_title
from pb.models import BallotType, Cycle
from pb.services.cycles import (
    MAX_PROPOSALS_PER_RESIDENT,
    MAX_VOTING_AGE,
    PHASE_DATE_FIELDS,
    PROPOSAL_SETTINGS,
    VOTING_SETTINGS,
    CategoryInput,
    CycleSettings,
    DistrictInput,
)
from pb.services.results import RULE_CHOICES, TIE_BREAKS, all_completions, all_utilities
from pb.values import format_money_input, is_valid_timezone, local_to_utc, parse_money, utc_to_local

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
BLANK_ROWS = 3

class DistrictRowForm(PbRowForm):
    id = HiddenField(validators=[text_length(20)])
    name_en = StringField(_l("Name in English"), [text_length(200)])
    name_fr = StringField(_l("Name in French"), [text_length(200)])
    budget = StringField(_l("Budget of this district"), [text_length(40)])
    remove = BooleanField(_l("Remove this district"))


class CategoryRowForm(PbRowForm):
    id = HiddenField(validators=[text_length(20)])
    name_en = StringField(_l("Name in English"), [text_length(200)])
    name_fr = StringField(_l("Name in French"), [text_length(200)])
    remove = BooleanField(_l("Remove this category"))


def _phase_field(label) -> DateTimeLocalField:
    return DateTimeLocalField(label, [InputRequired(), date_range()], format=DATETIME_FORMATS)


def _count_field(label, maximum: int = MAX_COUNT) -> IntegerField:
    return IntegerField(label, [Optional(), whole_number(0, maximum)])


class CycleForm(PbForm):
    # The cycle's version when the edit page was opened: a save made from a stale page is refused.
    version = HiddenField(validators=[text_length(20)])
    name_en = StringField(_l("Name in English"), [InputRequired(), text_length(200)])
    name_fr = StringField(_l("Name in French"), [InputRequired(), text_length(200)])
    slug = StringField(_l("Web address name"), [InputRequired(), text_length(80)])
    description_en = TextAreaField(_l("Description in English"), [text_length(LONG_TEXT)])
    description_fr = TextAreaField(_l("Description in French"), [text_length(LONG_TEXT)])
    currency = StringField(_l("Currency"), [InputRequired(), text_length(3, minimum=3)], default="CAD")
    timezone = StringField(_l("Time zone"), [InputRequired(), text_length(64)], default="America/Toronto")

    budget_mode = RadioField(
        _l("How the budget is shared"),
        choices=[
            ("total", _l("One budget for the whole cycle")),
            ("district", _l("A budget for each district")),
        ],
        default="total",
    )
    budget = StringField(_l("Total budget"), [text_length(40)])
    districts = FieldList(FormField(DistrictRowForm))
    categories = FieldList(FormField(CategoryRowForm))

    proposals_start_at = _phase_field(_l("Proposal submission opens"))
    proposals_end_at = _phase_field(_l("Proposal submission closes"))
    review_start_at = _phase_field(_l("Deliberation and review opens"))
    review_end_at = _phase_field(_l("Deliberation and review closes"))
    voting_start_at = _phase_field(_l("Voting opens"))
    voting_end_at = _phase_field(_l("Voting closes"))
    results_start_at = _phase_field(_l("Results are published"))

    ballot_type = SelectField(
        _l("Ballot type"), choices=[(kind.value, BALLOT_TYPE_NAMES[kind]) for kind in BallotType]
    )
    min_projects = _count_field(_l("Least number of projects a voter must choose"))
    max_projects = _count_field(_l("Most projects a voter may choose"))
    min_budget_share_percent = _count_field(_l("Least share of the budget a ballot must fill (percent)"), 100)
    ranking_length = _count_field(_l("Number of projects a voter may rank"))
    points_per_voter = _count_field(_l("Points each voter spreads"))
    max_points_per_project = _count_field(_l("Most points a voter may give one project"))
    allow_revision = BooleanField(_l("Voters may change their ballot until voting closes"), default=True)

    max_proposals_per_resident = IntegerField(
        _l("Most proposals each resident may make"),
        [Optional(), whole_number(1, MAX_PROPOSALS_PER_RESIDENT)],
        default=5,
    )
    allow_citywide_proposals = BooleanField(_l("Residents may propose city-wide projects"), default=True)
    deliberation_during_proposals = BooleanField(
        _l("Residents may comment on and support proposals while submission is open")
    )

    vote_with_codes = BooleanField(_l("Residents may vote with a one-time voter code"), default=True)
    vote_with_accounts = BooleanField(_l("Residents may vote with an account that staff confirmed"), default=True)
    min_voting_age = IntegerField(_l("Minimum age to vote"), [Optional(), whole_number(0, MAX_VOTING_AGE)])
    noncitizens_may_vote = BooleanField(_l("Residents who are not citizens may vote"), default=True)
    fixed_project_order = BooleanField(_l("Show the projects in the order set here, not in a random order per voter"))

    tally_rule = SelectField(
        _l("Counting rule"), choices=[(name, rule_title(name)) for name in RULE_CHOICES]
    )
    tally_utility = SelectField(
        _l("Measure of voter satisfaction"),
        choices=[(name, UTILITY_LABELS.get(name, name)) for name in all_utilities()],
    )
    tally_completion = SelectField(
        _l("Completion (spending what the rule leaves)"),
        choices=[(name, COMPLETION_LABELS.get(name, name)) for name in all_completions()],
    )
    tie_break = SelectField(
        _l("Tie-break"), choices=[(name, TIE_BREAK_LABELS[name]) for name in TIE_BREAKS], default="cost"
    )
    submit = SubmitField(_l("Save the cycle"))

    # --- Between the form and the service ---------------------------------------------------------

    @classmethod
    def initial_data(cls, cycle: Cycle) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: getattr(cycle, name)
            for name in ("name_en", "name_fr", "slug", "description_en", "description_fr", "currency", "timezone")
        }
        data.update((name, getattr(cycle, name)) for name in PROPOSAL_SETTINGS)
        data.update((name, getattr(cycle, name)) for name in VOTING_SETTINGS)
        ballot = cycle.ballot_config().to_dict()
        data.update((name, ballot[name]) for name in EDITABLE_FIELDS)
        data["version"] = str(cycle.version)
        data["budget_mode"] = "district" if cycle.has_district_budgets else "total"
        data["budget"] = format_money_input(cycle.budget_cents)
        data["districts"] = [
            {
                "id": str(d.id),
                "name_en": d.name_en,
                "name_fr": d.name_fr,
                "budget": format_money_input(d.budget_cents),
            }
            for d in cycle.districts
        ]
        data["categories"] = [
            {"id": str(c.id), "name_en": c.name_en, "name_fr": c.name_fr} for c in cycle.categories
        ]
        for name in PHASE_DATE_FIELDS:
            data[name] = utc_to_local(getattr(cycle, name), cycle.timezone)
        return data

    def expected_version(self) -> int:
        """The version the page showed (-1, matching no cycle, when the field is missing or spoiled)."""
        text = (self.version.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else -1

    def add_blank_rows(self) -> None:
        for rows in (self.districts, self.categories):
            blanks = sum(1 for row in rows if not row.form.id.data and _blank(row.form))
            for _blank_row in range(BLANK_ROWS - blanks):
                rows.append_entry()

    def to_settings(self) -> tuple[CycleSettings | None, dict[str, list]]:
        """The submitted settings (money in cents, local times as UTC), or the problems found."""
        errors: dict[str, list] = {}
        per_district = self.budget_mode.data == "district"
        budget_cents = None
        if not per_district:
            budget_cents = _money(self.budget.data, "budget", errors, required=True)

        districts: list[DistrictInput] = []
        for row in self.districts:
            form = row.form
            if form.remove.data or (not form.id.data and _blank(form)):
                continue
            cents = (
                _money(form.budget.data, form.budget.name, errors, required=False) if per_district else None
            )
            districts.append(
                DistrictInput(
                    form.name_en.data or "", form.name_fr.data or "", cents, _row_id(form), row.name
                )
            )
        categories: list[CategoryInput] = []
        for row in self.categories:
            form = row.form
            if form.remove.data or (not form.id.data and _blank(form)):
                continue
            categories.append(
                CategoryInput(form.name_en.data or "", form.name_fr.data or "", _row_id(form), row.name)
            )

        timezone = (self.timezone.data or "").strip()
        if not is_valid_timezone(timezone):
            errors.setdefault("timezone", []).append(
                _l("Give a time zone name from the IANA database, e.g. America/Toronto.")
            )
        if errors:
            return None, errors
        dates = {name: local_to_utc(getattr(self, name).data, timezone) for name in PHASE_DATE_FIELDS}
        settings = CycleSettings(
            slug=self.slug.data or "",
            name_en=self.name_en.data or "",
            name_fr=self.name_fr.data or "",
            description_en=self.description_en.data or "",
            description_fr=self.description_fr.data or "",
            currency=self.currency.data or "",
            timezone=timezone,
            budget_cents=budget_cents,
            districts=districts,
            categories=categories,
            ballot=self._ballot(),
            max_proposals_per_resident=self.max_proposals_per_resident.data or 5,
            allow_citywide_proposals=bool(self.allow_citywide_proposals.data),
            deliberation_during_proposals=bool(self.deliberation_during_proposals.data),
            vote_with_codes=bool(self.vote_with_codes.data),
            vote_with_accounts=bool(self.vote_with_accounts.data),
            min_voting_age=self.min_voting_age.data,
            noncitizens_may_vote=bool(self.noncitizens_may_vote.data),
            fixed_project_order=bool(self.fixed_project_order.data),
            **dates,
        )
        return settings, errors

    def _ballot(self) -> BallotConfig:
        values = {name: self[name].data for name in EDITABLE_FIELDS}
        values["ballot_type"] = BallotType(values["ballot_type"])
        values["allow_revision"] = bool(values["allow_revision"])
        return BallotConfig(**values)

    def show_errors(self, errors: dict[str, list]) -> None:
        """Put each problem next to its field; a row's problems are also listed in the summary."""
        rows = {}
        for number, row in enumerate(self.districts, start=1):
            for sub in row.form:
                rows[sub.name] = (sub, _("District %(number)d", number=number))
        for number, row in enumerate(self.categories, start=1):
            for sub in row.form:
                rows[sub.name] = (sub, _("Category %(number)d", number=number))
        for name, messages in errors.items():
            if name in rows:
                sub, row_label = rows[name]
                sub.errors = [*sub.errors, *messages]
                for message in messages:
                    self.form_errors.append(
                        _(
                            "%(row)s, %(field)s: %(message)s",
                            row=row_label,
                            field=sub.label.text,
                            message=message,
                        )
                    )
            elif name in self._fields:
                self[name].errors = [*self[name].errors, *messages]
            else:
                self.form_errors.extend(messages)


def _blank(form: Form) -> bool:
    return not any((sub.data or "").strip() for sub in form if sub.type in {"StringField"})


def _row_id(form: Form) -> int | None:
    value = (form.id.data or "").strip()
    return int(value) if value.isdigit() else None


def _money(text: str | None, name: str, errors: dict[str, list], required: bool) -> int | None:
    text = (text or "").strip()
    if not text:
        if required:
            errors.setdefault(name, []).append(_l("Give the budget, e.g. 250000.00 or 250 000,00."))
        return None
    try:
        return parse_money(text)
    except ValueError:
        errors.setdefault(name, []).append(
            _l("Give an amount in dollars and cents, e.g. 250000.00 or 250 000,00.")
        )
        return None


class ClosePhaseForm(PbForm):
    # The phase the page showed: if another phase has opened since, nothing is closed.
    phase = HiddenField(validators=[text_length(20)])
    reason = TextAreaField(_l("Why close this phase early?"), [InputRequired(), text_length(2000)])
    submit = SubmitField(_l("Close the phase now"))


class AuditLogFilterForm(PbForm):
    """The audit log's filters: sent with GET, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who (part of the e-mail address)"), [Optional(), text_length(254)])
    action = SelectField(_l("What"), [Optional()], choices=[])
    since = DateField(_l("From (UTC date)"), [Optional(), date_range()])
    until = DateField(_l("Until (UTC date, included)"), [Optional(), date_range()])
    submit = SubmitField(_l("Show"))
