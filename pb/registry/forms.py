"""Forms of the voter registry: staff upload a file; residents type the details the registry holds."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from pb.forms import PbForm, text_length
from pb.registry_identity import MAX_NAME_LENGTH

# Year, month and day, separated by a dash, slash, period or space: 1980-05-17, 1980/5/17.
_BIRTH_DATE = re.compile(r"\s*([0-9]{4})[-/. ]([0-9]{1,2})[-/. ]([0-9]{1,2})\s*")


class RegistryUploadForm(PbForm):
    file = FileField(
        _l("Registry file (CSV)"),
        validators=[FileRequired(message=_l("Choose the CSV file of the voter registry."))],
        render_kw={"accept": ".csv,text/csv"},
    )
    submit = SubmitField(_l("Import the registry"))


def parse_birth_date(text: str | None) -> date | None:
    match = _BIRTH_DATE.fullmatch(text or "")
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


class BirthDate:
    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        if parse_birth_date(field.data) is None:
            raise ValidationError(_l("Write your date of birth as year-month-day, for example 1980-05-17."))


class RegistryCheckForm(PbForm):
    last_name = StringField(
        _l("Last name"),
        validators=[InputRequired(message=_l("Enter your last name.")), text_length(MAX_NAME_LENGTH)],
        render_kw={"autocomplete": "family-name", "spellcheck": "false"},
    )
    first_names = StringField(
        _l("First names"),
        validators=[InputRequired(message=_l("Enter your first names.")), text_length(MAX_NAME_LENGTH)],
        render_kw={"autocomplete": "given-name", "spellcheck": "false"},
    )
    birth_date = StringField(
        _l("Date of birth"),
        validators=[InputRequired(message=_l("Enter your date of birth.")), text_length(20), BirthDate()],
        render_kw={"autocomplete": "bday"},
    )
    postal_code = StringField(
        _l("Postal code"),
        validators=[InputRequired(message=_l("Enter your postal code.")), text_length(10)],
        render_kw={"autocomplete": "postal-code", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Check the voter registry"))
