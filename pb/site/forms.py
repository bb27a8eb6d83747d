from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf, DataRequired

from pb.i18n import LANGUAGES


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField()
    submit = SubmitField()
