"""Share of voice from the service itself gives every compared brand a row in every period, a silent
rival at 0 mentions and 0%, so the dashboard, the exports and the API all show it (issue 20)."""

from datetime import datetime, timedelta, timezone

from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.voice import share_of_voice
from store.brands import sync_brands
from store.engine import session_scope
from store.mentions import save_mentions

NOW = datetime.now(timezone.utc).replace(microsecond=0)
BRANDS = [{"name": "Nimbus Mobile", "query": '"nimbus mobile"', "competitors": [
    {"name": "Vertex Telecom", "query": '"vertex telecom"'},
    {"name": "Orbit Wireless", "query": '"orbit wireless"'}]}]  # Orbit never speaks
COMPARED = {"Nimbus Mobile", "Vertex Telecom", "Orbit Wireless"}


def test_a_silent_rival_has_a_zero_row_in_every_period(write_config, database_url):
    settings = write_config(brands=BRANDS)
    posts = [("n1", "Nimbus Mobile", 1, "x"), ("n2", "Nimbus Mobile", 2, "reddit"), ("n3", "Nimbus Mobile", 2, "x"),
             ("v1", "Vertex Telecom", 3, "x")]
    with session_scope(database_url) as session:
        sync_brands(session, settings.brands)
        save_mentions(session, [MentionRecord(
            network=network, native_id=nid, text=f"{brand} coverage is fine today", brands=[brand],
            created_at=NOW - timedelta(days=days), author=AuthorRecord(network, f"a-{nid}", handle=f"h{nid}"))
            for nid, brand, days, network in posts])
    analyze_pending(settings)
    since, until = NOW - timedelta(days=6), NOW
    for by in ("all", "network", "day", "week"):
        rows = share_of_voice(settings, "Nimbus Mobile", since, until, by=by)
        periods = {r["period"] for r in rows}
        assert periods and {(r["period"], r["brand"]) for r in rows} == {(p, b) for p in periods for b in COMPARED}
        assert all(r["mentions"] == 0 and r["share"] == 0.0 for r in rows if r["brand"] == "Orbit Wireless"), by
        for period in periods:
            assert abs(sum(r["share"] for r in rows if r["period"] == period) - 1) < 1e-9, (by, period)
    whole = {r["brand"]: (r["mentions"], r["share"]) for r in share_of_voice(settings, "Nimbus Mobile", since,
                                                                               until, by="all")}
    assert whole == {"Nimbus Mobile": (3, 0.75), "Vertex Telecom": (1, 0.25), "Orbit Wireless": (0, 0.0)}
    assert share_of_voice(settings, "Nimbus Mobile", NOW - timedelta(days=400), NOW - timedelta(days=390)) == []
