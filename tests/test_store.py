"""Store round-trips and migrations on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, inspect, select

from brandpulse.core.records import AuthorRecord, MentionRecord
from store.analyses import claim_mentions_for_analysis, save_analyses
from store.brands import sync_brands, which_brands_are_tracked, who_are_the_rivals_of
from store.engine import current_revision, get_engine, head_revision, migrate, session_scope
from store.mentions import quarantine, save_mentions
from store.models import Analysis, Author, Mention, MentionBrand, Quarantine, utcnow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def mention(native_id: str, text: str = "nimbus mobile is down", likes: int = 0, **kw) -> MentionRecord:
    return MentionRecord(network="x", native_id=native_id, text=text, created_at=NOW, likes=likes,
                         author=AuthorRecord("x", "a1", handle="ann", followers=10), **kw)


def test_migrations_reach_head_and_are_idempotent(database_url):
    assert current_revision(database_url) == head_revision()
    assert migrate(database_url) == head_revision()
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {"brands", "brand_rivals", "authors", "customers", "mentions", "mention_brands",
            "analyses", "tickets", "ticket_events", "alerts", "collector_cursors",
            "collector_health", "users", "quarantine"} <= tables
    indexes = {ix["name"] for ix in inspect(get_engine(database_url)).get_indexes("mentions")}
    assert {"ix_mentions_created_at", "ix_mentions_network_created", "ix_mentions_status"} <= indexes


def test_upsert_is_idempotent_and_refreshes_engagement(database_url):
    with session_scope(database_url) as session:
        first = save_mentions(session, [mention("1", brands=["Nimbus Mobile"]), mention("2")])
    with session_scope(database_url) as session:
        again = save_mentions(session, [mention("1", likes=7, brands=["Nimbus Mobile"]),
                                        mention("1", likes=7), mention("3")])
    assert (first.inserted, first.existing) == (2, 0)
    assert (again.inserted, again.existing) == (1, 1)
    with session_scope(database_url) as session:
        assert session.execute(select(func.count()).select_from(Mention)).scalar() == 3
        assert session.execute(select(func.count()).select_from(Author)).scalar() == 1
        assert session.execute(select(func.count()).select_from(MentionBrand)).scalar() == 1
        stored = session.execute(select(Mention).where(Mention.native_id == "1")).scalar_one()
        assert stored.likes == 7 and stored.created_at == NOW and stored.analysis_status == "pending"


def test_round_trip_keeps_every_field(database_url):
    record = mention("9", text="<b>not html</b> ✈️ naïve", url="https://x.com/ann/status/9",
                     language="en", replies=2, reposts=3, quotes=1, views=99, in_reply_to_id="8",
                     quoted_id="7", conversation_id="5", raw={"id": "9", "nested": {"k": [1, 2]}})
    with session_scope(database_url) as session:
        save_mentions(session, [record])
    with session_scope(database_url) as session:
        row = session.execute(select(Mention)).scalar_one()
        assert row.text == "<b>not html</b> ✈️ naïve"
        assert (row.replies, row.reposts, row.quotes, row.views) == (2, 3, 1, 99)
        assert (row.in_reply_to_id, row.quoted_id, row.conversation_id) == ("8", "7", "5")
        assert row.raw == {"id": "9", "nested": {"k": [1, 2]}}
        assert row.created_at.tzinfo is not None


def test_brands_and_rivals_sync_from_settings(database_url, settings):
    with session_scope(database_url) as session:
        sync_brands(session, settings.brands)
        sync_brands(session, settings.brands)  # twice: no duplicates
        brands = which_brands_are_tracked(session)
        own = [b for b in brands if not b.is_competitor]
        assert [b.name for b in own] == ["Nimbus Mobile"]
        assert [r.name for r in who_are_the_rivals_of(session, own[0].id)] == ["Vertex Telecom"]


def test_quarantine_keeps_one_row_per_location(database_url):
    with session_scope(database_url) as session:
        quarantine(session, "import:a.csv", "row 3", "text is missing", "{}")
        quarantine(session, "import:a.csv", "row 3", "text is missing", "{}")
        quarantine(session, "import:a.csv", "row 4", "bad date", "{}")
    with session_scope(database_url) as session:
        assert session.execute(select(func.count()).select_from(Quarantine)).scalar() == 2


def test_analyses_replace_and_mark_mentions_done(database_url):
    with session_scope(database_url) as session:
        save_mentions(session, [mention("1"), mention("2")])
    with session_scope(database_url) as session:
        pending = claim_mentions_for_analysis(session, 10)
        assert [p[1] for p in pending] == ["nimbus mobile is down"] * 2
        result = {"model_name": "m", "model_version": "1", "sentiment": "negative",
                  "sentiment_scores": {"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                  "intents": ["complaint"], "complaint": True, "complaint_score": 0.9}
        save_analyses(session, {pending[0][0]: result})
        save_analyses(session, {pending[0][0]: {**result, "model_version": "2"}})
        save_analyses(session, {pending[1][0]: {"model_name": "m", "model_version": "1",
                                                "language": "de", "language_supported": False}})
    with session_scope(database_url) as session:
        assert claim_mentions_for_analysis(session, 10) == []
        rows = session.execute(select(Analysis).order_by(Analysis.mention_id)).scalars().all()
        assert [r.model_version for r in rows] == ["2", "1"]
        assert rows[0].sentiment_negative == 0.9 and rows[0].intents == ["complaint"]
        assert rows[1].sentiment is None
        statuses = session.execute(select(Mention.analysis_status).order_by(Mention.id)).scalars().all()
        assert statuses == ["done", "unsupported_language"]


def test_utcnow_is_aware():
    assert utcnow().tzinfo is not None and abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_authors_linked_across_networks_share_one_timeline(database_url):
    from store.customers import link_authors_as_customer, what_did_this_customer_say

    records = [MentionRecord(network=net, native_id=f"{net}-1", text=f"nimbus mobile on {net}",
                             created_at=NOW - timedelta(hours=i), author=AuthorRecord(net, f"{net}-ann",
                                                                                       handle="ann"))
               for i, net in enumerate(["x", "reddit", "mastodon"])]
    with session_scope(database_url) as session:
        save_mentions(session, records)
        ids = {a.network: a.id for a in session.execute(select(Author)).scalars()}
        first = link_authors_as_customer(session, [ids["x"], ids["reddit"]])
        second = link_authors_as_customer(session, [ids["mastodon"]])
        merged = link_authors_as_customer(session, [ids["reddit"], ids["mastodon"]])
        assert merged.id == min(first.id, second.id)
        timeline = what_did_this_customer_say(session, ids["x"])
        assert [m.network for m in timeline] == ["x", "reddit", "mastodon"]
