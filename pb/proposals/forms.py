"""Forms for proposing, editing, translating and browsing proposals."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from pb.forms import LONG_TEXT, PbForm, text_length
from pb.proposal_labels import LANGUAGE_NAMES, SORT_NAMES
from pb.values import parse_money


class MoneyAmount:
    """An optional amount in dollars and cents, as people write it (see ``parse_money``)."""

    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        try:
            parse_money(text)
        except ValueError:
            raise ValidationError(_l("Give an amount in dollars and cents, e.g. 25000.00 or 25 000,00.")) from None


def money_cents(text: str | None) -> int | None:
    text = (text or "").strip()
    return parse_money(text) if text else None


class ProposalForm(PbForm):
    title = StringField(_l("Title"), [InputRequired(), text_length(150)])
    summary = TextAreaField(_l("Summary"), [InputRequired(), text_length(500)])
    description = TextAreaField(_l("Description"), [InputRequired(), text_length(LONG_TEXT)])
    language = RadioField(
        _l("Language you are writing in"),
        [InputRequired()],
        choices=[(code, name) for code, name in LANGUAGE_NAMES.items()],
    )
    category = SelectField(_l("Category"), [Optional()], choices=[])
    district = SelectField(_l("District"), [InputRequired()], choices=[])
    location = StringField(_l("Location"), [Optional(), text_length(300)])
    latitude = DecimalField(
        _l("Latitude (optional)"), [Optional(), NumberRange(-90, 90, _l("A latitude is between -90 and 90."))],
        places=None,
    )
    longitude = DecimalField(
        _l("Longitude (optional)"),
        [Optional(), NumberRange(-180, 180, _l("A longitude is between -180 and 180."))],
        places=None,
    )
    beneficiaries = TextAreaField(_l("Who benefits"), [Optional(), text_length(1000)])
    estimated_cost = StringField(_l("Estimated cost (optional)"), [Optional(), text_length(40), MoneyAmount()])
    partner = StringField(_l("Community partner (optional)"), [Optional(), text_length(200)])
    show_author_name = RadioField(
        _l("How to show you as the author"),
        [InputRequired()],
        choices=[("name", _l("By my name")), ("district", _l("As “a resident of” my district"))],
        default="name",
    )
    photo = FileField(_l("Photo (optional)"))
    photo_alt = StringField(_l("Describe the photo"), [Optional(), text_length(300)])
    remove_photo = BooleanField(_l("Remove the photo"))
    version = HiddenField(validators=[text_length(12)])
    save_draft = SubmitField(_l("Save as a draft"))
    submit = SubmitField(_l("Submit the proposal"))


class ConfirmForm(PbForm):
    """A button that changes something (submit a draft, withdraw); the CSRF token is all it carries."""

    version = HiddenField(validators=[text_length(12)])
    submit = SubmitField(_l("Confirm"))


class TranslationForm(PbForm):
    title = StringField(_l("Title"), [InputRequired(), text_length(150)])
    summary = TextAreaField(_l("Summary"), [InputRequired(), text_length(500)])
    description = TextAreaField(_l("Description"), [InputRequired(), text_length(LONG_TEXT)])
    submit = SubmitField(_l("Save the translation"))


class ProposalFilterForm(PbForm):
    """The list's search and filters: sent with GET, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), [Optional(), text_length(200)])
    district = SelectField(_l("District"), [Optional()], choices=[])
    category = SelectField(_l("Category"), [Optional()], choices=[])
    status = SelectField(_l("Status"), [Optional()], choices=[])
    sort = SelectField(_l("Order"), [Optional()], choices=list(SORT_NAMES.items()))
    apply = SubmitField(_l("Show"))
