"""The collector runner on real sources: an inbox folder and RSS over a local HTTP server."""

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select, text, update

from brandpulse.services.collecting import collect_all
from brandpulse.core.errors import ConfigError
from store.collectors import which_sources_report_health
from store.engine import session_scope
from store.models import Mention, Quarantine

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Telecom News</title>
<link>https://news.example</link>
<item><guid>g1</guid><title>Nimbus Mobile outage hits Leeds</title><link>https://news.example/1</link>
<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>
<item><guid>g2</guid><title>Weather today</title><link>https://news.example/2</link></item>
<item><guid>g3</guid><title>Vertex Telecom launches eSIM</title><description>new plans</description></item>
</channel></rss>"""


class FeedServer(BaseHTTPRequestHandler):
    requests: list = []

    def do_GET(self):  # noqa: N802
        FeedServer.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        body = FEED.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FeedServer.requests = []
    yield f"http://127.0.0.1:{server.server_port}/feed.xml"
    server.shutdown()


def count(url, model=Mention):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_inbox_files_are_collected_once_and_bad_rows_quarantined(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [{"id": "a", "text": "Nimbus Mobile is great", "created_at": "2026-11-20T10:00:00Z"},
            {"id": "b", "text": "unrelated post", "created_at": "2026-11-20T10:00:00Z"},
            {"id": "c", "text": "Vertex Telecom question?", "created_at": "2026-11-20T10:00:00Z"}]
    (inbox / "drop1.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    results = collect_all(settings)
    assert {(r.brand, r.stored) for r in results} == {("Nimbus Mobile", 1), ("Vertex Telecom", 1)}
    assert count(database_url) == 2 and count(database_url, Quarantine) == 1
    assert sum(r.stored for r in collect_all(settings)) == 0  # nothing new
    (inbox / "drop2.csv").write_text("id,text,created_at\nd,nimbus mobile again,2026-11-21\n")
    assert sum(r.stored for r in collect_all(settings, source="file")) == 1
    with session_scope(database_url) as session:
        health = which_sources_report_health(session)
    assert {h.brand for h in health} == {"Nimbus Mobile", "Vertex Telecom"}
    assert all(h.last_success_at and h.items_total >= 1 for h in health)


def test_missing_inbox_is_recorded_as_source_error(write_config, database_url, tmp_path):
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(tmp_path / "none")}})
    results = collect_all(settings, brand="Nimbus Mobile")
    assert "does not exist" in results[0].errors[0]
    with session_scope(database_url) as session:
        (health,) = which_sources_report_health(session)
    assert "does not exist" in health.last_error and health.last_success_at is None


def test_rss_feed_is_matched_by_query_and_revalidated_with_etag(write_config, database_url, feed_url):
    settings = write_config(sources={"rss": {"enabled": True, "feeds": [feed_url]}})
    first = collect_all(settings, source="rss")
    assert {(r.brand, r.stored) for r in first} == {("Nimbus Mobile", 1), ("Vertex Telecom", 1)}
    second = collect_all(settings, source="rss")
    assert sum(r.stored for r in second) == 0
    assert FeedServer.requests[-1].get("If-None-Match") == '"v1"'
    with session_scope(database_url) as session:
        urls = set(session.execute(select(Mention.url)).scalars())
    assert "https://news.example/1" in urls


def test_unknown_source_or_brand_is_a_config_error(write_config):
    settings = write_config()
    with pytest.raises(ConfigError, match="not enabled"):
        collect_all(settings, source="rss")
    with pytest.raises(ConfigError, match="not in config.yaml"):
        collect_all(settings, brand="Nobody")


def test_a_source_leased_by_another_process_is_skipped(write_config, database_url, tmp_path):
    from store.leases import take_lease, who_holds_lease

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    with session_scope(database_url) as session:
        assert take_lease(session, "collect:file", "otherhost:123", 600)
        assert not take_lease(session, "collect:file", "thirdhost:9", 600)
    results = collect_all(settings)
    assert all(r.skipped and "otherhost:123" in r.errors[0] for r in results) and count(database_url) == 0
    with session_scope(database_url) as session:
        assert who_holds_lease(session, "collect:file")[0] == "otherhost:123"
        session.execute(text("UPDATE leases SET expires_at = '2000-01-01'"))
    assert sum(r.stored for r in collect_all(settings)) == 1  # an expired lease is taken over
    with session_scope(database_url) as session:
        assert who_holds_lease(session, "collect:file") is None  # released after the one-shot run


def test_a_gap_longer_than_the_cadence_is_recorded_with_its_backfill(write_config, database_url,
                                                                      tmp_path):
    from store.collectors import which_gaps_did_sources_have
    from store.models import CollectorHealth

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox), "cadence_minutes": 5}})
    collect_all(settings, brand="Nimbus Mobile")
    with session_scope(database_url) as session:
        session.execute(update(CollectorHealth).values(
            last_success_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    (inbox / "late.jsonl").write_text(json.dumps(
        {"id": "9", "text": "Nimbus Mobile", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    (result,) = collect_all(settings, brand="Nimbus Mobile")
    assert result.gap_backfilled
    with session_scope(database_url) as session:
        (gap,) = which_gaps_did_sources_have(session, "file")
    assert gap.backfilled_items == 1 and gap.started_at.year == 2026 and gap.started_at.month == 1


def test_a_queued_collect_waits_for_another_brands_pass_of_its_source(write_config, database_url, tmp_path):
    """Two brands of one source are two queued jobs sharing the source's lease: the later one
    waits for the first one's pass instead of being skipped until the next period (seen: a post
    waited 5 minutes, a whole cadence, for its ticket)."""
    from brandpulse.services.job_work import collect_job
    from store.leases import give_back_lease, take_lease

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    with session_scope(database_url) as session:  # another worker thread collects the source for a rival
        assert take_lease(session, "collect:file", "otherhost:7:1", 600)

    def first_pass_ends():
        with session_scope(database_url) as session:
            give_back_lease(session, "collect:file", "otherhost:7:1")
    threading.Timer(1.5, first_pass_ends).start()
    result = collect_job(settings, "file", "Nimbus Mobile")
    assert not result.skipped and result.stored == 1 and count(database_url) == 1, result


def test_a_source_leased_by_a_killed_process_of_this_machine_is_collected_at_once(write_config, database_url,
                                                                                   tmp_path):
    import socket
    import subprocess

    from store.leases import take_lease

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    gone = subprocess.Popen(["true"])
    gone.wait()  # a `brandpulse run` killed with -9 while collecting: its lease would hold for minutes
    with session_scope(database_url) as session:
        assert take_lease(session, "collect:file", f"{socket.gethostname()}:{gone.pid}", 600)
    assert sum(r.stored for r in collect_all(settings)) == 1
