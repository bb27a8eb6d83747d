"""The composition root: settings, extensions, blueprints."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pb.config import default_config_path, load_settings

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
    settings = load_settings(default_config_path(), overrides=overrides)
    app = PbFlask(
        "pb",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(settings)
    app.config["TESTING"] = settings["ENV"] == "testing"
    app.config["RATELIMIT_STORAGE_URI"] = settings["RATELIMIT_STORAGE_URI"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["TRUSTED_HOSTS"] = settings["TRUSTED_HOSTS"] or None
    if settings["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings["PROXY_COUNT"], x_proto=settings["PROXY_COUNT"]
        )

    from pb import errors, extensions, i18n, security

    extensions.init_database(app)
    _log_audit_heads()
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    security.init_security(app)
    i18n.init_i18n(app, str(PROJECT_ROOT / "translations"))
    errors.init_errors(app)

    from pb.admin import bp as admin_bp
    from pb.auth import bp as auth_bp
    from pb.cycles import bp as cycles_bp
    from pb.site import bp as site_bp
    from pb.staff import bp as staff_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    return app
