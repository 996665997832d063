"""Benchmark: reply click → the network accepted it, against local fakes of each network (issue 18).

    python bench/reply_latency.py [--replies 50] [--database URL]

For each network (X, Reddit, Mastodon, Bluesky) a fake reply server runs locally; an agent sends
--replies replies on as many tickets the way the dashboard does (send_reply, then an immediate
publish of that reply) and the time until the fake server holds the post is recorded. Prints
p50, p95 and max per network: the cost of our path (database, outbox, client library), since
the fakes answer at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brandpulse.services import publishing, replying  # noqa: E402
from brandpulse.services.accounts import create_user  # noqa: E402
from brandpulse.services.pipeline import analyze_pending  # noqa: E402
from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from brandpulse.core.settings import load_settings  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store.engine import migrate, session_scope  # noqa: E402
from store.mentions import save_mentions  # noqa: E402
from store.ticket_detail import which_of_these_posts_have_tickets  # noqa: E402
from tests.fake_networks import fake_network  # noqa: E402

TEXT = "@nimbus Nimbus Mobile charged me twice this month, awful, I want a refund #{}"


def measure(network: str, replies: int, url: str, folder: Path) -> list[float]:
    with fake_network(network, timeout_seconds=10) as (server, account, env):
        os.environ.update(env)
        config = folder / f"{network}.yaml"
        config.write_text(yaml.safe_dump({
            "brands": [{"name": "Nimbus Mobile", "query": '"nimbus mobile"'}], "database": {"url": url},
            "nlp": {"analyzer": "lexicon"},
            "care": {"teams": [{"name": "care", "auto_assign": False}], "default_team": "care", "merge_window_hours": 0,
                     "reply_accounts": [{**account.model_dump(mode="json"), "per_minute": 600}]}}))
        settings = load_settings(config)
        agent = create_user(settings, None, f"agent_{network}", "secret-pass-1", "care_agent", "care")
        targets = [server.target(TEXT.format(i)) for i in range(replies)]
        with session_scope(url) as session:
            save_mentions(session, [MentionRecord(
                network=t.network, native_id=t.native_id, text=t.text, brands=["Nimbus Mobile"], url=t.url,
                raw=t.raw, created_at=datetime.now(timezone.utc) - timedelta(minutes=1),
                author=AuthorRecord(t.network, f"{t.network}-{i}", handle=t.author_handle or "alice"))
                for i, t in enumerate(targets)])
        analyze_pending(settings)
        triage_new(settings)
        with session_scope(url) as session:
            assert len(which_of_these_posts_have_tickets(session, network, [t.native_id for t in targets])) == replies
        tickets = [row["id"] for row in _tickets(settings, agent)]
        latencies = []
        for tid in tickets:
            before = len(server.created)
            started = time.perf_counter()
            version = replying.reply_options(settings, agent, tid)["version"]
            queued = replying.send_reply(settings, agent, tid, "Sorry about that, a refund is on its way", version)
            publishing.publish_due(settings, reply_id=queued["id"])
            if len(server.created) != before + 1:
                raise SystemExit(f"{network}: reply on ticket #{tid} was not accepted")
            latencies.append(time.perf_counter() - started)
        return latencies


def _tickets(settings, agent) -> list[dict]:
    from brandpulse.services import care

    return care.inbox(settings, agent, "all teams", limit=10_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file per network)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for network in ("x", "reddit", "mastodon", "bluesky"):
            url = args.database or f"sqlite:///{tmp}/{network}.db"
            migrate(url)
            found = sorted(measure(network, args.replies, url, Path(tmp)))
            p95 = found[min(len(found) - 1, int(0.95 * len(found)))]
            print(f"{network:9s} {len(found)} replies: click → accepted p50 {statistics.median(found) * 1000:6.0f} ms, "
                  f"p95 {p95 * 1000:6.0f} ms, max {found[-1] * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
