"""Alembic environment: the URL comes from the caller (pb.schema) or from pb's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import pb.models  # noqa: F401  (registers every table on the metadata)
from pb.config import default_config_path, load_settings
from pb.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("database_url") or load_settings(default_config_path())["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("pb runs migrations online only: use `pb db upgrade`")
run_migrations_online()
