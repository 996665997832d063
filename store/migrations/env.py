"""Alembic environment: runs on the connection handed over by ``store.engine.migrate``."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables)
import store.models_api  # noqa: F401
import store.models_rights  # noqa: F401

target_metadata = SQLModel.metadata


UNMODELLED = ("mention_fts", "mention_search")  # search index tables made by raw DDL (0006)


def _include(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name and name.startswith(UNMODELLED))


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_object=_include,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic` command line (developers generating revisions)
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
