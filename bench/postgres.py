"""PostgreSQL databases for benchmarks: a throwaway one, or a named one kept between runs."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text

from store.engine import get_engine, normalize_url


def _sibling(server_url: str, name: str) -> str:
    return normalize_url(server_url).rsplit("/", 1)[0] + "/" + name


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Create a fresh database next to ``server_url``'s, yield its URL, drop it afterwards."""
    name = f"brandpulse_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _sibling(server_url, name)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def kept_database(server_url: str, name: str) -> tuple[str, bool]:
    """The URL of database ``name`` (created when missing) and whether it existed already."""
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        existed = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not existed:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    return _sibling(server_url, name), bool(existed)
