"""The brand report's PDF (text read back with pypdf): everything from its own period, shares in pp,
the negative share labelled, the alert marked on the spike, sorted share of voice, charts from 0."""

import re
from datetime import datetime, timedelta, timezone

import matplotlib.pyplot as plt
import pytest
from sqlalchemy import select
from pypdf import PdfReader

from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.reports.brand import write_brand_report
from brandpulse.reports.pdf import trend_figure, value_bar_figure
from store.alerts import save_alert
from store.brands import sync_brands, the_brand_named
from store.engine import session_scope
from store.influence import save_influence
from store.mentions import save_mentions
from store.models import Author, AuthorInfluence, Mention
from store.tickets import open_tickets
from store.topics import save_topics

START = datetime(2025, 3, 3, tzinfo=timezone.utc)  # a Monday: the week reported is [START, END)
END = START + timedelta(days=7)
SPIKE = START + timedelta(days=2, hours=10)  # Wednesday 10:00: most of the week's posts


def _post(native, text, when, brand="Nimbus Mobile", handle="fan"):
    return MentionRecord(network="x", native_id=native, text=text, created_at=when, brands=[brand],
                         author=AuthorRecord("x", f"id-{handle}", handle=handle, followers=100))


@pytest.fixture
def week(write_config, tmp_path):
    """A reported week with tickets, topics, influencers and an alert, plus planted data from outside it."""
    settings = write_config()
    records = [_post(f"spike{i}", f"Nimbus Mobile network down again, terrible {i}", SPIKE + timedelta(minutes=i),
                     handle="speaker") for i in range(5)]
    records += [_post("calm", "Nimbus Mobile great coverage today", START + timedelta(days=4), handle="speaker"),
                _post("before1", "Nimbus Mobile love the new plan", START - timedelta(days=3), handle="celebrity"),
                _post("before2", "Nimbus Mobile old roaming bill mess", START - timedelta(days=2), handle="celebrity"),
                _post("after", "Nimbus Mobile billing issue", END + timedelta(days=1), handle="celebrity")]
    records += [_post(f"vx{i}", f"Vertex Telecom bad service {i}", START + timedelta(days=1, hours=i),
                      brand="Vertex Telecom", handle="rival") for i in range(8)]
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)  # Vertex Telecom is Nimbus Mobile's rival
        save_mentions(session, records)
    analyze_pending(settings)
    later = END + timedelta(days=2)  # triage ran after the week (an import): created_at outside it
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, "Nimbus Mobile")
        ids = dict(session.execute(select(Mention.native_id, Mention.id)).all())
        authors = dict(session.execute(select(Author.handle, Author.id)).all())
        hour = timedelta(hours=1)
        tickets = [  # (post, posted, first response due, first response, resolved)
            ("spike0", SPIKE, SPIKE + hour, None, None),  # opened, late (never answered)
            ("spike1", SPIKE, SPIKE + hour, SPIKE + 0.5 * hour, SPIKE + 5 * hour),  # opened, closed, on time
            ("spike2", SPIKE, SPIKE + hour, SPIKE + 3 * hour, None),  # opened, late (answered after due)
            ("before1", START - timedelta(days=3), START - timedelta(days=3) + hour, START - timedelta(days=3),
             START + hour),  # closed this week only
            ("after", END + timedelta(days=1), END + timedelta(days=1, hours=1), None, None)]  # next week
        open_tickets(session, [{
            "mention_id": ids[native], "brand_id": brand.id, "intent": "complaint", "team": "care", "priority_explanation": {},
            "posted_at": posted, "created_at": later, "updated_at": later, "first_response_due": due,
            "first_response_at": answered, "resolved_at": resolved, "status": "resolved" if resolved else "new"}
            for native, posted, due, answered, resolved in tickets])
        save_topics(session, brand.id, [
            {"label": "network · outage", "terms": ["network"], "size": 5, "computed_at": later,
             "trend": {f"{SPIKE:%Y-%m-%d}": 5}, "representative": [
                 {"mention_id": ids["spike0"], "network": "x", "text": "Nimbus Mobile network down again, terrible 0"},
                 {"mention_id": ids["before2"], "network": "x", "text": "Nimbus Mobile old roaming bill mess"}]},
            {"label": "roaming · bill", "terms": ["roaming"], "size": 9, "computed_at": later,
             "trend": {f"{START - timedelta(days=2):%Y-%m-%d}": 9}, "representative": []}])
        save_influence(session, brand.id, [
            AuthorInfluence(author_id=authors["celebrity"], brand_id=brand.id, score=90.0, tier="macro").model_dump(),
            AuthorInfluence(author_id=authors["speaker"], brand_id=brand.id, score=30.0, tier="nano").model_dump()])
        for severity, when in (("warning", SPIKE + hour), ("critical", SPIKE + 2 * hour)):
            save_alert(session, {"brand_id": brand.id, "rule": "volume_spike", "severity": severity,
                                 "title": f"Mentions spike: 5 in an hour ({severity})", "evidence": {},
                                 "window_start": when - hour, "window_end": when, "dedupe_key": f"spike-{severity}"})
    path = write_brand_report(settings, "Nimbus Mobile", "weekly", END, tmp_path / "week.pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]  # lines joined
    return pages, " ".join(pages)


def test_the_weekly_pdf_reads_its_own_week(week):
    """One report built once (fast): each check names the issue's point it covers."""
    pages, text = week
    # tickets counted in the week they belong to
    # planted: 3 posted this week (1 the week before; all created after the week), 2 closed this week,
    # 2 first responses due this week and late
    assert re.search(r"tickets opened 3 1 \+2", text), text
    assert re.search(r"tickets closed 2 0 \+2", text)
    assert re.search(r"first responses late 2 0 \+2", text)
    assert "opened by the customer's post time" in text
    # rate and share changes in percentage points
    assert re.search(r"net sentiment [+-]\d+\.\d% [+-]\d+\.\d% [+-]\d+\.\d pp", text), text
    assert re.search(r"complaint rate \d+\.\d% \d+\.\d% [+-]\d+\.\d pp", text)
    # share of voice: Vertex 8 of 14 now, 0 of 2 the week before
    assert re.search(r"Vertex Telecom 8 57\.1% \+57\.1 pp", text), text
    assert re.search(r"Nimbus Mobile 6 42\.9% -57\.1 pp", text)
    # share of voice sorted, the negative share labelled
    assert text.index("Vertex Telecom 8") < text.index("Nimbus Mobile 6")  # largest first, not by name
    assert "share of negative mentions" in text
    assert "not the brand's own negative rate" in text
    assert re.search(r"Vertex Telecom 8 \S+ \S+ pp 61\.5% \(100% own\)", text)  # 8 of 13 negative mentions
    assert re.search(r"Nimbus Mobile 6 \S+ \S+ pp 38\.5% \(83% own\)", text)  # 5 of 13; 5 of its 6
    # topics and influencers from the week only
    assert "network · outage: 5 posts this period" in text and "terrible 0" in text
    assert "roaming · bill" not in text and "old roaming bill mess" not in text  # the week before
    assert "Top influencers this period" in text
    assert "@speaker" in text and "@celebrity" not in text  # the top score, but posted only outside the week
    # the spike marked with its most severe alert
    assert f"Marked on the chart: {SPIKE:%Y-%m-%d} critical: Mentions spike: 5 in an hour (critical)" in pages[0]
    assert "Alerts" in text and "warning · Mentions spike" in text


def test_charts_start_at_zero_with_values_on_the_bars():
    figure = value_bar_figure(["Vertex", "Nimbus"], [57.1, 42.9], "Share of voice", unit="%")
    axis = figure.axes[0]
    assert axis.get_xlim()[0] == 0
    assert [t.get_text() for t in axis.get_yticklabels()] == ["Nimbus", "Vertex"]  # first listed on top
    assert sorted(t.get_text() for t in axis.texts) == ["42.9%", "57.1%"]
    line = trend_figure(["03-04", "03-05", "03-06"], [40, 45, 48], "Mentions", marks=[(1, "critical: spike")])
    axis = line.axes[0]
    assert axis.get_ylim()[0] == 0
    assert [t.get_text() for t in axis.texts] == ["critical: spike"]
    plt.close("all")
