"""Forms of the discussion under a proposal: comments and replies, reports, moderation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from pb.forms import PbForm, text_length
from pb.services.deliberation import COMMENT_MAX_LENGTH, FLAG_REASON_MAX_LENGTH
from pb.services.moderation import REASON_MAX_LENGTH


def _body_field() -> TextAreaField:
    return TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(_l("Write your comment.")), text_length(COMMENT_MAX_LENGTH)],
    )


class CommentForm(PbForm):
    """A comment, or a reply to one."""

    body = _body_field()
    language = SelectField(
        _l("Language of your comment"),
        choices=[("en", _l("English")), ("fr", _l("French"))],
        validators=[DataRequired(_l("Choose English or French."))],
    )


class EditCommentForm(PbForm):
    body = _body_field()


class FlagForm(PbForm):
    """A report to the moderators."""

    reason = StringField(
        _l("What is wrong?"),
        validators=[
            DataRequired(_l("Say what is wrong, so the moderators know what to look at.")),
            text_length(FLAG_REASON_MAX_LENGTH),
        ],
    )


class HideForm(PbForm):
    """Staff hide a proposal or a comment: the reason is public."""

    reason = StringField(
        _l("Public reason"),
        validators=[
            DataRequired(_l("Give the public reason: everyone will see why it was hidden.")),
            text_length(REASON_MAX_LENGTH),
        ],
    )


class RestoreForm(PbForm):
    """Staff show a hidden proposal again, optionally saying why (shown in its history)."""

    reason = StringField(_l("Public reason (optional)"), validators=[text_length(REASON_MAX_LENGTH)])


class ActionForm(PbForm):
    """A button that changes something (support, follow...): only the CSRF token."""
