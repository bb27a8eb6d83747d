"""Forms of the review pages: a review, assignments, confirmation, merging, ballot projects."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from pb.forms import LONG_TEXT, PbForm, text_length, whole_number
from pb.models import BallotProject, Cycle, Review
from pb.services.errors import DomainError
from pb.services.projects import ProjectInput
from pb.services.review import ReviewInput
from pb.values import format_money_input, parse_money

MAX_ID = 2**31 - 1
MONEY_HINT = _l("In dollars, for example 12500 or 12,500.00.")
BAD_MONEY = _l("Write an amount in dollars, such as 12500 or 12,500.00.")


def _money(field, name: str) -> int | None:
    """The field's amount in cents, None when blank; a DomainError on ``name`` when unreadable."""
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return parse_money(text)
    except ValueError:
        raise DomainError(BAD_MONEY, field=name) from None


class ReviewForm(PbForm):
    feasibility = SelectField(
        _l("Feasibility"),
        choices=[
            ("", _l("Not decided yet")),
            ("feasible", _l("Feasible")),
            ("not_feasible", _l("Not feasible")),
        ],
        default="",
    )
    public_reason = TextAreaField(_l("Public reason, when not feasible"), [text_length(1000)])
    cost_estimate = StringField(_l("Cost estimate"), [text_length(40)])
    civil_liberties = TextAreaField(_l("Civil liberties and surveillance impact"), [text_length(2000)])
    equity = TextAreaField(_l("Equity: who benefits, which groups are reached"), [text_length(2000)])
    partner_capacity = TextAreaField(_l("Partner capacity"), [text_length(2000)])
    public_summary = TextAreaField(_l("Public summary"), [text_length(2000)])
    internal_notes = TextAreaField(_l("Internal notes (reviewers only, never public)"), [text_length(LONG_TEXT)])
    submit = SubmitField(_l("Save the review"))

    @staticmethod
    def initial_data(review: Review | None) -> dict:
        if review is None:
            return {}
        return {
            "feasibility": review.feasibility.value if review.feasibility else "",
            "public_reason": review.public_reason,
            "cost_estimate": format_money_input(review.cost_estimate_cents),
            "civil_liberties": review.civil_liberties,
            "equity": review.equity,
            "partner_capacity": review.partner_capacity,
            "public_summary": review.public_summary,
            "internal_notes": review.internal_notes,
        }

    def to_input(self) -> ReviewInput:
        return ReviewInput(
            feasibility=self.feasibility.data or "",
            cost_estimate_cents=_money(self.cost_estimate, "cost_estimate"),
            **{
                name: self[name].data or ""
                for name in ("public_reason", "civil_liberties", "equity", "partner_capacity", "public_summary")
            },
            internal_notes=self.internal_notes.data or "",
        )


class AssignForm(PbForm):
    reviewer = SelectField(_l("Reviewer"), choices=[])
    submit = SubmitField(_l("Assign"))


class UnassignForm(PbForm):
    reviewer_id = HiddenField(validators=[text_length(20)])

    def reviewer(self) -> int | None:
        text = (self.reviewer_id.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else None


class ConfirmForm(PbForm):
    """Staff confirm the review as drafted (nothing else to send)."""

    submit = SubmitField(_l("Confirm this review"))


class MergeForm(PbForm):
    target = IntegerField(
        _l("Number of the proposal it duplicates"), [InputRequired(), whole_number(1, MAX_ID)]
    )
    reason = TextAreaField(_l("Public reason for the merge"), [text_length(1000)])
    submit = SubmitField(_l("Merge"))


class DeclineMergeForm(PbForm):
    submit = SubmitField(_l("Turn down the suggested merge"))


class ProjectForm(PbForm):
    title_en = StringField(_l("Title in English"), [text_length(150)])
    title_fr = StringField(_l("Title in French"), [text_length(150)])
    description_en = TextAreaField(_l("Short description in English"), [text_length(1000)])
    description_fr = TextAreaField(_l("Short description in French"), [text_length(1000)])
    cost = StringField(_l("Cost"), [text_length(40)])
    district = SelectField(_l("District"), choices=[])
    category = SelectField(_l("Category"), choices=[])
    proposals = SelectMultipleField(_l("Proposals it comes from"), choices=[], validators=[Optional()])
    submit = SubmitField(_l("Save the project"))

    def set_choices(self, cycle: Cycle, locale: str, proposals) -> None:
        self.district.choices = [("", _l("City-wide"))] + [(str(d.id), d.name(locale)) for d in cycle.districts]
        self.category.choices = [("", _l("No category"))] + [(str(c.id), c.name(locale)) for c in cycle.categories]
        self.proposals.choices = [(str(p.id), f"#{p.id} {p.title}") for p in proposals]

    @staticmethod
    def initial_data(project: BallotProject) -> dict:
        return {
            "title_en": project.title_en,
            "title_fr": project.title_fr,
            "description_en": project.description_en,
            "description_fr": project.description_fr,
            "cost": format_money_input(project.cost_cents),
            "district": str(project.district_id or ""),
            "category": str(project.category_id or ""),
        }

    def to_input(self) -> ProjectInput:
        cost = _money(self.cost, "cost")
        return ProjectInput(
            title_en=self.title_en.data or "",
            title_fr=self.title_fr.data or "",
            description_en=self.description_en.data or "",
            description_fr=self.description_fr.data or "",
            cost_cents=cost,
            district_id=int(self.district.data) if self.district.data else None,
            category_id=int(self.category.data) if self.category.data else None,
        )

    def proposal_ids(self) -> list[int]:
        return [int(value) for value in self.proposals.data or []]
