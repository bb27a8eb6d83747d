from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

from pb.forms import PbForm
from pb.services.accounts import GRANTABLE_ROLES


class RoleForm(PbForm):
    """Grant or revoke one role; the action is the URL the form is posted to."""

    role = HiddenField(validators=[DataRequired(), AnyOf([role.value for role in GRANTABLE_ROLES])])
