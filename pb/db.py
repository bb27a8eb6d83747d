"""Database plumbing without Flask: the declarative base, engines and sessions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _begin_before_savepoint(connection, name) -> None:
    """Make sure a SAVEPOINT is inside a transaction that a rollback undoes.

    Python's sqlite3 module begins a transaction only before its first INSERT, UPDATE or DELETE. A
    SAVEPOINT issued first opened a transaction of its own, and releasing it committed everything
    written in it: a ``begin_nested()`` that came first in a request could not be rolled back with the
    rest. Reads keep running outside transactions (holding no lock), as before.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# A pooled connection idle longer than this is pinged before use: the server may have restarted, or a
# firewall dropped the connection, while it waited. One in steady use is not (a ping is a round trip).
PING_AFTER_IDLE_SECONDS = 10.0
_CHECKED_IN = "pb_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping``, for connections that sat idle in the pool only.

    A dead connection is replaced before the request sees it (the pool retries on
    ``DisconnectionError``). One that breaks while in steady use fails its request, and SQLAlchemy
    then replaces every connection of the pool, so the next requests reconnect.
    """

    @event.listens_for(engine, "checkin")
    def checked_in(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.pop(_CHECKED_IN, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error


def _reads_outside_transactions(engine: Engine) -> None:
    """PostgreSQL: no BEGIN and COMMIT around reads made before anything is written or locked.

    psycopg opens a transaction with a round trip of its own (BEGIN) before the first statement, and
    the request's commit is another: three round trips for a page that reads once. In autocommit
    mode the read is one. It sees the same data: under READ COMMITTED (PostgreSQL's default, and
    pb's) every statement of a transaction takes its own snapshot, so reads inside a transaction
    are no more consistent with each other than reads outside one, until something is written or
    locked.

    So while a connection has no transaction open, a plain read (a Core or ORM ``select()`` without
    ``with_for_update()``, not streamed through a server-side cursor) runs in autocommit mode. Any
    other statement (a write, a lock, a savepoint, SQL given as text) turns autocommit off first:
    psycopg begins a transaction as usual, and everything after it, reads included, runs inside it
    until the commit or rollback. A read with side effects (``SELECT pg_advisory_xact_lock(...)``)
    must therefore be sent as text.
    """
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE

    @event.listens_for(engine, "checkout")
    def usual_mode(dbapi_connection, record, proxy) -> None:
        if dbapi_connection.autocommit:  # whoever takes the connection finds the DBAPI's usual mode
            dbapi_connection.autocommit = False

    @event.listens_for(engine, "before_cursor_execute")
    def choose_mode(connection, cursor, statement, parameters, context, executemany) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.info.transaction_status is idle:
            dbapi_connection.autocommit = _plain_read(statement, context)


def _plain_read(statement: str, context) -> bool:
    compiled = getattr(context, "compiled", None)
    if compiled is None or context.isinsert or context.isupdate or context.isdelete:
        return False
    if getattr(context, "_is_server_side", False) or statement.lstrip()[:6].upper() != "SELECT":
        return False  # a server-side cursor needs a transaction; WITH may hide a write
    query = compiled.statement
    return bool(getattr(query, "is_select", False)) and getattr(query, "_for_update_arg", None) is None


def make_engine(url: str, **options) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    engine = create_engine(url, **options)
    if not options.get("pool_pre_ping"):
        _ping_when_idle(engine)
    if parsed.get_driver_name() == "psycopg":
        _reads_outside_transactions(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def str_enum(enum_class, length: int = 20) -> SAEnum:
    """A portable enum column storing the member's value (not its name) as text."""
    return SAEnum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
