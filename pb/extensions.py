"""Flask extensions and the per-request database session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pb.db import make_engine, make_session_factory, utcnow

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def init_database(app: Flask) -> None:
    from pb.services.audit import AUDIT_KEY_INFO

    engine = make_engine(app.config["DATABASE_URL"])
    factory = make_session_factory(engine)
    # The audit log's key travels with every session, never into the database.
    factory.configure(info={AUDIT_KEY_INFO: app.config["AUDIT_KEY"].encode()})
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
