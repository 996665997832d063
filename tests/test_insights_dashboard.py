"""The Overview as a marketer reads it on the demo: every KPI with its change against the previous period
of the same length, and sentiment per aspect as a chart (issue 20)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from sqlalchemy import and_, select

from store.engine import session_scope
from store.models import Analysis, Mention, MentionBrand
from store.queries import MentionFilter, what_are_the_headline_figures
from dashboard.filters import period_bounds
from tests.test_dashboard_marketing import _chart_rows, go, signed_in  # noqa: F401  (fixture)


def _delta(app, label: str) -> tuple[str, str]:
    proto = next(m.proto for m in app.metric if m.label == label)
    return proto.delta, proto.delta_description


def test_each_kpi_shows_its_change_and_sentiment_per_aspect_is_charted(signed_in, demo):
    app = go(signed_in(), "Overview")
    app.sidebar.selectbox(key="filter_brand").set_value("Nimbus Mobile").run()
    today = app.sidebar.date_input(key="filter_period").value[1]
    start = today - timedelta(days=6)
    app.sidebar.date_input(key="filter_period").set_value((start, today)).run()
    brand = next(b for b in demo.settings.brands if b.name == "Nimbus Mobile")
    since, until = period_bounds(start, today)
    with session_scope(demo.settings.database.url) as session:
        from store.brands import the_brand_named

        brand_id = the_brand_named(session, brand.name).id
        now = what_are_the_headline_figures(session, MentionFilter((brand_id,), since, until))
        before = what_are_the_headline_figures(session, MentionFilter((brand_id,), since - timedelta(days=7), since))
        aspects = Counter()
        for sentiment, entities in session.execute(
                select(Analysis.sentiment, Analysis.entities).join(Mention, Mention.id == Analysis.mention_id)
                .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
                .where(Mention.created_at >= since, Mention.created_at < until)):
            for entity in entities or ():
                if entity.get("label") == "ASPECT" and (entity.get("text") or "").strip():
                    aspects[(entity["text"].strip(), sentiment or "unscored")] += 1
    assert before["volume"] and now["volume"] != before["volume"]
    assert _delta(app, "Mentions") == (f"{(now['volume'] - before['volume']) / before['volume']:+.0%}",
                                       "vs the 7 days before")
    moved = round(100 * (now["net_sentiment"] - before["net_sentiment"]), 1)
    assert _delta(app, "Net sentiment")[0] == (f"{moved:+.1f} pp" if moved else "no change")
    assert _delta(app, "Complaint rate")[0].endswith(" pp") or _delta(app, "Complaint rate")[0] == "no change"
    tickets, described = _delta(app, "Open tickets")
    assert tickets and described == "since the period began"

    [chart] = [c for c in app.get("vega_lite_chart") if "sentiment per aspect" in c.proto.spec]
    rows = _chart_rows(chart)
    assert rows and {r["sentiment"] for r in rows} <= {"negative", "neutral", "positive", "unscored"}
    charted = {(r["aspect"], r["sentiment"]): r["mentions"] for r in rows}
    assert charted == {key: n for key, n in aspects.items() if key[0] in {a for a, _ in charted}}
    totals = Counter()
    for (aspect, _), n in aspects.items():
        totals[aspect] += n
    assert {a for a, _ in charted} == {a for a, _ in sorted(totals.items(), key=lambda t: (-t[1], t[0]))[:10]}
    assert json.loads(chart.proto.spec)["encoding"]["x"]["stack"] == "normalize"  # shares within an aspect
