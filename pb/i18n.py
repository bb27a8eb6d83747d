"""Languages, and locale-aware formatting of money and dates (by Babel, never by hand)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, support
from babel.dates import format_date, format_datetime, get_date_format, get_datetime_format, get_time_format
from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from wtforms.i18n import messages_path

from pb.extensions import babel

LANGUAGES = {"en_CA": "English", "fr_CA": "Français"}
LOCALE_COOKIE = "pb_locale"


def select_locale() -> str:
    """The account's language, else the visitor's cookie, else the browser's Accept-Language.

    Outside a request (the command line) it is the default language.
    """
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    best = request.accept_languages.best_match(["en-CA", "fr-CA", "en", "fr"])
    if best is not None:
        return "fr_CA" if best.startswith("fr") else "en_CA"
    return current_app.config["DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(_babel_locale())


def _babel_locale() -> Locale:
    """The request's Babel locale: formatting functions take it as is (a string is parsed each call)."""
    return get_locale() or Locale.parse(current_app.config["DEFAULT_LOCALE"])


def html_lang() -> str:
    return current_locale().replace("_", "-")


def money(cents: int | None, currency: str = "CAD") -> str:
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, currency, locale=_babel_locale())


def number(value: int) -> str:
    """A count as the visitor's language writes it (``12,345`` or ``12 345``)."""
    return format_decimal(value, locale=_babel_locale())


NAMED_FORMATS = ("full", "long", "medium", "short")


def _pattern(kind: str, format: str, locale: str) -> str:
    """A Babel pattern for a named format (``long``) or the pattern itself."""
    if format not in NAMED_FORMATS:
        return format
    if kind == "date":
        return get_date_format(format, locale=locale).pattern
    combined = str(get_datetime_format(format, locale=locale))
    date = get_date_format(format, locale=locale).pattern
    time = get_time_format(format, locale=locale).pattern
    return combined.replace("{1}", date).replace("{0}", time)


def _for_locale(kind: str, format: str, locale: Locale, local: datetime) -> str:
    """The format to give Babel: as it is, or in French the pattern with OQLF usage (``quebec_french``)."""
    if locale.language != "fr":
        return format
    return quebec_french(_pattern(kind, format, str(locale)), local)


def quebec_french(pattern: str, local: datetime) -> str:
    """OQLF usage that CLDR's fr_CA lacks: « 1er décembre », « 9 h », « 9 h 30 » (not « 09 h 00 »)."""
    if "'min'" in pattern:  # a time with seconds keeps its minutes
        pattern = pattern.replace("HH 'h'", "H 'h'")
    else:
        pattern = pattern.replace("HH 'h' mm", "H 'h'" if local.minute == 0 else "H 'h' mm")
    if local.day == 1:
        pattern = re.sub(r"(?<![d'])d(?= MMM)", "d'er'", pattern)
    return pattern


def local_datetime(moment: datetime | None, timezone: str, format: str = "long") -> str:
    if moment is None:
        return ""
    locale, zone = _babel_locale(), ZoneInfo(timezone)
    pattern = _for_locale("datetime", format, locale, moment.astimezone(zone))
    return format_datetime(moment, format=pattern, tzinfo=zone, locale=locale)


def local_date(moment: datetime | None, timezone: str, format: str = "long") -> str:
    if moment is None:
        return ""
    locale, day = _babel_locale(), moment.astimezone(ZoneInfo(timezone))
    return format_date(day.date(), format=_for_locale("date", format, locale, day), locale=locale)


# --- Catalogues, looked up once per page rather than once per string --------------------------------


@cache
def _wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WtformsTranslations:
    """WTForms' own messages in the request's language, each catalogue read from disk once per process.

    Flask-WTF reads and parses the catalogue on every request that builds a form, unless the
    request already holds one in ``request.wtforms_translations``: this is that object.
    """

    def ugettext(self, string: str) -> str:
        return _wtforms_catalog(current_locale()).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalog(current_locale()).ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _WtformsTranslations()


def _share_wtforms_translations() -> None:
    request.wtforms_translations = _WTFORMS_TRANSLATIONS  # type: ignore[attr-defined]


# Flask-Babel's template gettext finds the catalogue through the request context for every string (a
# page has dozens); a context processor puts it in the template's context once per render instead.
_CATALOG = "_pb_catalog"


def _template_catalog() -> dict[str, Any]:
    return {_CATALOG: get_translations()}


def _catalog(context: Context) -> support.NullTranslations:
    return context.get(_CATALOG) or get_translations()


@pass_context
def _template_gettext(context: Context, string: str) -> str:
    return _catalog(context).ugettext(string)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _catalog(context).ungettext(singular, plural, n)


def init_i18n(app: Flask, translations_dir: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en_CA")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations_dir
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_share_wtforms_translations)
    app.context_processor(_template_catalog)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True
    )
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale, LANGUAGES=LANGUAGES)
