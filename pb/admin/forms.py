from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

from pb.services.accounts import GRANTABLE_ROLES


class RoleForm(FlaskForm):
    """Grant or revoke one role; the action is the URL the form is posted to."""

    role = HiddenField(validators=[DataRequired(), AnyOf([role.value for role in GRANTABLE_ROLES])])
