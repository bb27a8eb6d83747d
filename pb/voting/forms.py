"""The voting forms. The ballot's choices are one field per project, read from the request by the
view (``pb.services.ballot_rules.RawChoices``); these forms carry the rest: CSRF, the nonce, the code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired

from pb.forms import PbForm, text_length


class CodeForm(PbForm):
    code = StringField(
        _l("Your voter code"),
        validators=[InputRequired(message=_l("Enter the code printed on your voter slip.")), text_length(64)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class BallotForm(PbForm):
    """What every ballot submission carries besides the choices: the form's one-time nonce."""

    nonce = HiddenField(validators=[text_length(64)])


class ReceiptForm(PbForm):
    receipt = StringField(
        _l("Your receipt"),
        validators=[InputRequired(message=_l("Enter the receipt you were given when you voted.")), text_length(64)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
