"""Influence: components on a small constructed graph with known answers, then from a real store."""

from datetime import datetime, timedelta, timezone

import pytest

from brandpulse.influence import (InfluenceInputs, authority_scores, bot_likelihood, bot_signals, mention_edges,
                                  refresh_influence, score_rows)
from brandpulse.records import AuthorRecord, MentionRecord
from brandpulse.tiers import tier_of
from store.engine import session_scope
from store.influence import who_leads_the_conversation
from store.mentions import save_mentions

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def test_tiers_follow_the_follower_bounds():
    assert [tier_of(n) for n in (0, 9_999, 10_000, 99_999, 100_000, 499_999, 500_000, 999_999, 1_000_000)] == \
        ["nano", "nano", "micro", "micro", "mid", "mid", "macro", "macro", "mega"]


def test_pagerank_authority_on_a_star_matches_the_closed_form():
    # three leaves reply to a hub; with a dangling hub, PageRank solves to hub 0.541985, leaf 0.152672
    authority = authority_scores([(1, 9, 1), (2, 9, 1), (3, 9, 1)])
    assert authority[9] == 1.0
    assert authority[1] == authority[2] == authority[3] == pytest.approx((0.152672 / 0.541985) ** 0.5, abs=1e-4)


def test_mentions_in_text_become_edges_to_known_handles_only():
    handles = {("x", "hub"): 9, ("x", "leaf"): 1}
    edges = mention_edges([(1, "x", "thanks @Hub and @hub!"), (1, "x", "me @leaf"), (2, "x", "@nobody"),
                           (3, "reddit", "@hub on reddit is someone else")], handles)
    assert edges == [(1, 9, 1)]  # counted once per post, never self, network-local


def test_bot_signals_each_fire_on_their_own_evidence():
    base = {"posts": 10, "distinct_texts": 10, "followers": 100, "following": 50, "post_count": 100,
            "created_at": NOW - timedelta(days=400), "first_post": NOW - timedelta(days=9), "last_post": NOW}
    assert bot_signals(base, NOW) == {"posting_rate": 0, "follow_ratio": 0, "account_age": 0, "duplicate_texts": 0}
    bot = {**base, "post_count": 2000, "created_at": NOW - timedelta(days=10), "following": 5000,
           "followers": 10, "distinct_texts": 2}
    signals = bot_signals(bot, NOW)
    assert signals == {"posting_rate": 1.0, "follow_ratio": 0.98, "account_age": pytest.approx(0.667, abs=1e-3),
                       "duplicate_texts": 1.0}
    assert bot_likelihood(signals) == 1.0


def author(followers, engagement, posts, network="x", handle="a", **extra):
    return {"network": network, "handle": handle, "followers": followers, "following": 10, "post_count": None,
            "created_at": None, "posts": posts, "mean_engagement": engagement, "distinct_texts": posts,
            "first_post": NOW - timedelta(days=30), "last_post": NOW, **extra}


def test_score_is_the_weighted_sum_of_its_components():
    inputs = InfluenceInputs(
        authors={1: author(9_999_999, 999, 5, handle="Star"), 2: author(99, 9, 4)},
        about=[{"author_id": 1, "brand_id": 1, "posts": 5, "last_post": NOW, "sentiment": 0.5},
               {"author_id": 2, "brand_id": 1, "posts": 2, "last_post": NOW - timedelta(days=30), "sentiment": None}],
        authority={1: 1.0, 2: 0.53074}, vip={("x", "star")})
    star, small = score_rows(inputs, NOW)
    assert star["score"] == pytest.approx(100.0, abs=0.01) and star["tier"] == "mega" and star["vip"]
    assert (small["reach"], small["engagement"], small["relevance"]) == pytest.approx((2 / 7, 1 / 3, 0.5), abs=1e-4)
    assert small["recency"] == pytest.approx(0.3679, abs=1e-4)
    assert small["score"] == pytest.approx(37.63, abs=0.01) and small["tier"] == "nano" and not small["vip"]


def test_refresh_scores_the_store_and_the_replied_to_author_leads(write_config, database_url):
    settings = write_config(influence={"vip": {"x": ["@critic"]}})
    hub = AuthorRecord("x", "h", handle="hub", followers=50_000)
    records = [MentionRecord(network="x", native_id="root", text="Nimbus Mobile launches eSIM", created_at=NOW,
                             brands=["Nimbus Mobile"], author=hub, likes=200, reposts=40)]
    for i in range(6):
        records.append(MentionRecord(
            network="x", native_id=f"r{i}", text=f"@hub Nimbus Mobile eSIM works? {i}", in_reply_to_id="root",
            created_at=NOW + timedelta(minutes=i), brands=["Nimbus Mobile"],
            author=AuthorRecord("x", f"f{i}", handle="critic" if i == 0 else f"fan{i}", followers=20)))
    with session_scope(database_url) as session:
        save_mentions(session, records)
    assert refresh_influence(settings, now=NOW + timedelta(hours=1)) == 7
    with session_scope(database_url) as session:
        board = who_leads_the_conversation(session, 1)
    assert board[0]["handle"] == "hub" and board[0]["authority"] == 1.0 and board[0]["tier"] == "micro"
    assert all(row["authority"] < 1.0 for row in board[1:])
    assert [row["handle"] for row in board if row["vip"]] == ["critic"]
