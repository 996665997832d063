"""Text search: the trigram index answers for indexed mentions, LIKE for newer ones and common terms."""

from datetime import datetime, timedelta, timezone

from brandpulse.core.records import AuthorRecord, MentionRecord
from store import search
from store.engine import session_scope
from store.mentions import save_mentions
from store.queries import MentionFilter, which_mentions_match

NOW = datetime.now(timezone.utc)


def store(url, texts, start=0):
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(
            network="x", native_id=str(start + i), text=t, created_at=NOW - timedelta(minutes=start + i),
            brands=["Nimbus Mobile"], author=AuthorRecord("x", "a", handle="a")) for i, t in enumerate(texts)])


def found(url, term):
    with session_scope(url) as session:
        return sorted(r["text"] for r in which_mentions_match(session, MentionFilter(search=term), 100))


def test_index_and_like_agree_and_newer_posts_are_found(settings, database_url, monkeypatch):
    store(database_url, ["Nimbus Mobile REFUND please", "nimbus mobile is fine", "50% off at Nimbus Mobile",
                         "Nimbus Mobile refunded me"])
    with session_scope(database_url) as session:
        assert search.refresh_search_index(session) == 4
        assert search.refresh_search_index(session) == 0
        ids, watermark = search.which_mentions_contain(session, "refund")
    assert len(ids) == 2 and watermark == 4
    store(database_url, ["late Nimbus Mobile refund news"], start=10)  # not indexed yet: LIKE finds it
    assert found(database_url, "refund") == ["Nimbus Mobile REFUND please", "Nimbus Mobile refunded me",
                                             "late Nimbus Mobile refund news"]
    assert found(database_url, "50%") == ["50% off at Nimbus Mobile"]  # % is literal, not a wildcard
    assert found(database_url, "_") == []
    monkeypatch.setattr(search, "CAP", 1)  # a term too common for the index falls back to LIKE
    with session_scope(database_url) as session:
        assert search.which_mentions_contain(session, "nimbus")[0] is None
    assert len(found(database_url, "nimbus")) == 5


def test_planner_statistics_are_refreshed_after_a_big_load_on_postgresql(database_url):
    from sqlalchemy import text

    from store.maintenance import BIG_CHANGE, keep_statistics_fresh

    with session_scope(database_url) as session:
        assert keep_statistics_fresh(session, BIG_CHANGE - 1) is False
        ran = keep_statistics_fresh(session, BIG_CHANGE)
        assert ran is database_url.startswith("postgresql")
        if ran:
            analysed = session.execute(text("SELECT last_analyze FROM pg_stat_user_tables "
                                            "WHERE relname = 'mentions'")).scalar()
            assert analysed is not None
