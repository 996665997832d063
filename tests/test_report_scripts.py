"""PDF reports print text in any script (CJK, Arabic shaped, emoji), and the influencer PDF reads well:
the data's real period, retweets credited to their authors, top posts with link and sentiment, full pages."""

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.reports.export import export_influencers
from brandpulse.reports.influencers import build_influencer_report
from brandpulse.reports.pdf import ReportPdf
from store.engine import session_scope
from store.mentions import save_mentions

NOW = datetime.now(timezone.utc).replace(microsecond=0)
JAPANESE = "東京の新しい料金プランは高すぎる"
CHINESE = "这个产品的信号很好"
ARABIC = "خدمة العملاء ممتازة"
EMOJI = "😡🔥👍"
HINDI = "नेटवर्क"


def _text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _letters(text: str) -> list[str]:
    return sorted(c for c in text if not c.isspace())


def test_every_script_prints_and_a_glyph_no_font_has_shows_as_a_mark(tmp_path, caplog):
    pdf = ReportPdf("scripts")
    pdf.para(f"{JAPANESE} {CHINESE} {EMOJI} {HINDI}")
    pdf.para(ARABIC)
    pdf.table(["author", "post"], [["@東京", f"{ARABIC} {EMOJI}"]], widths=(40, 120))
    with caplog.at_level(logging.WARNING):
        pdf.para("hieroglyph \U00013000 end")
    pdf.output(str(tmp_path / "scripts.pdf"))
    text = _text(tmp_path / "scripts.pdf")
    lines = text.splitlines()
    assert JAPANESE in text and CHINESE in text and EMOJI in text and "@東京" in text
    arabic_line = next(line for line in lines if line.strip() and all(
        c.isspace() or "\u0600" <= c <= "\u06ff" for c in line))
    assert _letters(arabic_line) == _letters(ARABIC)  # every letter is there, shaped (RTL in visual order)
    assert "hieroglyph \ufffd end" in text and "U+13000" in caplog.text


@pytest.fixture
def multilingual(write_config, database_url):
    """Posts about a brand in five scripts by an influencer and fans, one fan retweeting her."""
    settings = write_config()
    star = AuthorRecord("x", "s", handle="sakura", followers=300_000, profile_url="https://x.com/sakura")
    first, last = NOW - timedelta(days=6, hours=3), NOW - timedelta(days=1, hours=2)
    records = [
        MentionRecord(network="x", native_id="jp", text=f"Nimbus Mobile {JAPANESE} {EMOJI}", created_at=first,
                      brands=["Nimbus Mobile"], author=star, likes=5000, reposts=900,
                      url="https://x.com/sakura/status/jp"),
        MentionRecord(network="x", native_id="ar", text=f"Nimbus Mobile {ARABIC}", created_at=first + timedelta(days=2),
                      brands=["Nimbus Mobile"], author=star, likes=800, url="https://x.com/sakura/status/ar"),
    ]
    for i in range(12):
        fan = AuthorRecord("x", f"f{i}", handle=f"fan{i}", followers=100 + i)
        text = f"RT @sakura: Nimbus Mobile {JAPANESE}" if i == 0 else f"@sakura Nimbus Mobile {CHINESE} {i}"
        records.append(MentionRecord(network="x", native_id=f"f{i}", text=text, brands=["Nimbus Mobile"],
                                     created_at=last - timedelta(hours=i), author=fan, likes=9000 if i == 0 else i,
                                     reposted_id="jp" if i == 0 else None,
                                     in_reply_to_id=None if i == 0 else "jp",
                                     url=f"https://x.com/fan{i}/status/f{i}"))
    with session_scope(database_url) as session:
        save_mentions(session, records)
    return settings, first, last


def test_influencer_pdf_period_reposts_links_sentiment_and_full_pages(multilingual, tmp_path):
    settings, first, last = multilingual
    report = build_influencer_report(settings, "Nimbus Mobile", since=NOW - timedelta(days=90))
    path = export_influencers(report, "pdf", tmp_path / "influencers.pdf")
    reader = PdfReader(path)
    text = _text(path)
    # the period is the data's span, not the 90-day window asked for
    assert f"Period: {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)" in text
    # the retweet names its original author; every top post carries its link and its sentiment
    assert "@fan0 reposted @sakura's post" in text
    for post in report.top_posts[:10]:
        assert post["url"] in text
    assert len(re.findall(r"engagement \d+, sentiment ([+-]\d\.\d\d|n/a|negative|neutral|positive)", text)) == min(len(report.top_posts), 10)
    assert JAPANESE in text and CHINESE in text and EMOJI in text
    # no page but the last is half empty: the lowest text or image on it, measured from the top
    fills = []
    for page in reader.pages[:-1]:
        top, lowest, matrix = float(page.mediabox.top), [float(page.mediabox.top)], [0.0] * 6

        def operand(op, args, cm, tm, lowest=lowest, matrix=matrix):
            if op == b"cm":
                matrix[:] = [float(a) for a in args]
            elif op == b"Do":
                lowest.append(matrix[5])  # an image drawn at y (its bottom)
            elif op in (b"Tj", b"TJ"):
                lowest.append(tm[5])
        page.extract_text(visitor_operand_before=operand)
        fills.append((top - min(lowest)) / top)
    assert all(fill > 1 / 2 for fill in fills), fills
