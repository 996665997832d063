"""Charts that answer: clicking a bar or point lists the mentions behind it (Overview and Share of voice),
and each topic shows its sentiment split (issue 20). Driven through AppTest on the demo: a click is the
chart's selection state, set under its key the way Streamlit stores it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from dashboard.filters import period_bounds
from dashboard.safe import md
from sqlalchemy import and_, func, select, update

from store.brands import the_brand_named
from store.engine import session_scope
from store.models import Analysis, Mention, MentionBrand, Topic, TopicMention
from tests.test_dashboard_marketing import _chart_rows, go, signed_in  # noqa: F401  (fixture)


def _chart(app, axis: str, field: str, index: int = 0):
    """The chart whose ``axis`` encodes ``field`` (the ``index``-th such chart), checked to be clickable."""
    chart = [c for c in app.get("vega_lite_chart")
             if json.loads(c.proto.spec).get("encoding", {}).get(axis, {}).get("field") == field][index]
    assert "pick" in json.dumps(json.loads(chart.proto.spec).get("params", [])), "a real selection parameter"
    assert list(chart.proto.selection_mode) == ["pick"]  # Streamlit reruns on its selection event
    return chart


def _click(app, key: str, **datum):
    app.session_state[key] = {"selection": {"pick": [datum]}}
    app.run()
    assert not app.exception, app.exception


def _listed(app) -> tuple[str, list[dict]]:
    [line] = [t.value for t in app.text if t.value.startswith("Mentions behind ")]
    [table] = app.dataframe
    return line, table.value.to_dict("records")


def _week(app) -> tuple[date, date]:
    today = app.sidebar.date_input(key="filter_period").value[1]
    week = (today - timedelta(days=6), today)
    app.sidebar.date_input(key="filter_period").set_value(week).run()
    return week


def test_clicking_a_bar_on_the_overview_lists_its_mentions_and_clear_removes_them(signed_in, demo):
    app = go(signed_in(), "Overview")
    app.sidebar.selectbox(key="filter_brand").set_value("Nimbus Mobile").run()
    week = _week(app)
    assert not [t for t in app.text if t.value.startswith("Mentions behind ")]  # nothing clicked yet

    daily = _chart(app, "x", "day")
    day = max((r for r in _chart_rows(daily) if r["sentiment"] == "negative"), key=lambda r: r["mentions"])
    _click(app, "overview_daily.0", date=str(day["day"])[:10], sentiment="negative")
    line, rows = _listed(app)
    shown = min(day["mentions"], 100)
    assert line.startswith(f"Mentions behind {str(day['day'])[:10]} · negative: {day['mentions']:,}")
    assert len(rows) == shown and {r["sentiment"] for r in rows} == {"negative"}
    assert {str(r["posted"])[:10] for r in rows} == {str(day["day"])[:10]}
    assert all(isinstance(r["text"], str) and r["text"] for r in rows)  # plain text in a table

    app.button(key="overview_daily.clear").click().run()
    assert not [t for t in app.text if t.value.startswith("Mentions behind ")] and not app.dataframe

    share = _chart(app, "y", "brand")
    rival = next(r for r in _chart_rows(share) if r["brand"] == "Vertex Telecom")
    _click(app, "overview_share.0", brand="Vertex Telecom")
    line, rows = _listed(app)
    assert line.startswith(f"Mentions behind Vertex Telecom: {rival['mentions']:,}")
    assert len(rows) == min(rival["mentions"], 100)
    app.button(key="overview_share.clear").click().run()

    aspects = _chart_rows(_chart(app, "y", "aspect"))
    top = max(aspects, key=lambda r: r["mentions"])
    _click(app, "overview_aspect.0", aspect=top["aspect"], sentiment=top["sentiment"])
    line, rows = _listed(app)
    assert line.startswith(f"Mentions behind {top['aspect']} · {top['sentiment']}: ")
    count = int(line.split(": ", 1)[1].split(", the newest")[0].replace(",", ""))
    assert 0 < count <= top["mentions"]  # a post naming the aspect twice counts once here
    since, until = period_bounds(*week)
    with session_scope(demo.settings.database.url) as session:
        brand_id = the_brand_named(session, "Nimbus Mobile").id
        expected = {mention_id for mention_id, entities in session.execute(
            select(Mention.id, Analysis.entities).join(Analysis, Analysis.mention_id == Mention.id)
            .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
            .where(Mention.created_at >= since, Mention.created_at < until, Analysis.sentiment == top["sentiment"]))
            if any(e.get("label") == "ASPECT" and e.get("text", "").strip() == top["aspect"] for e in entities or ())}
    assert count == len(expected) and {r["id"] for r in rows} <= expected
    assert len(rows) == min(count, 100) and {r["sentiment"] for r in rows} == {top["sentiment"]}


def test_clicking_a_share_of_voice_bar_lists_that_brands_mentions_on_that_network(signed_in):
    app = go(signed_in(), "Share of voice")
    app.sidebar.selectbox(key="filter_brand").set_value("Nimbus Mobile").run()
    _week(app)
    bar = max(_chart_rows(_chart(app, "x", "period", 1)), key=lambda r: r["mentions"])
    _click(app, "voice_network.0", bucket=bar["period"], brand=bar["brand"])
    line, rows = _listed(app)
    assert line.startswith(f"Mentions behind {bar['brand']} · network {bar['period']}: {bar['mentions']:,}")
    assert len(rows) == min(bar["mentions"], 100) and {r["network"] for r in rows} == {bar["period"]}

    app.button(key="voice_network.clear").click().run()
    negative = max(_chart_rows(_chart(app, "x", "period", 3)), key=lambda r: r["mentions"])
    _click(app, "voice_negative.0", bucket="all", brand=negative["brand"])
    line, rows = _listed(app)
    assert line.startswith(f"Mentions behind {negative['brand']} · negative: {negative['mentions']:,}")
    assert {r["sentiment"] for r in rows} == {"negative"}


def test_each_topic_shows_its_sentiment_split(signed_in, demo):
    app = go(signed_in(), "Topics")
    app.sidebar.selectbox(key="filter_brand").set_value("Nimbus Mobile").run()
    start, end = _week(app)
    [chart] = [c for c in app.get("vega_lite_chart") if "sentiment per topic" in c.proto.spec]
    charted = Counter()
    for row in _chart_rows(chart):
        assert row["sentiment"] in ("negative", "neutral", "positive")
        charted[row["topic"]] += row["mentions"]
    assert json.loads(chart.proto.spec)["encoding"]["x"]["stack"] == "normalize"
    since, until = period_bounds(start, end)
    with session_scope(demo.settings.database.url) as session:
        brand_id = the_brand_named(session, "Nimbus Mobile").id
        members = dict(session.execute(
            select(Topic.label, func.count()).join(TopicMention, TopicMention.topic_id == Topic.id)
            .join(Mention, Mention.id == TopicMention.mention_id)
            .join(Analysis, Analysis.mention_id == Mention.id)
            .where(Topic.brand_id == brand_id, Mention.created_at >= since, Mention.created_at < until)
            .group_by(Topic.label)).all())
    assert charted and charted == {label: n for label, n in members.items() if n}
    for expander in app.expander:
        label = next(t for t in charted if md(t) in expander.label)
        posts = int(expander.label.split(" posts in the period")[0].rsplit("· ", 1)[1])
        assert posts == charted[label]  # the split covers the same posts the topic counts in the period
        [split] = [t.value for t in expander.text if t.value.startswith("sentiment: ")]
        shares = [int(part.split()[1].rstrip("%")) for part in split[len("sentiment: "):].split(" · ")[:3]]
        assert 98 <= sum(shares) <= 102


# --- the store queries on each backend ----------------------------------------------------------------

from datetime import datetime, timezone  # noqa: E402

from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from brandpulse.services.pipeline import analyze_pending  # noqa: E402
from store.brands import sync_brands  # noqa: E402
from store.drilldown import on_days, which_mentions_are_behind  # noqa: E402
from store.mentions import save_mentions  # noqa: E402
from store.queries import MentionFilter  # noqa: E402
from store.topics import how_do_people_feel_about_topics, save_topics, what_are_people_talking_about  # noqa: E402

DAY = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
TEXTS = ["Nimbus Mobile double charged me again on my bill, refund now", "Nimbus Mobile billing is a mess, wrong invoice",
         "Nimbus Mobile love the new plan, great price", "Nimbus Mobile coverage in the subway is dead",
         "Nimbus Mobile support kept me on hold for an hour"]


def _post(i: int, text: str, when: datetime) -> MentionRecord:
    return MentionRecord(network="x", native_id=f"d{i}", text=text, created_at=when, brands=["Nimbus Mobile"],
                         author=AuthorRecord("x", f"id-{i}", handle=f"fan{i}", followers=10))


def test_the_mentions_behind_a_day_an_aspect_and_a_topic_on_each_backend(settings):
    posts = [_post(i, text, DAY + timedelta(days=i % 2, hours=i)) for i, text in enumerate(TEXTS)]
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)
        save_mentions(session, posts)
    analyze_pending(settings)
    with session_scope(settings.database.url) as session:  # one more, not analysed yet
        save_mentions(session, [_post(9, "Nimbus Mobile what a day", DAY + timedelta(hours=1))])
    with session_scope(settings.database.url) as session:
        brand_id = the_brand_named(session, "Nimbus Mobile").id
        ids = dict(session.execute(select(Mention.native_id, Mention.id)).all())
        feel = dict(session.execute(select(Mention.native_id, Analysis.sentiment)
                                    .join(Analysis, Analysis.mention_id == Mention.id)).all())
        aspects = {"d0": [{"text": "billing", "label": "ASPECT"}, {"text": "billing", "label": "ORG"}],
                   "d1": [{"text": " billing ", "label": "ASPECT"}, {"text": "facturación", "label": "ASPECT"}],
                   "d2": [{"text": "billing plan", "label": "ASPECT"}], "d3": [{"text": "facturación", "label": "ORG"}]}
        for native, named in aspects.items():  # what the analyses name, as the model writes it
            session.execute(update(Analysis).where(Analysis.mention_id == ids[native]).values(entities=named))
        flt = MentionFilter((brand_id,), DAY.replace(hour=0), DAY.replace(hour=0) + timedelta(days=7))

        first = which_mentions_are_behind(session, on_days(flt, DAY.date(), DAY.date()))
        assert first["count"] == 4 and [m["id"] for m in first["mentions"]] == \
            [ids[n] for n in ("d4", "d2", "d9", "d0")]  # newest first
        unscored = which_mentions_are_behind(session, flt, sentiment="unscored")
        assert [m["id"] for m in unscored["mentions"]] == [ids["d9"]]
        one = which_mentions_are_behind(session, flt, limit=1)
        assert one["count"] == 6 and len(one["mentions"]) == 1
        billing = which_mentions_are_behind(session, flt, aspect="billing")
        assert billing["count"] == 2 and {m["id"] for m in billing["mentions"]} == {ids["d0"], ids["d1"]}
        spanish = which_mentions_are_behind(session, flt, aspect="facturación")
        assert [m["id"] for m in spanish["mentions"]] == [ids["d1"]]
        negative = which_mentions_are_behind(session, flt, sentiment=feel["d0"], aspect="billing")
        assert ids["d0"] in {m["id"] for m in negative["mentions"]}

        topic = {"label": "bill · refund", "terms": ["bill"], "size": 3, "trend": {}, "representative": [],
                 "members": [ids["d0"], ids["d1"], ids["d2"]]}
        for _ in range(2):  # saving again replaces the topics and their members
            save_topics(session, brand_id, [topic, {**topic, "label": "plan", "members": [ids["d2"], ids["d9"]]}])
        saved = {t.label: t.id for t in what_are_people_talking_about(session, brand_id)}
        split = how_do_people_feel_about_topics(session, list(saved.values()))
        assert split[saved["bill · refund"]] == dict(Counter(feel[n] for n in ("d0", "d1", "d2")))
        assert split[saved["plan"]] == dict(Counter([feel["d2"], "unscored"]))
        later = how_do_people_feel_about_topics(session, list(saved.values()), DAY + timedelta(days=1))
        assert later == {saved["bill · refund"]: {feel["d1"]: 1}}
        assert session.execute(select(func.count()).select_from(TopicMention)).scalar_one() == 5
