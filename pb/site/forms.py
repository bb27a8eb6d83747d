from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf, DataRequired

from pb.forms import PbForm, text_length
from pb.i18n import LANGUAGES


class LanguageForm(PbForm):
    locale = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField(validators=[text_length(2000)])
    submit = SubmitField()
