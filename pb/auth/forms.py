"""The account forms. Password rules are the accounts service's; the forms only check that fields are filled."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from pb.forms import PbForm, text_length
from pb.i18n import LANGUAGES
from pb.services.notifications import DAILY, NOTIFY_MODES

MAX_PASSWORD_LENGTH = 1024
_NO_AUTOCORRECT = {"spellcheck": "false", "autocapitalize": "none"}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _password_length() -> Length:
    # Long enough for any passphrase or password manager, short enough that hashing stays cheap.
    return text_length(MAX_PASSWORD_LENGTH)


def _email_field(autocomplete: str = "email") -> EmailField:
    return EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most %(max)d characters.")),
            Email(_l("Enter an e-mail address like name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": autocomplete, **_NO_AUTOCORRECT},
    )


def _display_name_field() -> StringField:
    return StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=120, message=_l("A name has at most %(max)d characters.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )


def _new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(_l("Choose a password.")), _password_length()],
        render_kw={"autocomplete": "new-password"},
    )


def _confirm_password_field(label, target: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Type the password again.")),
            _password_length(),
            EqualTo(target, _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SignInForm(PbForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most %(max)d characters.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "username", **_NO_AUTOCORRECT},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), _password_length()],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField(validators=[text_length(2000)])


class RegisterForm(PbForm):
    display_name = _display_name_field()
    email = _email_field()
    password = _new_password_field(_l("Password"))
    confirm_password = _confirm_password_field(_l("Type the password again"), "password")


class ProfileForm(PbForm):
    display_name = _display_name_field()
    locale = SelectField(
        _l("Language"),
        choices=list(LANGUAGES.items()),
        validators=[DataRequired(_l("Choose a language."))],
    )
    notify_mode = SelectField(_l("Mail about proposals you follow"), choices=list(NOTIFY_MODES.items()), default=DAILY)


class ChangePasswordForm(PbForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), _password_length()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field(_l("New password"))
    confirm_password = _confirm_password_field(_l("Type the new password again"), "new_password")


class PasswordResetRequestForm(PbForm):
    email = _email_field()


class PasswordResetForm(PbForm):
    new_password = _new_password_field(_l("New password"))
    confirm_password = _confirm_password_field(_l("Type the new password again"), "new_password")


class ConfirmationRequestForm(PbForm):
    email = _email_field()
