"""The composition root: settings, extensions, blueprints."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from pb.config import ConfigError, default_config_path, load_settings
from pb.lru import LRU
from pb.services.proposal_index import ProposalIndex
from pb.web import RecentGlances

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PbFlask(Flask):
    """Flask with one commit point: a view that returns normally has its database work committed.

    A view that raises (an abort, a bug) is rolled back at teardown; a broken rule is rolled back
    by ``pb.web.domain_errors`` before the form is shown again.
    """

    def dispatch_request(self):  # type: ignore[override]
        from pb.extensions import commit_request

        response = super().dispatch_request()
        commit_request()
        return response

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """A versioned static file (``?v=``, see :func:`_version_static_files`) is cached for a year."""
        if request.args.get(STATIC_VERSION):
            return STATIC_MAX_AGE_SECONDS
        return super().get_send_file_max_age(filename)


STATIC_VERSION = "v"
STATIC_MAX_AGE_SECONDS = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _file_digest(path: str, modified_ns: int, size: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def _version_static_files(app: Flask) -> None:
    """``url_for('static', filename=...)`` adds ``v=<digest of the file>``: browsers keep the file for a
    year and fetch it again only when its content, hence its address, changes."""
    folder = Path(app.static_folder or "")

    @app.url_defaults
    def static_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or STATIC_VERSION in values or "filename" not in values:
            return
        path = folder / values["filename"]
        try:
            stat = path.stat()
        except OSError:
            return
        values[STATIC_VERSION] = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ids an INTEGER column can hold; a larger number is a 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


GUNICORN_WORKER_BOOT_ERROR = 3  # gunicorn's master stops ("Worker failed to boot") instead of retrying


class DatabaseNotReady(ConfigError):
    """The database cannot be reached, or its schema is not the one this code needs; one line."""


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__


def check_database(engine: Engine) -> None:
    """Refuse to start on a database that is unreachable or not at the migrations' head revision."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from pb import schema

    where = engine.url.render_as_string(hide_password=True)
    script = ScriptDirectory.from_config(schema.alembic_config())
    heads = set(script.get_heads())
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        raise DatabaseNotReady(f"cannot reach the database {where}: {_first_line(error)}") from error
    if current == heads:
        return
    if not current:
        raise DatabaseNotReady(f"the database {where} has no schema yet: run `pb db upgrade`")
    at = ", ".join(sorted(current))
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        raise DatabaseNotReady(
            f"the database is at revision {at}, which this version of pb does not know: "
            "run the pb release that migrated it"
        )
    raise DatabaseNotReady(
        f"the database is at revision {at} and pb needs {', '.join(sorted(heads))}: run `pb db upgrade`"
    )


def _open_database(app: Flask, check: bool) -> None:
    from pb import extensions

    try:
        extensions.init_database(app)
    except (ArgumentError, ImportError) as error:
        # The message of a URL that does not parse could echo a password: name the setting only.
        raise ConfigError(
            "invalid setting app.database_url (PB_DATABASE_URL): not a database URL such as "
            f"postgresql+psycopg://user@host/pb ({type(error).__name__})"
        ) from error
    if check:
        check_database(app.extensions["pb.db"].engine)


def _deliver_mail_from_a_thread(app: Flask) -> None:
    """In development the web process delivers the outbox itself, from its first request on."""
    from pb.mail import THREAD_KEY, start_delivery_thread

    lock = threading.Lock()

    @app.before_request
    def start_mail_delivery() -> None:
        if THREAD_KEY not in app.extensions:
            with lock:
                if THREAD_KEY not in app.extensions:
                    start_delivery_thread(app)


def _served_by_gunicorn() -> bool:
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it), not the one at start-up."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _log_audit_heads() -> None:
    """Each committed audit log append writes the new head (INFO on ``pb.audit``) to stderr, which
    gunicorn and systemd keep: a record outside the database of how far the log had grown."""
    audit_log = logging.getLogger("pb.audit")
    audit_log.setLevel(logging.INFO)
    if not audit_log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        audit_log.addHandler(handler)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    try:
        return _build_app(overrides)
    except ConfigError as error:
        if not _served_by_gunicorn():
            raise
        # One line for the operator instead of a traceback in every worker.
        print(f"pb: {error}", file=sys.stderr, flush=True)
        raise SystemExit(GUNICORN_WORKER_BOOT_ERROR) from None


def _build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(default_config_path(), overrides=overrides)
    app = PbFlask(
        "pb",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.url_map.converters["int"] = IdConverter
    _version_static_files(app)
    app.config.update(settings)
    app.config["TESTING"] = settings["ENV"] == "testing"
    app.config["RATELIMIT_STORAGE_URI"] = settings["RATELIMIT_STORAGE_URI"]
    # No X-RateLimit-* headers on answers within the limits: reading a window for them cost every limited
    # request two more round trips to Redis. A refusal (429) still says when to try again (pb.errors).
    app.config["RATELIMIT_HEADERS_ENABLED"] = False
    app.config["TRUSTED_HOSTS"] = settings["TRUSTED_HOSTS"] or None
    if settings["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings["PROXY_COUNT"], x_proto=settings["PROXY_COUNT"]
        )

    from pb import errors, extensions, fragments, i18n, security

    # ``pb db upgrade`` passes CHECK_DATABASE=False: it is what brings an old or empty database up to date.
    _open_database(app, check=settings.get("CHECK_DATABASE", True))
    _log_audit_heads()
    extensions.csrf.init_app(app)
    extensions.init_limiter(app)
    security.init_security(app)
    i18n.init_i18n(app, str(PROJECT_ROOT / "translations"))
    fragments.init_fragments(app)
    # Each application its own snapshots of proposal lists (tests build many apps on databases that reuse ids).
    app.extensions["pb.proposal_index"] = ProposalIndex()
    app.extensions["pb.recent_glances"] = RecentGlances(settings["PUBLIC_PAGE_MAX_AGE_MS"] / 1000)
    app.extensions["pb.list_filters"] = LRU(4096)  # the proposal list's filters, checked (pb.proposals.views)
    errors.init_errors(app)

    from pb.admin import bp as admin_bp
    from pb.auth import bp as auth_bp
    from pb.cycles import bp as cycles_bp
    from pb.opendata import bp as opendata_bp
    from pb.proposals import bp as proposals_bp
    from pb.registry import bp as registry_bp
    from pb.results import bp as results_bp
    from pb.site import bp as site_bp
    from pb.staff import bp as staff_bp
    from pb.voting import bp as voting_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(voting_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(opendata_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(__import__("pb.review", fromlist=["bp"]).bp, url_prefix="/review")
    app.register_blueprint(__import__("pb.voters", fromlist=["bp"]).bp, url_prefix="/staff/voting")
    app.register_blueprint(__import__("pb.records", fromlist=["bp"]).bp)
    if settings["ENV"] == "development":
        _deliver_mail_from_a_thread(app)
    return app
