"""Settings: a TOML file, then ``PB_*`` environment variables, then test overrides.

Every setting is declared once in ``SETTINGS`` with its TOML place, type and default;
``config.example.toml`` documents the same list (a test keeps the two in step). A missing
or invalid setting raises :class:`ConfigError` whose message is one line naming it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")
DEFAULT_PUBLIC_PAGE_AGE_MS = 1000
MAX_PUBLIC_PAGE_AGE_MS = 60_000
DEVELOPMENT_SECRET_KEY = "pb-development-only-not-secret"


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _integer(value: Any) -> int:
    if isinstance(value, bool | float):  # int() would drop a fraction silently (and TOML's 1.0 is a float)
        raise ValueError("expected a whole number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("expected a whole number") from None


def _positive_integer(value: Any) -> int:
    number = _integer(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _page_age(value: Any) -> int:
    number = _integer(value)
    if not 0 <= number <= MAX_PUBLIC_PAGE_AGE_MS:
        raise ValueError(f"expected a number of milliseconds from 0 to {MAX_PUBLIC_PAGE_AGE_MS}")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str | int):
        raise ValueError("expected text")
    return str(value)


def _host_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("expected a list of host names")
    return [item.strip() for item in items if item.strip()]


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return text

    return parse


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    parse: Callable[[Any], Any]
    default: Any = None

    @property
    def name(self) -> str:
        """The Flask config key, e.g. ``MAIL_SERVER``."""
        return self.key.upper()

    @property
    def env_var(self) -> str:
        return "PB_" + self.key.upper()

    @property
    def toml_path(self) -> str:
        return f"{self.section}.{self.key}"


SETTINGS: tuple[Setting, ...] = (
    Setting("app", "env", _choice(*ENVIRONMENTS), "production"),
    Setting("app", "secret_key", _text, None),
    Setting("app", "audit_key", _text, None),
    # The voting secrets (voter codes, registry identifiers, ballot nonces) are keyed hashes under keys
    # derived from this one; like the audit key it lives outside the database.
    Setting("app", "voting_key", _text, None),
    Setting("app", "database_url", _text, "sqlite:///instance/pb.sqlite3"),
    Setting("app", "default_locale", _choice("en_CA", "fr_CA"), "en_CA"),
    Setting("app", "max_content_length", _integer, 12 * 1024 * 1024),
    Setting("app", "prefer_https", _boolean, True),
    Setting("app", "proxy_count", _integer, 0),
    Setting("app", "trusted_hosts", _host_list, []),
    # How old, at most, the state of a cycle behind its public proposal pages may be for visitors who are
    # not signed in (pb.web.visitor_glance). None: 0 in tests (every request reads it), else the default.
    Setting("app", "public_page_max_age_ms", _page_age, None),
    # The site's address, for links in mail the worker sends (no request to take the host from).
    Setting("app", "public_url", _text, "http://localhost:5000"),
    # Proposal photos: files under this folder (relative paths are under the working directory).
    Setting("uploads", "photo_folder", _text, "instance/photos"),
    Setting("uploads", "photo_max_bytes", _positive_integer, 10 * 1024 * 1024),
    # The election record: the Ed25519 key that signs it (pb keys generate), and where the public
    # download of each published result's record is kept once built.
    Setting("records", "signing_key_path", _text, "instance/record_signing_key.pem"),
    Setting("records", "record_folder", _text, "instance/records"),
    Setting("mail", "mail_backend", _choice("console", "smtp"), "console"),
    Setting("mail", "mail_server", _text, "localhost"),
    Setting("mail", "mail_port", _integer, 587),
    Setting("mail", "mail_username", _text, ""),
    Setting("mail", "mail_password", _text, ""),
    Setting("mail", "mail_use_tls", _boolean, True),
    Setting("mail", "mail_sender", _text, "pb@localhost"),
    Setting("limits", "ratelimit_storage_uri", _text, "memory://"),
    Setting("limits", "sign_in_rate_limit", _text, "10 per minute"),
    Setting("limits", "account_rate_limit", _text, "20 per hour"),
    # Wrong voter codes (right ones cost nothing): per visitor address, and per code prefix from any address.
    Setting("limits", "voter_code_rate_limit", _text, "10 per minute; 60 per hour"),
    Setting("limits", "voter_code_prefix_rate_limit", _text, "20 per hour"),
    # Voter registry checks that find no match: per visitor address, and per account from any address.
    Setting("limits", "registry_rate_limit", _text, "10 per minute; 30 per hour"),
    Setting("limits", "registry_account_rate_limit", _text, "5 per hour; 10 per day"),
    # Residents; "staff" is any account holding a role besides resident (staff, auditor, admin).
    Setting("sessions", "session_idle_minutes", _positive_integer, 120),
    Setting("sessions", "session_lifetime_hours", _positive_integer, 30 * 24),
    Setting("sessions", "staff_session_idle_minutes", _positive_integer, 30),
    Setting("sessions", "staff_session_lifetime_hours", _positive_integer, 12),
)


def default_config_path() -> Path | None:
    explicit = os.environ.get("PB_CONFIG")
    if explicit:
        return Path(explicit)
    candidate = Path("instance") / "config.toml"
    return candidate if candidate.exists() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} (PB_CONFIG) does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The validated settings as Flask config keys (``SECRET_KEY``, ``DATABASE_URL`` ...)."""
    environ = os.environ if environ is None else environ
    document = _read_toml(path) if path is not None else {}
    known_sections = {s.section for s in SETTINGS}
    for section, table in document.items():
        if section not in known_sections or not isinstance(table, dict):
            raise ConfigError(f"unknown setting section [{section}] in {path}")
        for key in table:
            if not any(s.section == section and s.key == key for s in SETTINGS):
                raise ConfigError(f"unknown setting {section}.{key} in {path}")

    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            raw, origin = overrides.pop(setting.name), "override"
        elif setting.env_var in environ:
            raw, origin = environ[setting.env_var], setting.env_var
        elif setting.key in document.get(setting.section, {}):
            raw, origin = document[setting.section][setting.key], setting.toml_path
        else:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"invalid setting {setting.toml_path} ({origin}): {error}") from error

    if values["ENV"] == "production":
        if not values["SECRET_KEY"]:
            raise ConfigError("missing setting app.secret_key (PB_SECRET_KEY): required in production")
        key = values["SECRET_KEY"]
        if key == DEVELOPMENT_SECRET_KEY or "change-me" in key.lower():
            raise ConfigError("invalid setting app.secret_key (PB_SECRET_KEY): replace the example value")
        if len(key) < 32:
            raise ConfigError(
                "invalid setting app.secret_key (PB_SECRET_KEY): use at least 32 random characters"
            )
        if not values["TRUSTED_HOSTS"]:
            # Links in e-mails are built from the request's host, so production must pin it.
            raise ConfigError("missing setting app.trusted_hosts (PB_TRUSTED_HOSTS): required in production")
        _check_audit_key(values)
        _check_voting_key(values)
    elif not values["SECRET_KEY"]:
        values["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
    if not values["AUDIT_KEY"]:  # development and tests only: production stopped above
        values["AUDIT_KEY"] = derived_audit_key(values["SECRET_KEY"])
    if not values["VOTING_KEY"]:  # development and tests only: production stopped above
        values["VOTING_KEY"] = derived_voting_key(values["SECRET_KEY"])
    if values["PUBLIC_PAGE_MAX_AGE_MS"] is None:
        testing = values["ENV"] == "testing"
        values["PUBLIC_PAGE_MAX_AGE_MS"] = 0 if testing else DEFAULT_PUBLIC_PAGE_AGE_MS
    if values["MAX_CONTENT_LENGTH"] <= 0:
        raise ConfigError("invalid setting app.max_content_length (PB_MAX_CONTENT_LENGTH): must be positive")

    values.update(overrides)  # test-only extras such as WTF_CSRF_ENABLED pass straight through
    return values


def derived_audit_key(secret_key: str) -> str:
    """The audit key development and tests use when none is set (never production)."""
    return hmac.new(secret_key.encode(), b"pb audit log key", hashlib.sha256).hexdigest()


def derived_voting_key(secret_key: str) -> str:
    """The voting key development and tests use when none is set (never production)."""
    return hmac.new(secret_key.encode(), b"pb voting key", hashlib.sha256).hexdigest()


def _check_voting_key(values: dict[str, Any]) -> None:
    """The voting key must live outside the database and apart from the other keys."""
    key = values["VOTING_KEY"]
    if not key:
        raise ConfigError("missing setting app.voting_key (PB_VOTING_KEY): required in production")
    if "change-me" in key.lower():
        raise ConfigError("invalid setting app.voting_key (PB_VOTING_KEY): replace the example value")
    if len(key) < 32:
        raise ConfigError("invalid setting app.voting_key (PB_VOTING_KEY): use at least 32 random characters")
    if key in (values["SECRET_KEY"], values["AUDIT_KEY"]):
        raise ConfigError(
            "invalid setting app.voting_key (PB_VOTING_KEY): use a key other than app.secret_key and app.audit_key"
        )


def _check_audit_key(values: dict[str, Any]) -> None:
    """The audit log's key must live outside the database and apart from the secret key."""
    key = values["AUDIT_KEY"]
    if not key:
        raise ConfigError("missing setting app.audit_key (PB_AUDIT_KEY): required in production")
    if "change-me" in key.lower():
        raise ConfigError("invalid setting app.audit_key (PB_AUDIT_KEY): replace the example value")
    if len(key) < 32:
        raise ConfigError("invalid setting app.audit_key (PB_AUDIT_KEY): use at least 32 random characters")
    if key == values["SECRET_KEY"]:
        raise ConfigError("invalid setting app.audit_key (PB_AUDIT_KEY): use a key other than app.secret_key")
