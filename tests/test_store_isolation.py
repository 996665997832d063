"""When the database refuses a record the schema checks let through, only that record is lost."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from brandpulse.core.records import AuthorRecord, MentionRecord
from store.engine import session_scope
from store.mentions import _save_isolating
from store.models import Mention


def mention(native_id: str, **fields) -> MentionRecord:
    return MentionRecord(network="x", native_id=native_id, text=fields.pop("text", "Nimbus Mobile ok"),
                         created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                         author=AuthorRecord("x", "a1", handle="ann"), brands=["Nimbus Mobile"], **fields)


def test_a_refused_record_is_found_by_halving_and_the_rest_is_stored(database_url):
    records = [mention(str(i)) for i in range(40)]
    records[7] = mention("bad-surrogate", text="Nimbus Mobile \ud800")  # no backend can encode it
    records[29] = mention("bad-int", likes=2**63)  # past every backend's integer
    with session_scope(database_url) as session:
        result = _save_isolating(session, records)
    assert sorted(r.native_id for r, _ in result.rejected) == ["bad-int", "bad-surrogate"]
    assert all("the database refused it" in reason for _, reason in result.rejected)
    assert result.inserted == 38
    with session_scope(database_url) as session:
        assert session.execute(select(func.count()).select_from(Mention)).scalar_one() == 38
