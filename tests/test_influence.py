"""Influence: components on a small constructed graph with known answers, then from a real store,
the demo's ranking, and what the exports say about the score."""

import csv
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select

from brandpulse.services.influence import (InfluenceInputs, authority_scores, bot_likelihood, bot_signals, brand_sentiment,
                                  mention_edges, reach_prior, refresh_influence, score_rows)
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.reports.export import export_influencers
from brandpulse.reports.influencers import build_influencer_report
from brandpulse.core.tiers import tier_of
from store.brands import the_brand_named
from store.engine import session_scope
from store.influence import who_leads_the_conversation
from store.mentions import save_mentions
from store.models import Analysis, Mention

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def test_tiers_follow_the_follower_bounds():
    assert [tier_of(n) for n in (0, 9_999, 10_000, 99_999, 100_000, 499_999, 500_000, 999_999, 1_000_000)] == \
        ["nano", "nano", "micro", "micro", "mid", "mid", "macro", "macro", "mega"]


def test_pagerank_authority_on_a_star_matches_the_closed_form():
    # three leaves reply to a hub; with a dangling hub, PageRank (0.85) solves to hub 0.541985, leaf 0.152672
    authority = authority_scores([(1, 9, 1), (2, 9, 1), (3, 9, 1)], damping=0.85)
    assert authority[9] == 1.0
    assert authority[1] == authority[2] == authority[3] == pytest.approx(0.152672 / 0.541985, abs=1e-4)


def test_a_reach_prior_keeps_big_accounts_authority_and_one_reply_is_no_jackpot():
    # 1 (32 followers) replies to 2 (32 followers); 9 (2.4M) is answered by nobody in the sample
    prior = {1: reach_prior(32), 2: reach_prior(32), 9: reach_prior(2_400_000)}
    authority = authority_scores([(1, 2, 1)], prior)
    assert authority[9] == 1.0  # the unprimed PageRank left it out of the graph: authority 0
    assert authority[1] < authority[2] < 0.45  # the reply counts, but weighs the replier's reach, not +12 points
    assert authority[2] / authority[1] == pytest.approx(1.5, abs=0.05)  # damping 0.5: half the replier's weight
    assert 0.2 < authority[1] < 0.3  # log10(42) / log10(2.4M) without the graph


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
        about=[{"author_id": 1, "brand_id": 1, "posts": 5, "last_post": NOW, "positive_posts": 3, "negative_posts": 1},
               {"author_id": 2, "brand_id": 1, "posts": 2, "last_post": NOW - timedelta(days=30),
                "positive_posts": 0, "negative_posts": 0}],
        authority={1: 1.0, 2: 0.53074}, vip={("x", "star")})
    star, small = score_rows(inputs, NOW)
    assert star["score"] == pytest.approx(100.0, abs=0.01) and star["tier"] == "mega" and star["vip"]
    assert star["sentiment"] == 0.5 and small["sentiment"] is None
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


def test_demo_ranks_big_accounts_with_brand_posts_above_one_post_nano_accounts(demo):
    """On the demo's 1,700 authors: every author has authority, a 100k+ account that posted about a brand
    more than once outranks every 32-40-follower account with one post, and 2.4M is far from 32."""
    with session_scope(demo.settings.database.url) as session:
        brand = the_brand_named(session, "Nimbus Mobile")
        board = who_leads_the_conversation(session, brand.id, limit=10_000)
    rank = {row["author_id"]: place for place, row in enumerate(board, 1)}
    big = [row for row in board if row["followers"] >= 100_000 and row["posts_about_brand"] >= 2]
    small = [row for row in board if 30 <= (row["followers"] or 0) <= 40 and row["posts_about_brand"] == 1]
    assert big and small and all(row["authority"] > 0 for row in board)
    assert max(rank[row["author_id"]] for row in big) < min(rank[row["author_id"]] for row in small)
    mega = next(row for row in board if row["followers"] >= 2_000_000)
    assert rank[mega["author_id"]] <= 3 and mega["score"] - max(row["score"] for row in small) >= 25
    nano = [row for row in board[:50] if row["followers"] < 10_000]
    assert len(nano) < len(board[:50]) - 3  # the demo's 10k+ accounts (2 to 4 of them) are all in the top 50


@pytest.fixture
def opinions(write_config, database_url):
    """A hub with a linked profile, one critic (1 negative, 2 neutral posts), one neutral fan, one mixed."""
    settings = write_config()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    people = {"hub": (180_000, "https://x.com/hub"), "critic": (32, None), "fan": (35, None), "mixed": (40, None)}
    labels = {"hub": ["positive", "positive"], "critic": ["negative", "neutral", "neutral"], "fan": ["neutral"],
              "mixed": ["positive", "negative", "neutral"]}
    records = [MentionRecord(network="x", native_id=f"{who}{i}", text=f"Nimbus Mobile post {i} by {who}",
                             created_at=now - timedelta(hours=i + 1), brands=["Nimbus Mobile"], likes=5 + i,
                             author=AuthorRecord("x", who, handle=who, followers=people[who][0],
                                                 profile_url=people[who][1]))
               for who, posts in labels.items() for i in range(len(posts))]
    with session_scope(database_url) as session:
        save_mentions(session, records)
        ids = dict(session.exec(select(Mention.native_id, Mention.id)).all())
        session.add_all(Analysis(mention_id=ids[f"{who}{i}"], model_name="test", model_version="1", sentiment=label)
                        for who, posts in labels.items() for i, label in enumerate(posts))
    return settings


def test_author_sentiment_counts_opinionated_posts_only(opinions):
    assert (brand_sentiment(0, 1), brand_sentiment(1, 1), brand_sentiment(2, 1), brand_sentiment(0, 0)) == \
        (-1.0, 0.0, 0.333, None)
    refresh_influence(opinions)
    with session_scope(opinions.database.url) as session:
        stored = {row["handle"]: row["sentiment"] for row in who_leads_the_conversation(session, 1)}
    assert stored == {"hub": 1.0, "critic": -1.0, "fan": None, "mixed": 0.0}
    board = {row["handle"]: row for row in build_influencer_report(opinions, "Nimbus Mobile").leaderboard}
    assert [(board[h]["positive_posts"], board[h]["negative_posts"], board[h]["posts_about_brand"])
            for h in ("critic", "fan", "mixed")] == [(0, 1, 3), (0, 0, 1), (1, 1, 3)]


def test_exports_state_the_formula_and_carry_followers_reach_and_profile_links(opinions, tmp_path):
    report = build_influencer_report(opinions, "Nimbus Mobile")
    for fmt in ("csv", "xlsx", "pdf"):
        export_influencers(report, fmt, tmp_path / f"board.{fmt}")
    formula = "score = 100 x (0.35 x reach + 0.25 x engagement + 0.20 x authority + 0.10 x relevance"

    lines = (tmp_path / "board.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(line for line in lines if line and not line.startswith("#")))
    hub = next(row for row in rows if row["handle"] == "hub")
    assert (hub["followers"], hub["profile_url"], hub["rank"]) == ("180000", "https://x.com/hub", "1")
    assert float(hub["reach"]) == pytest.approx(0.7508, abs=1e-4)  # log10(180,001) / 7
    critic = next(row for row in rows if row["handle"] == "critic")
    assert (critic["sentiment"], critic["positive_posts"], critic["negative_posts"]) == ("-1.0", "0", "1")
    assert next(row for row in rows if row["handle"] == "fan")["sentiment"] == ""
    notes = [line for line in lines if line.startswith("#")]
    assert notes[0].startswith("# score: " + formula.removeprefix("score = ")) and len(notes) == 7
    assert any("authority (weight 0.20): PageRank" in line and "damping 0.5" in line for line in notes)

    book = load_workbook(tmp_path / "board.xlsx")
    sheet = book["Leaderboard"]
    column = {cell.value: cell.column for cell in sheet[1]}
    assert {"followers", "reach", "profile_url", "positive_posts", "negative_posts"} <= set(column)
    first = {name: sheet.cell(2, index) for name, index in column.items()}
    assert first["handle"].value == "hub" and first["followers"].value == 180_000
    assert first["profile_url"].value == "https://x.com/hub"
    summary = {row[0]: row[1] for row in book["Summary"].values if row and row[0]}
    assert summary["formula: score"].startswith(formula.removeprefix("score = "))
    assert "reach (weight 0.35)" in " ".join(str(key) for key in summary)

    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "board.pdf").pages)
    flat = " ".join(text.split())
    assert "How the score is computed" in flat and formula.removeprefix("score = ") in flat
    assert "followers" in flat and "180,000" in flat and "https://x.com/hub" in flat
    assert "-1.00 (0+ 1-)" in flat
