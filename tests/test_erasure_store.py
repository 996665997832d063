"""Erasing stored text: the mention row, analysis and counts stay; text, payload, link and index go."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from brandpulse.core.records import AuthorRecord, MentionRecord
from store import search
from store.analyses import claim_mentions_for_analysis
from store.engine import session_scope
from store.erasure import erase_author_profiles, erase_mention_texts, suppression_digest, which_are_suppressed
from store.mentions import save_mentions
from store.models import Author, Mention
from store.models_rights import Suppression

NOW = datetime.now(timezone.utc)


def _store(url, texts):
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(
            network="x", native_id=str(i), text=t, created_at=NOW - timedelta(minutes=i), url=f"https://x.com/a/{i}",
            raw={"text": t}, brands=["Nimbus Mobile"],
            author=AuthorRecord("x", "a1", handle="alice", name="Alice A", followers=10)) for i, t in enumerate(texts)])


def test_erased_text_leaves_the_row_and_the_search_index(settings, database_url):
    _store(database_url, ["Nimbus Mobile refund please", "Nimbus Mobile refund now", "Nimbus Mobile is fine"])
    with session_scope(database_url) as session:
        search.refresh_search_index(session)
        first = session.execute(select(Mention.id).where(Mention.native_id == "0")).scalar_one()
        assert erase_mention_texts(session, [first], "forgotten") == 1
        assert erase_mention_texts(session, [first], "forgotten") == 0  # a second run changes nothing
    with session_scope(database_url) as session:
        erased = session.get(Mention, first)
        assert (erased.text, erased.raw, erased.url, erased.erased_reason) == ("", None, None, "forgotten")
        assert erased.analysis_status == "erased"  # it was pending: it is never scored on empty text
        claimed = [mention_id for mention_id, _, _ in claim_mentions_for_analysis(session, 10)]
        assert len(claimed) == 2 and first not in claimed
        assert erased.erased_at is not None
        ids, watermark = search.which_mentions_contain(session, "refund")
        assert len(ids) == 1 and first not in ids and watermark == 3
        assert search.refresh_search_index(session) == 0  # the watermark did not move back


def test_retention_keeps_the_link_and_profiles_lose_their_fields(settings, database_url):
    _store(database_url, ["Nimbus Mobile old post"])
    with session_scope(database_url) as session:
        mention = session.execute(select(Mention)).scalar_one()
        erase_mention_texts(session, [mention.id], "retention", keep_link=True)
        author = session.execute(select(Author)).scalar_one()
        assert erase_author_profiles(session, [author.id]) == 1
    with session_scope(database_url) as session:
        mention = session.execute(select(Mention)).scalar_one()
        author = session.execute(select(Author)).scalar_one()
        assert (mention.text, mention.url) == ("", "https://x.com/a/0")
        assert (author.name, author.followers, author.handle) == ("", None, "alice")
        assert author.erased_at is not None


def test_suppressed_ids_are_recognised_by_digest_only(settings, database_url):
    with session_scope(database_url) as session:
        session.add(Suppression(network="x", kind="author", digest=suppression_digest("x", "author", "a1")))
    with session_scope(database_url) as session:
        assert which_are_suppressed(session, "x", "author", ["a1", "a2"]) == {"a1"}
        assert which_are_suppressed(session, "x", "post", ["a1"]) == set()
        stored = session.execute(select(Suppression.digest)).scalars().all()
        assert "a1" not in "".join(stored)


def test_a_post_erased_while_it_was_analysed_keeps_no_analysis_of_its_old_text(settings, database_url):
    from store.analyses import save_analyses
    from store.models import Analysis

    _store(database_url, ["Nimbus Mobile, says Alice Example"])
    with session_scope(database_url) as session:
        ((mention_id, _, _),) = claim_mentions_for_analysis(session, 10)
    with session_scope(database_url) as session:  # forgotten while a worker scores it
        erase_mention_texts(session, [mention_id], "forgotten")
    with session_scope(database_url) as session:
        save_analyses(session, {mention_id: {"sentiment": "neutral", "entities": [{"text": "Alice Example",
                                                                                     "label": "PERSON"}]}})
    with session_scope(database_url) as session:
        assert session.execute(select(Analysis)).first() is None
        assert session.get(Mention, mention_id).analysis_status == "erased"
