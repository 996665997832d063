"""A repost is credited to its original author by the stored ``reposted_id`` (a Bluesky or Mastodon
repost carries no "RT @" text), in the influencer report's top posts, its PDF and its XLSX (issue 20)."""

from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook
from pypdf import PdfReader

from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.reports.export import export_influencers
from brandpulse.reports.influencers import build_influencer_report
from store.engine import session_scope
from store.mentions import save_mentions

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def test_a_repost_without_rt_text_is_credited_to_its_original_author(write_config, database_url, tmp_path):
    settings = write_config()
    star = AuthorRecord("bluesky", "did:star", handle="star.bsky.social", followers=120_000)
    fan = AuthorRecord("bluesky", "did:fan", handle="fan.bsky.social", followers=40)
    other = AuthorRecord("bluesky", "did:other", handle="other.bsky.social", followers=15)
    text = "Nimbus Mobile finally fixed roaming in Lisbon, great support team"
    records = [
        MentionRecord(network="bluesky", native_id="at://star/1", text=text, brands=["Nimbus Mobile"],
                      created_at=NOW - timedelta(days=2), author=star, likes=300,
                      url="https://bsky.app/profile/star.bsky.social/post/1"),
        MentionRecord(network="bluesky", native_id="at://fan/repost/1", text=text, brands=["Nimbus Mobile"],
                      created_at=NOW - timedelta(days=1), author=fan, likes=900, reposted_id="at://star/1",
                      url="https://bsky.app/profile/fan.bsky.social/post/r1"),
        MentionRecord(network="bluesky", native_id="at://other/repost/9", text="Nimbus Mobile roaming works",
                      brands=["Nimbus Mobile"], created_at=NOW - timedelta(hours=5), author=other, likes=50,
                      reposted_id="at://gone/9"),  # its original was never collected
    ]
    with session_scope(database_url) as session:
        save_mentions(session, records)

    report = build_influencer_report(settings, "Nimbus Mobile", since=NOW - timedelta(days=30))
    posts = {p["author"]: p for p in report.top_posts}
    assert posts["fan.bsky.social"]["repost_of"] == "star.bsky.social"
    assert posts["fan.bsky.social"]["original_url"] == "https://bsky.app/profile/star.bsky.social/post/1"
    assert posts["star.bsky.social"]["repost_of"] is None and posts["star.bsky.social"]["reposted_id"] is None
    assert posts["other.bsky.social"]["repost_of"] is None and posts["other.bsky.social"]["reposted_id"]

    pdf = export_influencers(report, "pdf", tmp_path / "influencers.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "@fan.bsky.social reposted @star.bsky.social's post" in text
    assert "@other.bsky.social reposted a post" in text
    assert "original: https://bsky.app/profile/star.bsky.social/post/1" in text

    sheet = load_workbook(export_influencers(report, "xlsx", tmp_path / "influencers.xlsx"))["Top posts"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert {r["author"]: r["repost_of"] for r in rows}["fan.bsky.social"] == "star.bsky.social"
