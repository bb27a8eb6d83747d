"""Languages, and locale-aware formatting of money and dates (by Babel, never by hand)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

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
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def html_lang() -> str:
    return current_locale().replace("_", "-")


def money(cents: int | None, currency: str = "CAD") -> str:
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, currency, locale=current_locale())


def local_datetime(moment: datetime | None, timezone: str, format: str = "long") -> str:
    if moment is None:
        return ""
    return format_datetime(moment, format=format, tzinfo=ZoneInfo(timezone), locale=current_locale())


def local_date(moment: datetime | None, timezone: str, format: str = "long") -> str:
    if moment is None:
        return ""
    return format_date(moment.astimezone(ZoneInfo(timezone)).date(), format=format, locale=current_locale())


def init_i18n(app: Flask, translations_dir: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en_CA")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations_dir
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale, LANGUAGES=LANGUAGES)
