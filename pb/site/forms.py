from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf, DataRequired

from pb.forms import PbForm, text_length
from pb.i18n import LANGUAGES


class LanguageForm(PbForm):
    """The language switch on every page. It carries no session token: a token would give every new
    visitor a session (a signed cookie written on each first page), and pages the same for everyone
    could not be kept whole. What a forged switch could do is change a language; the view refuses
    requests the browser marks as coming from another site (:func:`pb.security.cross_site_request`)."""

    class Meta(PbForm.Meta):
        csrf = False

    locale = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField(validators=[text_length(2000)])
    submit = SubmitField()
