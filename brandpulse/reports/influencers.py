"""The influencer report: who moves the conversation about a brand in a period, and how."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from brandpulse.services.influence import WEIGHTS, explain_score, gather_inputs, score_rows
from brandpulse.core.settings import Settings
from store.brands import the_brand_named
from store.engine import session_scope
from store.influence import (
    how_often_did_authors_post_about,
    which_posts_of_authors_stand_out,
)
from store.models import utcnow

COMPONENTS = tuple(WEIGHTS)
RETWEET = re.compile(r"^RT @([\w.\-]+):\s*")  # how X writes a retweet's text


@dataclass
class InfluencerReport:
    brand: str
    since: datetime
    until: datetime
    leaderboard: list[dict[str, Any]]
    top_posts: list[dict[str, Any]]
    trend: list[dict[str, Any]]  # {"week", "author", "posts"}
    summary: dict[str, Any] = field(default_factory=dict)
    window_since: datetime | None = None  # the start asked for; ``since``..``until`` is the data's real span


def _week(day: str) -> str:
    moment = date.fromisoformat(day)
    return (moment - timedelta(days=moment.weekday())).isoformat()


def mark_repost(post: dict[str, Any]) -> dict[str, Any]:
    """The post with ``repost_of``: the original author's handle when it is a repost, else None.

    The stored ``reposted_id`` decides (the store resolves it to the original's author); a post imported
    without it still counts as a retweet when its text reads "RT @x: ...".
    """
    if post.get("repost_of"):
        return post
    match = RETWEET.match(post.get("text") or "")
    return {**post, "repost_of": match.group(1) if match else None}


def build_influencer_report(settings: Settings, brand_name: str, since: datetime | None = None,
                            limit: int = 50, until: datetime | None = None) -> InfluencerReport:
    """Score every author who posted about the brand since ``since`` (and before ``until``) and rank them;
    recency is measured at ``until`` when it lies in the past."""
    now = min(until, utcnow()) if until else utcnow()
    since = since or now - timedelta(days=settings.influence.window_days)
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        inputs = gather_inputs(session, settings, since, [brand.id], until=until)
        rows = sorted(score_rows(inputs, now, settings.influence.recency_days), key=lambda r: -r["score"])
        board = []
        for rank, row in enumerate(rows[:limit], 1):
            author = inputs.authors[row["author_id"]]
            board.append({"rank": rank, "handle": author["handle"], "network": author["network"],
                          "profile_url": author.get("profile_url"), "followers": author["followers"] or 0, "tier": row["tier"], "score": row["score"],
                          **{c: row[c] for c in COMPONENTS}, "bot_likelihood": row["bot_likelihood"],
                          "bot_signals": ", ".join(f"{k} {v:.2f}" for k, v in row["bot_signals"].items() if v),
                          "sentiment": row["sentiment"], "positive_posts": row["positive_posts"],
                          "negative_posts": row["negative_posts"], "posts_about_brand": row["posts_about_brand"],
                          "vip": row["vip"], "author_id": row["author_id"]})
        top_ids = [r["author_id"] for r in board[:10]]
        posts = which_posts_of_authors_stand_out(session, brand.id, top_ids, since, until=until) if top_ids else []
        weekly: Counter = Counter()
        handles = {r["author_id"]: r["handle"] for r in board[:10]}
        days = how_often_did_authors_post_about(session, brand.id, [r["author_id"] for r in rows], since, until)
        for author_id, day, count in days:
            if author_id in handles:
                weekly[(_week(day), handles[author_id])] += count
    first = min((day for _, day, _ in days), default=None)
    last = max((r["last_post"] for r in inputs.about if r["brand_id"] == brand.id), default=None)
    tiers = Counter(r["tier"] for r in rows)
    scored = [r["sentiment"] for r in board[:10] if r["sentiment"] is not None]
    summary = {"authors": len(rows), "by_tier": dict(tiers), "vip_authors": sum(r["vip"] for r in rows),
               "likely_bots": sum(r["bot_likelihood"] >= 0.5 for r in rows),
               "top10_sentiment": round(sum(scored) / len(scored), 3) if scored else None,
               "top10_posts": sum(r["posts_about_brand"] for r in board[:10]),
               "posts": sum(r["posts_about_brand"] for r in rows),
               **{f"formula: {what}": how for what, how in explain_score(settings.influence.recency_days)}}
    trend = [{"week": week, "author": author, "posts": n} for (week, author), n in sorted(weekly.items())]
    start = datetime.fromisoformat(first).replace(tzinfo=since.tzinfo) if first else since
    end = last.replace(tzinfo=since.tzinfo) if last and last.tzinfo is None else (last or now)
    return InfluencerReport(brand.name, max(start, since), end, board, [mark_repost(p) for p in posts], trend,
                            summary, window_since=since)
