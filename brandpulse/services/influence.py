"""Influence, explained: reach, engagement, authority, relevance and recency, 0-100.

score = 100 · Σ weight · component, then lowered by the bot likelihood: score · (1 − bot_likelihood).

- reach: log10(1 + followers) / 7 (10M followers = 1);
- engagement: log10(1 + mean likes + replies + reposts + quotes per post) / 3 (1,000 a post = 1);
- authority: PageRank over who replied to, quoted, reposted or @mentioned whom, relative to the top
  author, with a reach prior: every author starts from log10(10 + followers) (PageRank's teleport
  vector) and an interaction passes on DAMPING = 0.5 of the sender's authority. A big account that
  nobody in the sample answered keeps the authority of its audience, and one reply from a small
  account adds about half of that small account's weight, never a fixed bonus (the old, unprimed
  PageRank gave 0 to every author outside the graph and +12 points for one reply received);
- relevance: the share of the author's posts in the window that are about the brand;
- recency: exp(−days since their last post about the brand / recency_days).

Sentiment towards the brand is (positive − negative) / (positive + negative) over the author's
opinionated posts about it; neutral and unanalysed posts do not count, and it is None when no post
is opinionated. Every component, the counts and every bot signal are stored or shown.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import networkx as nx

from brandpulse.core.tiers import tier_of
from store.brands import which_brands_are_tracked
from store.engine import session_scope
from store.influence import (
    how_did_authors_post,
    how_did_authors_talk_about_brands,
    save_influence,
    which_texts_may_mention_someone,
    who_answered_quoted_or_reposted_whom,
)
from store.models import utcnow

WEIGHTS = {"reach": 0.35, "engagement": 0.25, "authority": 0.20, "relevance": 0.10, "recency": 0.10}
COMPONENT_FORMULAS = {
    "reach": "log10(1 + followers) / 7, 10M followers = 1",
    "engagement": "log10(1 + mean likes+replies+reposts+quotes per post) / 3, 1,000 a post = 1",
    "authority": "PageRank of replies, quotes, reposts, @mentions; prior log10(10 + followers), "
                 "damping 0.5; top author = 1",
    "relevance": "share of the author's posts about the brand",
    "recency": "exp(-days since their last post about the brand / {recency_days})",
}
DAMPING = 0.5  # share of an author's authority that an interaction passes on
HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.\-]{0,99})")


def reach_prior(followers: int | None) -> float:
    """Where an author's authority starts: log10(10 + followers), 1 for no audience, 7 for 10M."""
    return math.log10(10 + max(followers or 0, 0))


def authority_scores(edges: Iterable[tuple[int, int, int]], prior: dict[int, float] | None = None,
                     damping: float = DAMPING) -> dict[int, float]:
    """PageRank over the (from, to, times) interaction graph with a reach prior, scaled so the top is 1.

    A reply, quote, repost or @mention from A to B passes ``damping`` of A's authority to B; the
    rest of every author's authority (and all of it for authors nobody answered) comes from the
    prior, an author's ``reach_prior`` (PageRank's teleport vector). So every author in ``prior`` is
    ranked, an account that nobody in the sample answered keeps the authority of its audience,
    and one reply from a small account adds about half of that account's own authority, not a
    fixed bonus. Without a prior, every author starts equal (classic PageRank).
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(prior or ())
    for source, target, times in edges:
        if source != target:
            weight = graph.get_edge_data(source, target, {"weight": 0})["weight"]
            graph.add_edge(source, target, weight=weight + times)
    if graph.number_of_nodes() == 0:
        return {}
    teleport = None
    if prior:
        teleport = {node: prior.get(node, reach_prior(0)) for node in graph}
    ranks = nx.pagerank(graph, alpha=damping, personalization=teleport, weight="weight")
    top = max(ranks.values())
    return {node: rank / top for node, rank in ranks.items()}


def mention_edges(texts: Iterable[tuple[int, str, str]], handles: dict[tuple[str, str], int]
                  ) -> list[tuple[int, int, int]]:
    """(from, to, times) edges for @handles in post texts that name a known author."""
    counts: Counter = Counter()
    for author_id, network, text in texts:
        for handle in {h.lower().rstrip(".-") for h in HANDLE.findall(text or "")}:
            target = handles.get((network, handle))
            if target is not None and target != author_id:
                counts[(author_id, target)] += 1
    return [(a, b, n) for (a, b), n in counts.items()]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def bot_signals(author: dict[str, Any], now: datetime) -> dict[str, float]:
    """Each bot signal 0..1: posting rate, follower/following ratio, account age, duplicate texts."""
    signals = {}
    age_days = (now - author["created_at"]).total_seconds() / 86400 if author.get("created_at") else None
    if author.get("post_count") and age_days:
        rate = author["post_count"] / max(age_days, 1.0)
    else:
        span = (author["last_post"] - author["first_post"]).total_seconds() / 86400 if author.get("first_post") else 0
        rate = author["posts"] / max(span, 1.0)
    signals["posting_rate"] = round(_clamp((rate - 20) / 80), 3)  # 20 posts/day fine, 100 a bot
    following, followers = author.get("following") or 0, author.get("followers") or 0
    signals["follow_ratio"] = round(_clamp(1 - (followers / following) / 0.1), 3) if following >= 500 else 0.0
    signals["account_age"] = round(_clamp((30 - age_days) / 30), 3) if age_days is not None else 0.0
    duplicates = 1 - author["distinct_texts"] / author["posts"] if author["posts"] >= 3 else 0.0
    signals["duplicate_texts"] = round(_clamp((duplicates - 0.2) / 0.6), 3)
    return signals


def bot_likelihood(signals: dict[str, float]) -> float:
    """Noisy-or of the signals: one strong signal is enough to be suspicious."""
    return round(1 - math.prod(1 - s for s in signals.values()), 3)


@dataclass
class InfluenceInputs:
    """What scoring reads, as store queries return it."""
    authors: dict[int, dict[str, Any]]  # author id -> profile and posting stats
    about: list[dict[str, Any]]  # per (author, brand): posts, last post, sentiment
    authority: dict[int, float]
    vip: set[tuple[str, str]]  # (network, lower-case handle)


def explain_score(recency_days: float = 30.0) -> list[tuple[str, str]]:
    """(what, how) pairs: the score's formula, each component with its weight, and sentiment."""
    weighted = " + ".join(f"{weight:.2f} x {name}" for name, weight in WEIGHTS.items())
    return [("score", f"100 x ({weighted}) x (1 - bot likelihood)"),
            *((f"{name} (weight {WEIGHTS[name]:.2f})", text.format(recency_days=f"{recency_days:g}"))
              for name, text in COMPONENT_FORMULAS.items()),
            ("sentiment", "(positive - negative) / (positive + negative) posts about the brand; "
                          "neutral posts do not count; blank when none is opinionated")]


def brand_sentiment(positive: int, negative: int) -> float | None:
    """(positive − negative) / (positive + negative), rounded; None when no post is opinionated."""
    opinionated = positive + negative
    return round((positive - negative) / opinionated, 3) if opinionated else None


def score_rows(inputs: InfluenceInputs, now: datetime, recency_days: float = 30.0) -> list[dict[str, Any]]:
    """One row per (author, brand) with the score, tier, components and bot signals."""
    rows = []
    for item in inputs.about:
        author = inputs.authors.get(item["author_id"])
        if author is None:
            continue
        components = {
            "reach": _clamp(math.log10(1 + (author["followers"] or 0)) / 7),
            "engagement": _clamp(math.log10(1 + float(author["mean_engagement"] or 0)) / 3),
            "authority": inputs.authority.get(item["author_id"], 0.0),
            "relevance": _clamp(item["posts"] / max(author["posts"], 1)),
            "recency": math.exp(-max((now - item["last_post"]).total_seconds(), 0) / 86400 / recency_days),
        }
        signals = bot_signals(author, now)
        likelihood = bot_likelihood(signals)
        base = 100 * sum(WEIGHTS[name] * value for name, value in components.items())
        rows.append({"author_id": item["author_id"], "brand_id": item["brand_id"],
                     "score": round(base * (1 - likelihood), 2), "tier": tier_of(author["followers"]),
                     **{name: round(value, 4) for name, value in components.items()},
                     "bot_likelihood": likelihood, "bot_signals": signals,
                     "posts_about_brand": item["posts"], "posts_total": author["posts"],
                     "positive_posts": item["positive_posts"], "negative_posts": item["negative_posts"],
                     "sentiment": brand_sentiment(item["positive_posts"], item["negative_posts"]),
                     "vip": (author["network"], (author["handle"] or "").lower()) in inputs.vip,
                     "computed_at": now})
    return rows


def window_start(now: datetime, days: int) -> datetime:
    """The start of the scoring window."""
    return now - timedelta(days=days)


def gather_inputs(session, settings, since: datetime, brand_ids=None, until: datetime | None = None) -> InfluenceInputs:
    """Read authors, per-brand posting and the interaction graph (replies, quotes, reposts, @mentions)
    from posts since ``since`` (and before ``until`` when given)."""
    authors = how_did_authors_post(session, since, until)
    handles = {(a["network"], (a["handle"] or "").lower()): author_id for author_id, a in authors.items()
               if a["handle"]}
    edges = who_answered_quoted_or_reposted_whom(session, since, until)
    edges += mention_edges(which_texts_may_mention_someone(session, since, until=until), handles)
    vip = {(network, handle.lower().lstrip("@")) for network, names in settings.influence.vip.items()
           for handle in names}
    prior = {author_id: reach_prior(a["followers"]) for author_id, a in authors.items()}
    return InfluenceInputs(authors, how_did_authors_talk_about_brands(session, since, brand_ids, until),
                           authority_scores(edges, prior), vip)


def refresh_influence(settings, now: datetime | None = None) -> int:
    """Recompute and store every author's influence on every tracked brand; return how many rows."""
    now = now or utcnow()
    with session_scope(settings.database.url) as session:
        inputs = gather_inputs(session, settings, window_start(now, settings.influence.window_days))
        rows = score_rows(inputs, now, settings.influence.recency_days)
        by_brand: dict[int, list[dict]] = {}
        for row in rows:
            by_brand.setdefault(row["brand_id"], []).append(row)
        for brand in which_brands_are_tracked(session):
            save_influence(session, brand.id, by_brand.get(brand.id, []))
    return len(rows)
