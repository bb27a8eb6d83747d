"""Flask extensions and the per-request database session."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from flask import Flask, current_app, g
from flask.logging import default_handler
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pb.db import make_engine, make_session_factory, utcnow


def client_network() -> str:
    """The rate-limit key of the visitor's address: an IPv4 address as it is, an IPv6 address by its /64.

    One IPv6 subscriber is usually handed a whole /64, so counting single IPv6 addresses would give
    them billions of fresh counters. An IPv4 address written as IPv6 (``::ffff:192.0.2.7``) counts as
    the IPv4 address. The address is ``request.remote_addr``, which ``proxy_count`` governs.
    """
    remote = get_remote_address() or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# When the rate-limit storage (Redis) is down, count in this process's memory instead of failing the
# request; Flask-Limiter logs "Rate limit storage unreachable" and checks the storage again later.
limiter = Limiter(
    key_func=client_network, default_limits=[], in_memory_fallback_enabled=True, swallow_errors=True
)
REDIS_TIMEOUT_SECONDS = 1.0


def uses_redis(storage_uri: str) -> bool:
    return storage_uri.split(":", 1)[0].startswith(("redis", "rediss"))


def init_limiter(app: Flask) -> None:
    if uses_redis(app.config["RATELIMIT_STORAGE_URI"]):
        # A Redis that does not answer costs a request at most a second, not a worker's timeout.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
        )
    limiter.init_app(app)
    limiter_log = logging.getLogger("flask-limiter")
    if not _has_real_handler(limiter_log):
        # Its only handler is a NullHandler: without this, the fallback warning would go nowhere.
        limiter_log.addHandler(default_handler)


def _has_real_handler(logger: logging.Logger | None) -> bool:
    while logger is not None:
        if any(not isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def init_database(app: Flask) -> None:
    from pb.services.audit import AUDIT_KEY_INFO
    from pb.services.voting import FROZEN_MEMO_INFO, VOTING_KEY_INFO, FrozenMemo

    engine = make_engine(app.config["DATABASE_URL"])
    factory = make_session_factory(engine)
    # The audit log's key travels with every session, never into the database.
    factory.configure(
        info={
            AUDIT_KEY_INFO: app.config["AUDIT_KEY"].encode(),
            VOTING_KEY_INFO: app.config["VOTING_KEY"].encode(),
            # Frozen once voting opens, so read once per process (the sessions share this object).
            FROZEN_MEMO_INFO: FrozenMemo(),
        }
    )
    app.extensions["pb.db"] = Database(engine, factory)
    # The clock of every request (``pb.web.request_now``); tests replace it to move time.
    app.extensions.setdefault("pb.clock", utcnow)

    @app.teardown_appcontext
    def close_session(error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            # Anything not committed at the request boundary is discarded.
            session.rollback()
            session.close()


def commit_request() -> None:
    """The request's one commit point (called once the view has returned without an error)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


def database() -> Database:
    return current_app.extensions["pb.db"]


def db_session() -> Session:
    """The request's session: views commit it once, at the boundary."""
    if "db_session" not in g:
        g.db_session = database().session_factory()
    return g.db_session
