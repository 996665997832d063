"""Benchmark: the store queries behind each dashboard page, at 1M mentions, SQLite and PostgreSQL.

    python bench/dashboard.py [--mentions 1000000] [--runs 30] [--postgres URL] [--keep DIR]

Fills a fresh database (9 brands, 5 networks, 90 days, an analysis per mention, tickets from
triage, rollups), then times, uncached, every store call each page makes, with filters drawn
at random (brand, 7/30/90 days, sometimes a network or sentiment). Prints p50/p95/max per
page. Target: p95 <= 300 ms per page at 1M mentions.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from datetime import time as day_start
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.postgres import run_on_each_database  # noqa: E402
from brandpulse.services import care  # noqa: E402
from brandpulse.services.access import Actor  # noqa: E402
from brandpulse.services.pipeline import refresh_overview  # noqa: E402
from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from brandpulse.core.settings import Settings  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store import queries  # noqa: E402
from store.alerts import which_alerts_fired  # noqa: E402
from store.analyses import save_analyses  # noqa: E402
from store.brands import sync_brands, which_brands_are_tracked, who_are_the_rivals_of  # noqa: E402
from store.collectors import (  # noqa: E402
    how_many_records_were_quarantined,
    which_gaps_did_sources_have,
    which_sources_report_health,
)
from store.engine import migrate, session_scope  # noqa: E402
from store.mentions import save_mentions  # noqa: E402
from store.models import Mention, User  # noqa: E402
from store.overview import what_are_the_top_terms  # noqa: E402
from store.tickets import how_many_tickets_by_status  # noqa: E402
from store.users import add_user  # noqa: E402

OWN = ["Nimbus Mobile", "Brewhaven", "Lumen Bank"]
NETWORKS = ["x", "reddit", "bluesky", "mastodon", "rss"]
ASPECTS = ["billing", "refund", "delivery", "app", "network", "customer service", "battery"]
PLACES = ["Dublin", "Leeds", "Austin", "Porto", "Toronto"]


def bench_settings(url: str) -> Settings:
    """Three own brands with two rivals each; tickets only for the last three days."""
    return Settings.model_validate({"brands": [
        {"name": name, "query": f'"{name.lower()}"',
         "competitors": [{"name": f"{name} Rival {i}", "query": f'"{name.lower()} rival {i}"'} for i in (1, 2)]}
        for name in OWN], "database": {"url": url}, "care": {"ticket_max_age_days": 3}})


def fill(settings: Settings, count: int, now: datetime, batch: int = 5000) -> None:
    rng = random.Random(7)
    url = settings.database.url
    names = [b.name for b in settings.brands] + [c.name for b in settings.brands for c in b.competitors]
    weights = [4 if n in OWN else 1 for n in names]
    authors = [AuthorRecord(rng.choice(NETWORKS), f"a{i}", handle=f"user{i}",
                            followers=int(10 / (1 - rng.random()) ** 0.9)) for i in range(count // 10)]
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
    chunk: list[MentionRecord] = []
    for i in range(count):
        author = rng.choice(authors)
        chunk.append(MentionRecord(
            network=author.network, native_id=str(i), author=author, brands=rng.choices(names, weights)[:1],
            created_at=now - timedelta(seconds=rng.random() * 90 * 86400),
            text=f"post {i} " + " ".join(rng.choices(["bill", "signal", "great", "refund", "app", "slow"], k=10)),
            likes=rng.randint(0, 40), replies=rng.randint(0, 4), reposts=rng.randint(0, 4)))
        if len(chunk) == batch or i == count - 1:
            with session_scope(url) as session:
                save_mentions(session, chunk)
            chunk = []
    analyse(url, rng)


def analyse(url: str, rng: random.Random, batch: int = 5000) -> None:
    last = 0
    while True:
        with session_scope(url) as session:
            ids = list(session.execute(select(Mention.id).where(Mention.id > last).order_by(Mention.id)
                                       .limit(batch)).scalars())
            if not ids:
                return
            results = {}
            for mention_id in ids:
                sentiment = rng.choices(["negative", "neutral", "positive"], [3, 4, 3])[0]
                complaint = sentiment == "negative" and rng.random() < 0.5
                entities = [{"text": rng.choice(ASPECTS), "label": "ASPECT"}]
                if rng.random() < 0.3:
                    entities.append({"text": rng.choice(PLACES), "label": "GPE"})
                results[mention_id] = {
                    "model_name": "bench", "model_version": "1", "language": rng.choice(["en"] * 8 + ["de", "es"]),
                    "sentiment": sentiment, "sentiment_scores": {sentiment: 0.8}, "emotion": "anger",
                    "complaint": complaint, "complaint_score": 0.9 if complaint else 0.1,
                    "intents": ["complaint"] if complaint else ["other"],
                    "primary_intent": "complaint" if complaint else rng.choice(["question", "praise", "other"]),
                    "entities": entities, "language_supported": True}
            save_analyses(session, results)
            last = ids[-1]


def pages(settings: Settings, rng: random.Random, now: datetime, actor: Actor) -> dict:
    """Page name -> a function running that page's store calls once with random filters."""
    url = settings.database.url
    with session_scope(url) as session:
        brands = {b.name: b.id for b in which_brands_are_tracked(session)}

    def flt(search: str = "") -> queries.MentionFilter:
        days = rng.choice([7, 30, 90])
        until = datetime.combine(now.date() + timedelta(days=1), day_start.min, timezone.utc)
        return queries.MentionFilter(
            brand_ids=(brands[rng.choice(OWN)],), since=until - timedelta(days=days), until=until,
            networks=tuple(rng.sample(NETWORKS, 1)) if rng.random() < 0.3 else (),
            sentiments=("negative",) if rng.random() < 0.2 else (), search=search)

    def overview():
        f = flt()
        with session_scope(url) as session:
            which_brands_are_tracked(session)
            rivals = who_are_the_rivals_of(session, f.brand_ids[0])
            queries.which_networks_and_languages_appear(session)
            queries.what_are_the_headline_figures(session, f)
            queries.how_many_tickets_are_open(session)
            queries.how_many_mentions_per_day(session, f)
            queries.what_is_the_share_of_voice(session, f.brand_ids + tuple(r.id for r in rivals), f)
            what_are_the_top_terms(session, f, ("ASPECT",))
            what_are_the_top_terms(session, f, ("ORG", "GPE", "PRODUCT"))

    def mentions(search: str = ""):
        f = flt(search)
        with session_scope(url) as session:
            queries.which_networks_and_languages_appear(session)
            rows = queries.which_mentions_match(session, f, 500)
            if rows:
                queries.what_do_we_know_about_mention(session, rows[0]["id"])

    def inbox():
        with session_scope(url) as session:
            how_many_tickets_by_status(session)
        rows = care.inbox(settings, actor, rng.choice(["all teams", "my team", "unassigned"]))
        if rows:
            care.ticket_context(settings, actor, rows[0]["id"])

    def alerts():
        with session_scope(url) as session:
            which_alerts_fired(session)

    def sources():
        with session_scope(url) as session:
            which_sources_report_health(session)
            which_gaps_did_sources_have(session)
            how_many_records_were_quarantined(session)

    return {"Overview": overview, "Mentions": mentions, "Mentions (common word)": lambda: mentions("refund"),
            "Mentions (rare word)": lambda: mentions("post 4242 "),
            "Care inbox": inbox, "Alerts": alerts, "Sources": sources}


def bench(url: str, count: int, runs: int, reuse: bool = False) -> None:
    now = datetime.now(timezone.utc)
    settings = bench_settings(url)
    migrate(url)
    if not reuse:
        started = time.perf_counter()
        fill(settings, count, now)
        print(f"  filled {count:,} mentions + analyses in {time.perf_counter() - started:.0f}s")
        with session_scope(url) as session:
            add_user(session, "lead", "bench-password", "care_lead", team="care")
        started = time.perf_counter()
        tickets = triage_new(settings, now=now)
        print(f"  triage opened {tickets:,} tickets in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        days = refresh_overview(settings)
        print(f"  rollups ({days} days), search index and planner statistics in {time.perf_counter() - started:.1f}s")
    with session_scope(url) as session:
        lead = session.execute(select(User).where(User.username == "lead")).scalar_one()
        actor = Actor(lead.id, lead.username, lead.role, lead.team)
    rng = random.Random(11)
    for name, page in pages(settings, rng, now, actor).items():
        page()  # warm the connection and the OS cache
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            page()
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"  {name:<24} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
              f"max {times[-1]:7.1f} ms   {'ok' if p95 <= 300 else 'OVER 300 ms'}")


def main() -> None:
    run_on_each_database(__doc__.splitlines()[0], bench, runs=30)


if __name__ == "__main__":
    main()
