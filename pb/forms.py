"""The base of every form: text that the database can store and people can read.

:class:`PbForm` binds a check to every field (``Meta.bind_field``), so a new form is covered
without remembering to add it: single-line text refuses control characters and bidirectional
override characters (which can make a name read differently from what it is); multi-line text
allows tab and line breaks only. NUL and lone surrogates never reach a form: the request guard
(:func:`pb.security.refuse_unreadable_input`) answers 400 first.

Bounds live next to the field: :func:`text_length`, :func:`whole_number` and :func:`date_range`
give each field the limits its column holds, with a message in the user's language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, NumberRange, StopValidation, ValidationError

# Bidirectional embedding, override and isolate controls (not the left-to-right/right-to-left marks).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_ALLOWED = frozenset("\t\n\r")

# Dates people can mean in a budget cycle; outside, Python, the database or the time zone database
# fail (9999-12-31 overflows when moved to UTC, 0001-01-01 before it).
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
# What an INTEGER column holds, and what any ballot limit needs.
MAX_COUNT = 1_000_000
LONG_TEXT = 20_000

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def unreadable_characters(text: str, multiline: bool) -> bool:
    """Whether ``text`` has control characters (tab and line breaks allowed in multi-line text)."""
    for char in text:
        if char in MULTILINE_ALLOWED and multiline:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or (not multiline and char in BIDI_CONTROLS):
            return True
    return False


class _ReadableText:
    """Refuses control characters; stops the other checks so they never see such text."""

    field_flags: dict = {}

    def __init__(self, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        values = field.raw_data or []
        if any(isinstance(v, str) and unreadable_characters(v, self.multiline) for v in values):
            field.errors[:] = []
            raise StopValidation(
                _l("This text contains invisible control characters. Remove them and try again.")
            )


def _bind_readable(field):
    """Put the readable-text check first on a freshly bound field."""
    # Hidden fields are not typed by people: each is checked by what reads it (a choice, a safe path).
    if not isinstance(field, FormField | FieldList | HiddenField):
        field.validators = [_ReadableText(isinstance(field, TextAreaField)), *field.validators]
    return field


class PbForm(FlaskForm):
    """The base of every top-level form (CSRF from Flask-WTF)."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            return _bind_readable(super().bind_field(form, unbound_field, options))


class PbRowForm(Form):
    """The base of rows nested in a form with ``FormField`` (no CSRF of their own)."""

    class Meta(DefaultMeta):
        def bind_field(self, form, unbound_field, options):
            return _bind_readable(super().bind_field(form, unbound_field, options))


def text_length(maximum: int, minimum: int = -1) -> Length:
    """At most ``maximum`` characters (what the column holds)."""
    if minimum > 0:
        return Length(
            min=minimum,
            max=maximum,
            message=_l("Use between %(min)d and %(max)d characters."),
        )
    return Length(max=maximum, message=_l("Use at most %(max)d characters."))


def whole_number(minimum: int = 0, maximum: int = MAX_COUNT) -> NumberRange:
    return NumberRange(
        min=minimum, max=maximum, message=_l("Give a whole number from %(min)s to %(max)s.")
    )


class DateRange:
    """A date between 2000 and 2100 (anything else is a typo, and overflows when converted)."""

    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        value = field.data
        if isinstance(value, date) and not (EARLIEST_YEAR <= value.year <= LATEST_YEAR - 1):
            raise ValidationError(
                _l(
                    "Give a date between the years %(first)d and %(last)d.",
                    first=EARLIEST_YEAR,
                    last=LATEST_YEAR - 1,
                )
            )


def date_range() -> DateRange:
    return DateRange()
