"""Influencer reports: the leaderboard's numbers in CSV, XLSX (read back) and PDF (text extracted)."""

import csv
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.records import AuthorRecord, MentionRecord
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
                             likes=900, reposts=120, url="https://x.com/hub/status/root")]
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
        result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--format", fmt.upper(),
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
    assert posts[0][5] == "text" and any(str(row[5]).startswith("=HYPERLINK") for row in posts[1:])
    summary = {row[0]: row[1] for row in book["Summary"].values if row and row[0]}
    assert summary["authors"] == 6

    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "board.pdf").pages)
    assert "Influencer report: Nimbus Mobile" in text and "authors scored" in text
    assert "@hub" in text and f"{expected['score']:.1f}" in text
    assert "Top posts" in text and "great coverage" in text


def test_xlsx_reads_like_a_finished_spreadsheet(conversation, tmp_path):
    """Every sheet: frozen bold header, filters over the data, fitted widths, number and date formats,
    clickable links, and a post starting with "=" shown exactly as written in a text cell."""
    result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--format", "Xlsx",
                                 "--output", str(tmp_path / "board.xlsx")])
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "board.xlsx")
    for sheet in book.worksheets:
        last = sheet.cell(1, sheet.max_column).column_letter
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title
        for letter in (cell.column_letter for cell in sheet[1]):
            assert 6 <= sheet.column_dimensions[letter].width <= 60, (sheet.title, letter)

    board = book["Leaderboard"]
    column = {cell.value: cell.column for cell in board[1]}
    hub = {name: board.cell(2, index) for name, index in column.items()}
    assert hub["handle"].value == "hub" and hub["followers"].value == 250_000
    assert hub["followers"].number_format == "#,##0" and hub["score"].number_format == "0.0"
    assert hub["authority"].number_format == "0.00" and hub["bot_likelihood"].number_format == "0%"
    assert board.column_dimensions[hub["handle"].column_letter].width < 13  # fitted: narrower than the default

    posts = book["Top posts"]
    column = {cell.value: cell.column for cell in posts[1]}
    rows = list(posts.iter_rows(min_row=2))
    top = rows[0]
    assert isinstance(top[column["created_at"] - 1].value, datetime)
    assert top[column["created_at"] - 1].number_format == "yyyy-mm-dd hh:mm"
    assert top[column["engagement"] - 1].value == 1020 and top[column["engagement"] - 1].number_format == "#,##0"
    link = top[column["url"] - 1]
    assert link.value == "https://x.com/hub/status/root" and link.hyperlink.target == link.value
    texts = [row[column["text"] - 1] for row in rows]
    injected = [cell for cell in texts if cell.value.startswith("=HYPERLINK")]
    assert injected and all(cell.data_type == "s" and cell.quotePrefix for cell in injected)
    assert injected[0].value.startswith('=HYPERLINK("http://evil") @hub Nimbus Mobile agree')
    longest = max(len(cell.value) for cell in texts)
    assert posts.column_dimensions[texts[0].column_letter].width >= min(longest, 60)

    trend = book["Trend"]
    assert trend["A2"].is_date and trend["A2"].number_format == "yyyy-mm-dd"
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2)}
    assert summary["period from (UTC)"].is_date and summary["authors"].value == 6


def test_any_sheet_keeps_text_as_text_and_links_only_web_addresses(tmp_path):
    from openpyxl import Workbook

    from brandpulse.reports.sheets import add_table

    book = Workbook()
    texts = ["=cmd", "+1", "-2 stars", "@ceo fix this", "#N/A", "plain", "javascript:alert(1)",
             "bell\x07 in a post", "2025-02-30", "x" * 300]
    sheet = add_table(book, "Posts", ("text", "n", "day"), [(t, 1.5, "2025-03-04") for t in texts])
    path = tmp_path / "posts.xlsx"
    book.save(path)
    sheet = load_workbook(path)["Posts"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells][:7] == texts[:7]  # exactly as written: no apostrophe
    assert all(cell.data_type == "s" for cell in cells)  # text cells: nothing runs as a formula
    assert cells[0].quotePrefix and not cells[5].quotePrefix
    assert cells[7].value == "bell\ufffd in a post" and cells[8].value == "2025-02-30"
    assert not any(cell.hyperlink for cell in cells)
    assert sheet["B2"].number_format == "#,##0.00" and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions["A"].width == 60 and sheet.column_dimensions["B"].width < 12


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

    from brandpulse.services.influence import refresh_influence
    from brandpulse.services.pipeline import analyze_pending
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
