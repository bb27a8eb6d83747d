"""Languages, and locale-aware formatting of money and dates (by Babel, never by hand)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
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
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from wtforms.i18n import messages_path

from pb.extensions import babel

LANGUAGES = {"en_CA": "English", "fr_CA": "Français"}
LOCALE_COOKIE = "pb_locale"


# The two languages' Babel locales, made once: a selector that returns one of these saves Babel
# parsing an identifier on every request (Locale.parse returns a Locale as it is).
_LOCALES = {name: Locale.parse(name) for name in LANGUAGES}
_NAMES = {id(locale): name for name, locale in _LOCALES.items()}


def select_locale() -> Locale:
    """The account's language, else the visitor's cookie, else the browser's Accept-Language.

    Outside a request (the command line) it is the default language.
    """
    if not has_request_context():
        return Locale.parse(current_app.config["DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return _LOCALES[current_user.locale]
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LANGUAGES:
        return _LOCALES[remembered]
    best = _best_language(request.headers.get("Accept-Language", "")[:_LONGEST_HEADER])
    return _LOCALES[best] if best else Locale.parse(current_app.config["DEFAULT_LOCALE"])


_LONGEST_HEADER = 200  # what the choice reads of an Accept-Language header (browsers send far less)


@lru_cache(maxsize=256)
def _best_language(header: str) -> str | None:
    """The language an Accept-Language header prefers (None: neither), worked out once per header."""
    best = parse_accept_header(header, LanguageAccept).best_match(["en-CA", "fr-CA", "en", "fr"])
    if best is None:
        return None
    return "fr_CA" if best.startswith("fr") else "en_CA"


def current_locale() -> str:
    locale = _babel_locale()
    return _NAMES.get(id(locale)) or str(locale)


def _babel_locale() -> Locale:
    """The request's Babel locale: formatting functions take it as is (a string is parsed each call)."""
    return get_locale() or Locale.parse(current_app.config["DEFAULT_LOCALE"])


def html_lang() -> str:
    return current_locale().replace("_", "-")


# Formatting is a pure function of its arguments, and pages show the same few amounts and dates to
# every visitor: each distinct value is formatted by Babel once per process, then looked up.
_FORMATTED_VALUES = 4096


def money(cents: int | None, currency: str = "CAD") -> str:
    if cents is None:
        return ""
    return _money(cents, currency, _babel_locale())


@lru_cache(maxsize=_FORMATTED_VALUES)
def _money(cents: int, currency: str, locale: Locale) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=locale)


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
    return _local_datetime(moment, timezone, format, _babel_locale())


@lru_cache(maxsize=_FORMATTED_VALUES)
def _local_datetime(moment: datetime, timezone: str, format: str, locale: Locale) -> str:
    zone = ZoneInfo(timezone)
    pattern = _for_locale("datetime", format, locale, moment.astimezone(zone))
    return format_datetime(moment, format=pattern, tzinfo=zone, locale=locale)


def local_date(moment: datetime | None, timezone: str, format: str = "long") -> str:
    if moment is None:
        return ""
    return _local_date(moment, timezone, format, _babel_locale())


@lru_cache(maxsize=_FORMATTED_VALUES)
def _local_date(moment: datetime, timezone: str, format: str, locale: Locale) -> str:
    day = moment.astimezone(ZoneInfo(timezone))
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
