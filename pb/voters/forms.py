"""Staff forms for a vote's voters: code batches, confirmed accounts, voiding a ballot, closing."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional, ValidationError

from pb.forms import LATEST_YEAR, DateRange, PbForm, text_length, whole_number
from pb.models import EligibilityBasis
from pb.services.eligibility import MAX_BATCH_SIZE

BASIS_NAMES = {
    EligibilityBasis.IN_PERSON: _l("In person: staff checked the person’s details"),
    EligibilityBasis.REGISTRY: _l("Voter registry: the details match the imported registry"),
    EligibilityBasis.PARTNER: _l("Community partner: a partner vouched for a stated residence (no ID needed)"),
}
BASIS_SHORT = {
    EligibilityBasis.IN_PERSON: _l("In person"),
    EligibilityBasis.REGISTRY: _l("Voter registry"),
    EligibilityBasis.PARTNER: _l("Community partner"),
}
REASON_LENGTH = 1000
EARLIEST_BIRTH_YEAR = 1900


class BirthDateRange(DateRange):
    """A date of birth from 1900 to 2099 (the general date bounds start in 2000; people are older)."""

    def __call__(self, form, field) -> None:
        value = field.data
        if isinstance(value, date) and not EARLIEST_BIRTH_YEAR <= value.year < LATEST_YEAR:
            raise ValidationError(
                _l("Give a date between the years %(first)d and %(last)d.", first=EARLIEST_BIRTH_YEAR, last=LATEST_YEAR - 1)
            )


def _reason(label) -> TextAreaField:
    return TextAreaField(label, [InputRequired(message=_l("Give the reason.")), text_length(REASON_LENGTH)])


class BatchForm(PbForm):
    size = IntegerField(
        _l("Number of codes"),
        [InputRequired(message=_l("Give the number of codes.")), whole_number(1, MAX_BATCH_SIZE)],
    )
    district = SelectField(_l("District"), choices=[])
    label = StringField(_l("Label (where the codes go, for example “Library, Main St.”)"), [text_length(120)])
    submit = SubmitField(_l("Generate the codes and download them"))


class VoidBatchForm(PbForm):
    reason = _reason(_l("Why void this batch?"))
    submit = SubmitField(_l("Void the batch"))


class FindAccountForm(PbForm):
    """Finding the account to confirm: sent with GET (it changes nothing), so no CSRF token."""

    class Meta(PbForm.Meta):
        csrf = False

    email = StringField(
        _l("The account’s e-mail address"),
        [InputRequired(message=_l("Enter the e-mail address of the account.")), text_length(254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Find the account"))


class ConfirmVoterForm(PbForm):
    email = HiddenField(validators=[text_length(254)])
    basis = RadioField(
        _l("On what basis?"),
        [InputRequired(message=_l("Choose the basis of the confirmation."))],
        choices=[(basis.value, label) for basis, label in BASIS_NAMES.items()],
    )
    district = SelectField(_l("District"), choices=[])
    note = TextAreaField(_l("What was checked"), [text_length(REASON_LENGTH)])
    birth_date = DateField(_l("Date of birth"), [Optional(), BirthDateRange()])
    citizen = BooleanField(_l("This person is a citizen"))
    submit = SubmitField(_l("Confirm as a voter"))


class RevokeVoterForm(PbForm):
    reason = _reason(_l("Why revoke this confirmation?"))
    submit = SubmitField(_l("Revoke the confirmation"))


class VoidBallotForm(PbForm):
    code = StringField(
        _l("Voter code"), [text_length(64)], render_kw={"autocomplete": "off", "spellcheck": "false"}
    )
    email = StringField(
        _l("Or the account’s e-mail address"), [text_length(254)], render_kw={"autocomplete": "off", "spellcheck": "false"}
    )
    reason = _reason(_l("Public reason"))
    submit = SubmitField(_l("Continue"))
    void = SubmitField(_l("Void the ballot"))


class CloseVotingForm(PbForm):
    reason = _reason(_l("Why close voting now?"))
    submit = SubmitField(_l("Close voting now"))
