"""Benchmark: forgetting one author with 10,000 posts at 1M mentions, SQLite and PostgreSQL.

    python bench/forget.py build [--postgres URL]     # fill the shared 1M databases once
    python bench/forget.py [--postgres URL] [--posts 10000]

``build`` fills the kept databases bench/api.py reuses (/tmp/bench_api_1m.db and the PostgreSQL
database brandpulse_bench_api_1m: mentions, analyses, a ``lead`` user, tickets, rollups, search
index) and writes /work/notes/bench_db_ready with their paths. The benchmark never touches them:
it copies the SQLite file and makes PostgreSQL ``CREATE DATABASE … TEMPLATE`` of the kept one, gives
``--posts`` mentions of the copy to one author, then times ``forget_person`` on it (end to end:
the one transaction, the search-index scrub, SQLite's WAL checkpoint / PostgreSQL's VACUUM).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bench.dashboard import bench_settings, fill  # noqa: E402
from bench.postgres import _sibling, kept_database  # noqa: E402
from brandpulse.services.pipeline import refresh_overview  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store.engine import get_engine, migrate, normalize_url, session_scope  # noqa: E402
from store.models import User  # noqa: E402
from store.users import add_user  # noqa: E402

SQLITE_KEPT = Path("/tmp/bench_api_1m.db")
POSTGRES_KEPT = "brandpulse_bench_api_1m"
READY = Path("/work/notes/bench_db_ready")
MENTIONS = 1_000_000


def _filled(url: str) -> bool:
    migrate(url)
    with session_scope(url) as session:
        return session.execute(select(User.id).where(User.username == "lead")).first() is not None


def build_one(url: str, count: int = MENTIONS) -> None:
    """Fill ``url`` exactly as bench/api.py does (so either can reuse the other's database)."""
    if _filled(url):
        print(f"  {url}: already filled")
        return
    now, started, settings = datetime.now(timezone.utc), time.perf_counter(), bench_settings(url)
    fill(settings, count, now)
    with session_scope(url) as session:
        add_user(session, "lead", "bench-password", "care_lead", team="care")
    triage_new(settings, now=now)
    refresh_overview(settings)
    print(f"  {url}: filled {count:,} mentions, tickets and rollups in {time.perf_counter() - started:.0f}s",
          flush=True)


def build(postgres: str | None) -> None:
    """Fill the shared kept databases and say so in the notes file."""
    build_one(f"sqlite:///{SQLITE_KEPT}")
    lines = [f"sqlite: {SQLITE_KEPT} (sqlite:///{SQLITE_KEPT})"]
    if postgres:
        url, _ = kept_database(postgres, POSTGRES_KEPT)
        build_one(url)
        lines.append(f"postgresql: {POSTGRES_KEPT} ({url})")
    lines.append("built by bench/forget.py build (same filling as bench/api.py); work on copies: "
                 "cp the SQLite file, CREATE DATABASE x TEMPLATE " + POSTGRES_KEPT)
    READY.write_text("\n".join(lines) + "\n")
    print(READY.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="bench", choices=["bench", "build"])
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL"))
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if args.what == "build":
        build(args.postgres)
        return
    bench_all(args.postgres, args.posts, args.skip_sqlite)


def _give_posts(url: str, posts: int) -> tuple[str, str]:
    """Make author #1 the writer of ``posts`` mentions of its network; (network, handle)."""
    with session_scope(url) as session:
        network, handle = session.execute(text("SELECT network, handle FROM authors WHERE id = 1")).one()
        session.execute(text("UPDATE mentions SET author_id = 1 WHERE id IN (SELECT id FROM mentions "
                             "WHERE network = :n ORDER BY id LIMIT :k)"), {"n": network, "k": posts})
        if session.execute(select(User.id).where(User.username == "people-admin")).first() is None:
            add_user(session, "people-admin", "bench-password", "admin")
    return network, handle


def bench_one(url: str, posts: int) -> None:
    """Time one forget of an author with ``posts`` posts on the copy at ``url``."""
    from brandpulse.services.accounts import actor_of
    from brandpulse.services.people import PersonSelector, export_person, forget_person
    from store import forgetting

    network, handle = _give_posts(url, posts)
    if not url.startswith("sqlite"):  # as autovacuum keeps a live database: the forget's VACUUM skips clean pages
        with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
    with session_scope(url) as session:
        admin = actor_of(session.execute(select(User).where(User.username == "people-admin")).scalar_one())
    settings = bench_settings(url)
    started = time.perf_counter()
    exported = export_person(settings, admin, PersonSelector(network=network, handle=handle))
    print(f"  export of that author: {time.perf_counter() - started:.1f} s, "
          f"{sum(exported['counts'].values()):,} rows", flush=True)
    wiped = []
    wipe_traces = forgetting.wipe_traces

    def timed_wipe(target: str) -> None:  # the share of compaction / checkpoint / VACUUM in the forget
        began = time.perf_counter()
        wipe_traces(target)
        wiped.append(time.perf_counter() - began)
    forgetting.wipe_traces = timed_wipe
    started = time.perf_counter()
    try:
        summary = forget_person(settings, admin, PersonSelector(network=network, handle=handle))
    finally:
        forgetting.wipe_traces = wipe_traces
    took, wipe = time.perf_counter() - started, sum(wiped)
    with session_scope(url) as session:
        erased = session.execute(text("SELECT COUNT(*) FROM mentions WHERE author_id = 1 AND text = '' "
                                      "AND erased_reason = 'forgotten'")).scalar_one()
    print(f"  forget of an author with {erased:,} posts: {took:.1f} s (of which {wipe:.1f} s after the commit: "
          f"{'search index optimize and WAL checkpoint' if url.startswith('sqlite') else 'VACUUM'}); counts {summary.counts}", flush=True)


def bench_all(postgres: str | None, posts: int, skip_sqlite: bool = False) -> None:
    """Run the forget on a copy of each kept database (the kept ones are never changed)."""
    if not skip_sqlite:
        if not SQLITE_KEPT.exists():
            raise SystemExit(f"{SQLITE_KEPT} is missing: run `python bench/forget.py build` first")
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            copy = Path(tmp) / "forget.db"
            for suffix in ("", "-wal"):
                if Path(f"{SQLITE_KEPT}{suffix}").exists():
                    shutil.copy(f"{SQLITE_KEPT}{suffix}", f"{copy}{suffix}")
            print(f"sqlite (copy of {SQLITE_KEPT})", flush=True)
            bench_one(f"sqlite:///{copy}", posts)
            get_engine(f"sqlite:///{copy}").dispose()
    if not postgres:
        return
    admin = create_engine(normalize_url(postgres), isolation_level="AUTOCOMMIT")
    name = "people_forget_bench"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{POSTGRES_KEPT}"'))
    url = _sibling(postgres, name)
    try:
        print(f"postgresql (copy of {POSTGRES_KEPT})", flush=True)
        bench_one(url, posts)
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
