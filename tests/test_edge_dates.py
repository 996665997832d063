"""Dates at the edges of what a database holds (stored before imports checked the range, or
written by other tools) never break analysis, triage, the rollups or the search index."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from brandpulse.services.pipeline import analyze_pending, refresh_overview
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import Mention
from store.search import refresh_search_index

EDGES = [datetime(1, 1, 1, tzinfo=timezone.utc), datetime(1969, 12, 31, 23, 59, tzinfo=timezone.utc),
         datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)]


@pytest.mark.parametrize("edge", EDGES, ids=lambda d: d.strftime("%Y"))
def test_an_edge_date_stored_earlier_breaks_no_stage(settings, database_url, edge):
    records = [MentionRecord(network="x", native_id=str(i), created_at=datetime(2026, 11, 20, tzinfo=timezone.utc),
                             text=f"@NimbusMobile my bill is wrong again, refund please {i}",
                             author=AuthorRecord("x", f"a{i}", handle=f"ann{i}"), brands=["Nimbus Mobile"])
               for i in range(3)]
    with session_scope(database_url) as session:
        assert save_mentions(session, records).inserted == 3
        session.execute(update(Mention).where(Mention.native_id == "0").values(created_at=edge))
    result = analyze_pending(settings)
    assert result.analysed == 3 and result.failed == 0
    triage_new(settings)
    refresh_overview(settings)
    with session_scope(database_url) as session:
        refresh_search_index(session)
