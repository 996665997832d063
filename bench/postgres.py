"""PostgreSQL databases for benchmarks: a throwaway one, or a named one kept between runs."""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

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


def run_on_each_database(description: str, bench: Callable[[str, int, int, bool], None], runs: int) -> None:
    """The command line of the 1M-mention benchmarks: ``bench(url, mentions, runs, reuse)`` on SQLite
    (a temporary file, or ``--keep FILE`` filled once) and on PostgreSQL when a server is given
    (a throwaway database, or ``--keep-postgres DB`` filled once)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, help="SQLite file to fill once and reuse on later runs")
    parser.add_argument("--keep-postgres", metavar="DB", help="PostgreSQL database name to fill once and reuse")
    args = parser.parse_args()
    if args.keep:
        print(f"sqlite ({args.keep}), {args.mentions:,} mentions")
        bench(f"sqlite:///{args.keep.resolve()}", args.mentions, args.runs, args.keep.exists())
    elif not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"sqlite, {args.mentions:,} mentions")
            bench(f"sqlite:///{tmp}/bench.db", args.mentions, args.runs, False)
    if args.postgres and args.keep_postgres:
        url, existed = kept_database(args.postgres, args.keep_postgres)
        print(f"postgresql ({args.keep_postgres}), {args.mentions:,} mentions")
        bench(url, args.mentions, args.runs, existed)
    elif args.postgres:
        with throwaway_database(args.postgres) as url:
            print(f"postgresql, {args.mentions:,} mentions")
            bench(url, args.mentions, args.runs, False)
