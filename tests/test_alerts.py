"""Alert rules on known series, per-post rules, backtests, and delivery over real HTTP."""

import json
import math
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from brandpulse.services.alert_rules import detect, detect_posts
from brandpulse.services.alerting import backtest, evaluate_alerts
from brandpulse.cli.main import app
from brandpulse.services.delivery import deliver_pending
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.core.settings_alerts import AlertSettings
from store.alerts import which_alerts_fired
from store.buckets import bucket_label
from store.engine import session_scope
from store.mentions import save_mentions

END = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)  # a Monday noon
RULES = AlertSettings()


def seasonal(weeks: int = 6, end: datetime = END) -> dict:
    """Hourly series with a strong daily cycle and quiet weekends: busy, but never anomalous."""
    series = {}
    for h in range(1, weeks * 7 * 24 + 1):
        moment = end - timedelta(hours=h)
        level = 30 + 25 * math.sin((moment.hour - 6) / 24 * 2 * math.pi)
        if moment.weekday() >= 5:
            level *= 0.4
        count = int(level)
        series[bucket_label(moment, "hour")] = (count, count, count // 5)
    return series


def test_flat_seasonal_series_fires_nothing_over_three_weeks():
    series = seasonal()
    since = END - timedelta(weeks=6)
    fired = [f for k in range(0, 21 * 24) for f in detect(RULES, series, END - timedelta(hours=k), since)]
    assert fired == []


def test_spike_against_the_same_hours_of_the_week_fires():
    series = seasonal()
    for h in range(1, 4):  # a Monday-morning surge three times the usual
        label = bucket_label(END - timedelta(hours=h), "hour")
        count = series[label][0] * 3
        series[label] = (count, count, int(count * 0.8))
    findings = {f.rule: f for f in detect(RULES, series, END, END - timedelta(weeks=6))}
    assert set(findings) == {"volume_spike", "negative_share"}
    volume = findings["volume_spike"]
    assert volume.detail["baseline_basis"].startswith("same hours of the week")
    assert len(volume.detail["baseline_values"]) == 12 and volume.observed > 2 * volume.baseline
    assert findings["negative_share"].baseline == pytest.approx(0.2, abs=0.05)


def test_without_enough_history_nothing_fires_at_the_start_of_collection():
    series = {bucket_label(END - timedelta(hours=h), "hour"): (100, 100, 90) for h in range(1, 5)}
    assert [f.rule for f in detect(RULES, series, END, END - timedelta(hours=4))] == ["negative_share"]


def test_post_rules_fire_for_big_author_complaints_and_crisis_words():
    complaint = {"mention_id": 7, "created_at": END - timedelta(minutes=10), "author": "megastar",
                 "followers": 2_000_000, "tier": "mega", "network": "x", "text": "awful"}
    hit = {"mention_id": 8, "created_at": END - timedelta(minutes=30), "network": "reddit",
           "text": "Nimbus Mobile recall?", "keywords": ["recall"]}
    findings = detect_posts(RULES, [complaint], [hit], END)
    assert [(f.rule, f.key) for f in findings] == [("influencer_complaint", "7"), ("crisis_keywords", "")]
    assert [f.rule for f in detect_posts(RULES, [complaint], [hit], END + timedelta(hours=2))] == \
        ["influencer_complaint"]  # a complaint analysed late still alerts (once: its key is the post)
    assert detect_posts(RULES, [complaint], [hit], END + timedelta(hours=25)) == []


def post(url, native_id, text, when, followers=10, handle="u"):
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(
            network="x", native_id=native_id, text=text, created_at=when, brands=["Nimbus Mobile"],
            author=AuthorRecord("x", handle, handle=handle, followers=followers))])


@pytest.fixture
def history(write_config, database_url):
    """Five quiet weeks, then an outage hour and a complaint from a mega account."""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    for day in range(1, 36):
        for i in range(3):
            post(database_url, f"q{day}-{i}", f"nimbus mobile plan question {i}", now - timedelta(days=day, hours=i))
    for i in range(40):
        post(database_url, f"o{i}", f"Nimbus Mobile outage, terrible, no signal, awful {i}",
             now - timedelta(hours=2, minutes=i))
    post(database_url, "star", "Nimbus Mobile data breach?? this is awful, terrible service", now - timedelta(hours=5),
         followers=3_000_000, handle="star")
    settings = write_config()
    analyze_pending(settings)
    return settings, now


def test_backtest_lists_what_would_have_fired_and_stores_nothing(history):
    settings, now = history
    findings = backtest(settings, "nimbus mobile", now - timedelta(days=30), now)
    rules = [f.rule for f in findings]
    assert rules.count("volume_spike") == 1  # cooldown: one alert per episode
    assert "influencer_complaint" in rules and "crisis_keywords" in rules
    with session_scope(settings.database.url) as session:
        assert which_alerts_fired(session) == []
    result = CliRunner().invoke(app, ["alerts", "backtest", "--brand", "Nimbus Mobile",
                                      "--since", (now - timedelta(days=30)).strftime("%Y-%m-%d")])
    assert result.exit_code == 0, result.output
    assert "volume_spike" in result.output and "influencer_complaint" in result.output
    assert "would have fired" in result.output


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_alerts_are_delivered_to_a_webhook_over_http_once(history, write_config, monkeypatch):
    _, now = history
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received = []
    monkeypatch.setenv("BRANDPULSE_ALERT_HOOK", f"json://127.0.0.1:{server.server_port}/hooks/brandpulse")
    monkeypatch.setenv("BRANDPULSE_ALERT_DEAD", "json://127.0.0.1:1/nowhere")
    settings = write_config(alerts={"channels": [
        {"name": "ops", "url_env": "BRANDPULSE_ALERT_HOOK", "min_severity": "critical"},
        {"name": "dead", "url_env": "BRANDPULSE_ALERT_DEAD", "rules": ["negative_share"]}]})
    try:
        assert evaluate_alerts(settings, now=now, hours_back=6) >= 2
        result = deliver_pending(settings)
        assert deliver_pending(settings).delivered == 0  # each alert goes out once
    finally:
        server.shutdown()
    titles = [body["title"] for path, body in Receiver.received]
    assert all(path == "/hooks/brandpulse" for path, _ in Receiver.received)
    assert any("complaint from @star" in t for t in titles)
    star = next(body for _, body in Receiver.received if "@star" in body["title"])
    assert "data breach" in star["message"] and star["type"] == "failure"
    with session_scope(settings.database.url) as session:
        alerts = which_alerts_fired(session)
    negative = [a for a in alerts if a.rule == "negative_share"]
    assert negative and all("could not deliver to dead" in a.delivery_error for a in negative)
    assert result.failed == len(negative)
    assert all(a.delivered_at for a in alerts if a.rule == "influencer_complaint")
