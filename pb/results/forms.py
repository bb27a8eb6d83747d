"""The staff forms of the results pages (each has a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from pb.forms import PbForm, text_length


class CountForm(PbForm):
    submit = SubmitField(_l("Count the ballots"))


class PublishForm(PbForm):
    # The draft the confirmation page showed: if staff counted again meanwhile, nothing is published.
    result = HiddenField(validators=[InputRequired(), text_length(20)])
    submit = SubmitField(_l("Publish the result"))


class CorrectionForm(PbForm):
    reason = TextAreaField(
        _l("Why is the published result being corrected? (shown publicly)"), [InputRequired(), text_length(2000)]
    )
    submit = SubmitField(_l("Count again as a correction"))
