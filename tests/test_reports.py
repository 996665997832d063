"""Influencer reports: the leaderboard's numbers in CSV, XLSX (read back) and PDF (text extracted)."""

import csv
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from brandpulse.cli import app
from brandpulse.records import AuthorRecord, MentionRecord
from brandpulse.reports.influencers import build_influencer_report
from store.engine import session_scope
from store.mentions import save_mentions

NOW = datetime.now(timezone.utc).replace(microsecond=0)
# The conversation ends on a Thursday to Sunday (this week's, or last week's early in the week),
# so its six posts (two days apart at most) always share one Monday-to-Sunday week.
CONVERSATION_END = NOW if NOW.weekday() >= 3 else NOW - timedelta(days=3)
runner = CliRunner()


@pytest.fixture
def conversation(write_config, database_url):
    settings = write_config()
    hub = AuthorRecord("x", "h", handle="hub", followers=250_000)
    records = [MentionRecord(network="x", native_id="root", text="Nimbus Mobile eSIM review: great coverage",
                             created_at=CONVERSATION_END - timedelta(days=2), brands=["Nimbus Mobile"], author=hub,
                             likes=900, reposts=120)]
    for i in range(5):
        records.append(MentionRecord(
            network="x", native_id=f"r{i}", text=f"=HYPERLINK(\"http://evil\") @hub Nimbus Mobile agree {i}",
            in_reply_to_id="root", created_at=CONVERSATION_END - timedelta(days=1, minutes=i), brands=["Nimbus Mobile"],
            author=AuthorRecord("x", f"f{i}", handle=f"fan{i}", followers=15 + i)))
    with session_scope(database_url) as session:
        save_mentions(session, records)
    return settings


def test_report_ranks_the_hub_first_with_its_components(conversation):
    report = build_influencer_report(conversation, "Nimbus Mobile")
    top = report.leaderboard[0]
    assert top["handle"] == "hub" and top["tier"] == "mid" and top["authority"] == 1.0
    assert report.summary["authors"] == 6 and report.summary["by_tier"] == {"mid": 1, "nano": 5}
    assert report.top_posts[0]["author"] == "hub" and report.top_posts[0]["engagement"] == 1020


def test_export_csv_xlsx_and_pdf_hold_the_right_numbers(conversation, tmp_path):
    expected = build_influencer_report(conversation, "Nimbus Mobile").leaderboard[0]
    for fmt in ("csv", "xlsx", "pdf"):
        result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--format", fmt,
                                     "--output", str(tmp_path / f"board.{fmt}")])
        assert result.exit_code == 0, result.output
    with (tmp_path / "board.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["handle"] == "hub" and float(rows[0]["score"]) == expected["score"]

    book = load_workbook(tmp_path / "board.xlsx")
    assert book.sheetnames == ["Summary", "Leaderboard", "Top posts", "Trend"]
    board = list(book["Leaderboard"].values)
    header = board[0]
    first = dict(zip(header, board[1]))
    assert first["handle"] == "hub" and first["score"] == expected["score"]
    assert first["authority"] == 1.0 and first["tier"] == "mid"
    posts = list(book["Top posts"].values)
    assert any(str(row[5]).startswith("'=HYPERLINK") for row in posts[1:])  # never a live formula
    summary = {row[0]: row[1] for row in book["Summary"].values if row and row[0]}
    assert summary["authors"] == 6

    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "board.pdf").pages)
    assert "Influencer report: Nimbus Mobile" in text and "authors scored" in text
    assert "@hub" in text and f"{expected['score']:.1f}" in text
    assert "Top posts" in text and "great coverage" in text


def test_export_refuses_an_unknown_brand_or_format(conversation, tmp_path):
    result = runner.invoke(app, ["export", "influencers", "--brand", "Nope", "--output", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "brand 'Nope' is not tracked" in result.output
    result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--format", "doc",
                                 "--output", str(tmp_path / "x.doc")])
    assert result.exit_code == 1 and "format 'doc' is not one of csv, xlsx, pdf" in result.output


def test_scheduled_weekly_report_is_written_once_and_delivered(conversation, write_config, tmp_path, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from brandpulse.influence import refresh_influence
    from brandpulse.pipeline import analyze_pending
    from brandpulse.reports.brand import run_scheduled_reports

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("BRANDPULSE_REPORT_HOOK", f"json://127.0.0.1:{server.server_port}/reports")
    settings = write_config(reports={"cadence": "weekly", "folder": str(tmp_path / "reports"), "deliver": True},
                            alerts={"channels": [{"name": "team", "url_env": "BRANDPULSE_REPORT_HOOK"}]})
    analyze_pending(settings)
    refresh_influence(settings)
    # the Monday after the conversation's week: that week is complete
    monday = CONVERSATION_END - timedelta(days=CONVERSATION_END.weekday()) + timedelta(days=7)
    try:
        [path] = run_scheduled_reports(settings, now=monday)
        assert run_scheduled_reports(settings, now=monday) == []  # once per period
    finally:
        server.shutdown()
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert "Nimbus Mobile: weekly report" in text and "mentions" in text
    assert "\n6 " in text or " 6 " in text  # the six posts of the week
    assert "Top influencers" in text and "@hub" in text
    assert received and received[0]["attachments"][0]["filename"] == path.name
