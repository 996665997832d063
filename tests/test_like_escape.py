"""Search words are taken literally: LIKE's % and _ in a search or a crisis keyword match only
themselves, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from brandpulse.core.records import MentionRecord
from store.alerts import which_mentions_use_words
from store.brands import sync_brands
from store.engine import session_scope
from store.mentions import save_mentions
from store.queries import MentionFilter, which_mentions_match

TEXTS = ["Nimbus Mobile 100% down", "Nimbus Mobile a_b broken", "Nimbus Mobile axb fine", "Nimbus Mobile ok"]


def test_percent_and_underscore_match_only_themselves(settings, database_url):
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with session_scope(database_url) as session:
        ids = sync_brands(session, settings.brands)
        save_mentions(session, [MentionRecord("x", str(i), text, at, brands=["Nimbus Mobile"])
                                for i, text in enumerate(TEXTS)])
    brand = ids["Nimbus Mobile"]
    with session_scope(database_url) as session:
        for word, expected in (("%", {TEXTS[0]}), ("a_b", {TEXTS[1]}), ("_", {TEXTS[1]})):
            found = which_mentions_use_words(session, brand, at, datetime(2026, 11, 2, tzinfo=timezone.utc),
                                             [word])
            assert {row["text"] for row in found} == expected, word
            matched = which_mentions_match(session, MentionFilter(brand_ids=(brand,), search=word))
            assert {row["text"] for row in matched} <= expected, word
