"""Pipeline stages: analysis with failure isolation, triage into tickets, alerts."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from brandpulse.services.alerting import evaluate_alerts
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.triage import triage_new
from nlp.analyzer import Analyzer, build_analyzer
from store.analyses import which_mentions_failed_analysis
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import Analysis, Mention, Ticket, TicketEvent
from store.ticket_actions import change_ticket_status, ticket_history
from store.users import add_user

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def store(url, texts, brand="Nimbus Mobile", followers=10, when=NOW, network="x"):
    records = [MentionRecord(network=network, native_id=f"{brand}-{i}-{when:%Y%m%d%H%M}", text=t,
                             created_at=when - timedelta(minutes=i), brands=[brand],
                             author=AuthorRecord(network, f"u{i}", handle=f"u{i}", followers=followers))
               for i, t in enumerate(texts)]
    with session_scope(url) as session:
        save_mentions(session, records)


class Exploding:
    name, reads, writes = "exploding", ("text",), ()

    def process(self, docs):
        for doc in docs:
            if "BOOM" in doc.text:
                raise RuntimeError("cannot handle BOOM")


def test_edge_case_texts_are_analysed_without_failing_the_batch(settings, database_url):
    texts = ["", "😡😡😡", "nimbus mobile " + "very long complaint " * 2600, "nimbus mobile \ufffd\ufffd",
             "Nimbus Mobile charged me twice and no refund, terrible",
             "Nimbus Mobile me cobró dos veces este mes y nadie responde a mis llamadas"]
    store(database_url, texts)
    result = analyze_pending(settings)
    assert result.failed == 0 and result.analysed + result.unsupported_language == len(texts)
    with session_scope(database_url) as session:
        rows = {m.text[:40]: a for m, a in session.execute(
            select(Mention, Analysis).join(Analysis, Analysis.mention_id == Mention.id))}
    complaint = rows["Nimbus Mobile charged me twice and no re"]
    assert complaint.sentiment == "negative" and complaint.complaint and "complaint" in complaint.intents
    assert complaint.model_name == "lexicon-fallback"
    spanish = rows["Nimbus Mobile me cobró dos veces este me"]
    assert spanish.language == "es" and spanish.sentiment is None  # no made-up sentiment


def test_a_failing_mention_is_recorded_and_skipped(settings, database_url):
    store(database_url, ["nimbus mobile fine", "nimbus mobile BOOM", "nimbus mobile great"])
    base = build_analyzer(settings)
    analyzer = Analyzer(base.model_name, base.model_version, [*base.stages, Exploding()])
    result = analyze_pending(settings, analyzer=analyzer)
    assert (result.analysed, result.failed) == (2, 1)
    with session_scope(database_url) as session:
        failures = which_mentions_failed_analysis(session)
    assert len(failures) == 1 and "exploding failed: RuntimeError: cannot handle BOOM" in failures[0][1]


def test_triage_opens_prioritised_routed_tickets_for_own_brands_only(settings, database_url):
    store(database_url, ["Nimbus Mobile charged me twice, terrible, I want a refund"], followers=5)
    store(database_url, ["Nimbus Mobile is down again, worst outage, cancelling"], followers=500_000,
          network="reddit")
    store(database_url, ["Vertex Telecom charged me twice, awful, refund please"], brand="Vertex Telecom")
    store(database_url, ["How do I move my number to Nimbus Mobile?"], when=NOW - timedelta(hours=1))
    with session_scope(database_url) as session:
        agent = add_user(session, "ana", "correct horse", "care_agent", team="care")
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) == 3
    assert triage_new(settings, now=NOW) == 0  # idempotent
    with session_scope(database_url) as session:
        tickets = session.execute(select(Ticket).order_by(Ticket.priority.desc())).scalars().all()
        assert {t.intent for t in tickets} == {"complaint", "question"}
        vip = tickets[0]
        assert vip.team == "vip" and vip.status == "new" and vip.assignee_id is None
        assert abs(sum(vip.priority_explanation.values()) - vip.priority) < 0.05
        assert vip.first_response_due - vip.posted_at == timedelta(minutes=15)  # the clock starts at the post
        care = [t for t in tickets if t.team == "care"]
        assert {t.assignee_id for t in care} == {agent.id}
        ticket = change_ticket_status(session, care[0].id, "in_progress", agent.id, "looking")
        assert ticket.first_response_at is None  # only a reply to the customer stops the first-response clock
    with session_scope(database_url) as session:
        kinds = [e["kind"] for e in ticket_history(session, care[0].id)]
        assert kinds == ["created", "assigned", "status"]
        assert session.execute(select(TicketEvent).where(TicketEvent.kind == "status")).scalar().user_id


def test_alerts_are_stored_with_evidence_and_deduplicated(settings, database_url):
    for day in range(1, 9):  # baseline: 28 windows of 6 h = 7 days of history
        store(database_url, [f"nimbus mobile note {i}" for i in range(4)], when=NOW - timedelta(days=day))
    store(database_url, [f"Nimbus Mobile outage, terrible, no signal {i}" for i in range(60)],
          when=NOW - timedelta(minutes=5))
    analyze_pending(settings)
    fired = evaluate_alerts(settings, now=NOW + timedelta(hours=1))
    assert fired == 2
    assert evaluate_alerts(settings, now=NOW + timedelta(hours=1)) == 0
    with session_scope(database_url) as session:
        from store.alerts import which_alerts_fired

        alerts = which_alerts_fired(session)
    volume = next(a for a in alerts if a.rule == "volume_spike")
    assert volume.evidence["observed"] == 60 and len(volume.evidence["top_mentions"]) == 5
