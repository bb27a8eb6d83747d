from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from pb.forms import PbForm
from pb.services.accounts import GRANTABLE_ROLES, MAX_REASON_LENGTH


class RoleForm(PbForm):
    """Grant or revoke one role; the action is the URL the form is posted to."""

    role = HiddenField(validators=[DataRequired(), AnyOf([role.value for role in GRANTABLE_ROLES])])


class AccountStatusForm(PbForm):
    """Deactivate or reactivate an account; the reason goes to the audit log."""

    reason = TextAreaField(
        _l("Reason (kept in the audit log)"),
        validators=[
            DataRequired(_l("Say why, for the audit log.")),
            Length(max=MAX_REASON_LENGTH, message=_l("A reason has at most %(max)d characters.")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"rows": 3},
    )
