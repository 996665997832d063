"""Alerts escalate within an episode, judge it against a baseline without it, slide with the
analysis cadence (a big author's complaint alerts within minutes), and show their evidence as a chart."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from dashboard_session import signed_in

from brandpulse.services.alert_rules import HourlySeries, detect
from brandpulse.services.alerting import BrandHistory, evaluate_alerts, replay
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.scheduler import build_scheduler
from brandpulse.core.settings_alerts import AlertSettings
from store.alerts import which_alerts_fired
from store.buckets import bucket_label
from store.engine import session_scope
from store.mentions import save_mentions

T0 = datetime(2026, 11, 16, 9, tzinfo=timezone.utc)  # the episode starts


def hourly(episode: list[tuple[int, float]], calm: tuple[int, float] = (30, 0.2), days: int = 8) -> HourlySeries:
    """``days`` of calm hours (mentions, negative share), then the episode's hours from T0."""
    counts = {}
    for h in range(1, days * 24 + 1):
        n, share = calm
        counts[bucket_label(T0 - timedelta(hours=h), "hour")] = (n, n, round(n * share))
    for h, (n, share) in enumerate(episode):
        counts[bucket_label(T0 + timedelta(hours=h), "hour")] = (n, n, round(n * share))
    return HourlySeries(counts)


def only_negative(window_hours: int) -> SimpleNamespace:
    return SimpleNamespace(alerts=AlertSettings(volume_spike={"enabled": False},
                                                negative_share={"window_hours": window_hours}))


def fired(settings, series: HourlySeries, hours: int) -> list[tuple[int, str]]:
    history = BrandHistory(series, T0 - timedelta(days=8), [], [])
    return [((f.window_end - T0) // timedelta(hours=1), f.severity)
            for f in replay(settings, history, T0, T0 + timedelta(hours=hours), {})]


def test_a_warning_escalates_to_critical_as_soon_as_the_rule_says_so_and_never_back():
    # hour 0: 45% negative (usual 20%) → warning; hour 1: 70% → critical at once (the cooldown of a
    # warning does not hold back a critical); hours 2-3 again warning/critical: quiet (inside the critical's)
    series = hourly([(30, 0.45), (30, 0.7), (30, 0.45), (30, 0.75), (30, 0.2)])
    assert fired(only_negative(1), series, 6) == [(1, "warning"), (2, "critical")]


def test_the_negative_share_baseline_leaves_out_the_episode_it_judges():
    # six loud hours at 50% negative, then at 65%: against the calm 20% that is +45 points, critical;
    # a baseline that swallowed the first six hours (28%) would never let it become critical
    series = hourly([(300, 0.5)] * 6 + [(300, 0.65)] * 8)
    rules = only_negative(6).alerts
    judged = detect(rules, series, T0 + timedelta(hours=12), episodes={"negative_share": T0})[0]
    assert judged.baseline == pytest.approx(0.2, abs=0.005) and judged.severity == "critical"
    assert judged.detail["thresholds"] == {"warning": pytest.approx(0.4, abs=0.005),
                                           "critical": pytest.approx(0.6, abs=0.005)}
    assert ("critical" in [severity for _, severity in fired(only_negative(6), series, 14)])


def record(native_id, text, when, followers=10, handle="u") -> MentionRecord:
    return MentionRecord(network="x", native_id=native_id, text=text, created_at=when, brands=["Nimbus Mobile"],
                         author=AuthorRecord("x", handle, handle=handle, followers=followers))


def post(url, *records: MentionRecord) -> None:
    with session_scope(url) as session:
        save_mentions(session, list(records))


def test_a_macro_authors_complaint_alerts_at_the_next_evaluation_not_the_next_hour(settings, database_url):
    now = datetime.now(timezone.utc).replace(minute=40, second=0, microsecond=0) - timedelta(hours=1)
    post(database_url, *[record(f"q{day}-{i}", f"nimbus mobile plan question {i}", now - timedelta(days=day, hours=i))
                         for day in range(1, 9) for i in range(4)])
    # an outage in the last half hour, and a complaint from a 600k (macro) account in it
    post(database_url, *[record(f"o{i}", f"Nimbus Mobile outage, terrible, no signal {i}",
                                now - timedelta(minutes=30 - i // 2)) for i in range(40)])
    post(database_url, record("macro", "Nimbus Mobile is awful, terrible service, no signal all day",
                              now - timedelta(minutes=8), followers=600_000, handle="macro"))
    analyze_pending(settings)
    assert evaluate_alerts(settings, now=now) >= 2
    with session_scope(database_url) as session:
        alerts = {a.rule: a for a in which_alerts_fired(session)}
    assert alerts["influencer_complaint"].window_end == now and "@macro" in alerts["influencer_complaint"].title
    volume = alerts["volume_spike"]
    assert volume.window_end == now and volume.evidence["observed"] == 41  # the trailing 6 h, to the minute
    assert volume.evidence["series"][-1]["value"] == 41 and "warning" in volume.evidence["thresholds"]
    # the next evaluations, minutes later and at the whole hour, add nothing: one alert per episode
    assert evaluate_alerts(settings, now=now + timedelta(minutes=5)) == 0
    assert evaluate_alerts(settings, now=now.replace(minute=0) + timedelta(hours=1)) == 0


def test_an_analysis_that_scored_something_wakes_the_alert_job(settings, database_url):
    post(database_url, record("fresh", "Nimbus Mobile is down again", datetime.now(timezone.utc)))
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    try:
        scheduler.get_job("alerts").modify(next_run_time=datetime.now(timezone.utc) + timedelta(hours=1))
        scheduler.get_job("analyze").func()
        assert scheduler.get_job("alerts").next_run_time <= datetime.now(timezone.utc)
    finally:
        scheduler.shutdown(wait=False)


def test_alerts_page_charts_the_evidence_and_shows_posts_as_text(demo, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(demo.config_path))
    app = signed_in("marketing", {n: s for n, _, _, s in demo.users}["marketing"])
    app.sidebar.radio(key="page").set_value("Alerts").run()
    app.radio(key="alerts_show").set_value("all").run()
    assert not app.exception, app.exception
    assert len(app.get("vega_lite_chart")) == len(app.expander) > 0  # every alert has its chart
    assert not app.get("json")  # no raw evidence
    assert any(t.value.startswith("[") and "outage" in t.value.lower() for t in app.text)
    figures = app.dataframe[0].value
    assert {"observed", "baseline"} <= set(figures["figure"])
