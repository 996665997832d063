"""Engines, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from brandpulse.core.errors import MigrationError, StoreError
from brandpulse.core.redaction import redact_secrets

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """One engine per URL per process; SQLite gets WAL, foreign keys and a busy timeout."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # no server-side prepared statements: generic plans made while a table was still empty
    # would keep seq-scanning it after bulk loads
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"prepare_threshold": None})


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success, rolls back on error, and translates DB errors."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StoreError(f"database {redact(url)} failed: {exc.__class__.__name__}: "
                         f"{redact(str(exc).splitlines()[0])}; check it is reachable and run "
                         "`brandpulse init`") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def redact(text: str) -> str:
    """A URL or error text with passwords, tokens and secret parameters hidden, for messages."""
    return redact_secrets(text)


def _alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> str:
    """Create or upgrade the schema to the newest revision; return that revision."""
    from alembic import command

    try:
        with get_engine(url).begin() as connection:
            config = _alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return current_revision(url) or "none"
    except SQLAlchemyError as exc:
        raise MigrationError(f"could not migrate {redact(url)}: {redact(str(exc).splitlines()[0])}; "
                             "check the URL, that the server is up and that you may create tables"
                             ) from exc


def current_revision(url: str) -> str | None:
    """The schema revision the database is at, or None when it was never initialised."""
    engine = get_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reach database {redact(url)}: {redact(str(exc).splitlines()[0])}; "
                         "check the URL and that the server is running") from exc


def head_revision() -> str:
    """The newest migration shipped with this version of brandpulse."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
