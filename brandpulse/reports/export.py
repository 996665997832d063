"""Write an influencer report as CSV (the leaderboard), XLSX (a sheet per section) or PDF."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook

from brandpulse.core.errors import BrandpulseError
from brandpulse.reports.influencers import COMPONENTS, InfluencerReport
from brandpulse.reports.pdf import ReportPdf, check_output, in_chart_fonts, png, trend_figure, value_bar_figure
from brandpulse.reports.sheets import PERCENT, add_table

FORMATS = ("csv", "xlsx", "pdf")
BOARD_COLUMNS = ("rank", "handle", "network", "profile_url", "followers", "tier", "score", *COMPONENTS,
                 "bot_likelihood", "bot_signals", "sentiment", "positive_posts", "negative_posts",
                 "posts_about_brand", "vip")
POST_COLUMNS = ("author", "network", "created_at", "engagement", "sentiment", "text", "url", "repost_of",
                "original_url")
SIGNED = "+0.00;-0.00;0.00"
BOARD_FORMATS = {"score": "0.0", **{c: "0.00" for c in COMPONENTS}, "bot_likelihood": PERCENT, "sentiment": SIGNED}
POST_FORMATS = {"sentiment": SIGNED}  # engagement here is a count (the default integer format)


def safe_cell(value: Any) -> Any:
    """Values as written to CSV: text that a spreadsheet would run as a formula is quoted (a CSV cell has
    no type to say "text"; the XLSX uses text cells instead, see :mod:`brandpulse.reports.sheets`)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # spreadsheets hold naive times; ours are UTC
    return value


def _rows(items: Iterable[dict], columns: tuple[str, ...]) -> list[list[Any]]:
    return [[safe_cell(item.get(c)) for c in columns] for item in items]


def write_csv(report: InfluencerReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BOARD_COLUMNS)
        writer.writerows(_rows(report.leaderboard, BOARD_COLUMNS))
        writer.writerow([])  # then how the score is computed, as '#' lines (pandas: comment="#")
        handle.writelines(f"# {line}\r\n" for line in method_lines(report))


def method_lines(report: InfluencerReport) -> list[str]:
    """"what: how" lines for the score's formula, its weighted components and sentiment."""
    return [f"{key.split(': ', 1)[1]}: {value}" for key, value in report.summary.items()
            if key.startswith("formula: ")]


def sentiment_cell(row: dict) -> str:
    """"-1.00 (0+ 1-)": the sentiment with the opinionated posts it rests on; blank when there are none."""
    if row.get("sentiment") is None:
        return ""
    return f"{row['sentiment']:+.2f} ({row.get('positive_posts', 0)}+ {row.get('negative_posts', 0)}-)"


def write_xlsx(report: InfluencerReport, path: Path) -> None:
    """A workbook with a formatted table per section (see :mod:`brandpulse.reports.sheets`)."""
    book = Workbook()
    book.remove(book.active)
    figures = [("brand", report.brand), ("period from (UTC)", report.since), ("period to (UTC)", report.until),
               *((k.replace("_", " "), v) for k, v in report.summary.items() if k != "by_tier"),
               *((f"authors in tier {tier}", n) for tier, n in sorted(report.summary.get("by_tier", {}).items()))]
    add_table(book, "Summary", ("figure", "value"), figures)
    for title, columns, items, formats in (("Leaderboard", BOARD_COLUMNS, report.leaderboard, BOARD_FORMATS),
                                           ("Top posts", POST_COLUMNS, report.top_posts, POST_FORMATS),
                                           ("Trend", ("week", "author", "posts"), report.trend, {})):
        add_table(book, title, columns, ([item.get(c) for c in columns] for item in items), formats)
    book.save(path)


def period_line(report: InfluencerReport) -> str:
    """The data's real span (first to last post about the brand), and the window asked for."""
    line = f"Period: {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d} (UTC), first to last post about the brand"
    if report.window_since is not None:
        line += f"; window asked for: since {report.window_since:%Y-%m-%d}"
    return line


def post_heading(post: dict) -> str:
    """"@a reposted @b's post on x, 2024-05-01, engagement 12, sentiment +0.80": a repost names the original's
    author (or reads "reposted a post" when the original was not collected)."""
    who = (f"@{post['author']} reposted @{post['repost_of']}'s post" if post.get("repost_of")
           else f"@{post['author']} reposted a post" if post.get("reposted_id") else f"@{post['author']}")
    value = post.get("sentiment")  # the analysis's label (negative / neutral / positive), or a score
    sentiment = "n/a" if value is None else f"{value:+.2f}" if isinstance(value, (int, float)) else str(value)
    return (f"{who} on {post['network']}, {post['created_at']:%Y-%m-%d}, engagement {post['engagement']}, "
            f"sentiment {sentiment}")


def _section(pdf: ReportPdf, title: str, room: float = 60) -> None:
    """A heading, on a new page only when less than ``room`` mm are left on this one."""
    if pdf.will_page_break(room):
        pdf.add_page()
    pdf.ln(2)
    pdf.heading(title)


@in_chart_fonts  # the labels added here fall back to CJK and emoji fonts too
def _trend_chart(report: InfluencerReport) -> bytes:
    weeks = sorted({t["week"] for t in report.trend})
    totals = [sum(t["posts"] for t in report.trend if t["week"] == w) for w in weeks]
    figure = trend_figure(weeks, totals, "Posts about the brand by the top 10, per week",
                          axis_title="posts about the brand")
    axis = figure.axes[0]
    axis.set_xlabel("week starting (Monday, UTC)")
    for index, total in enumerate(totals):
        axis.annotate(str(total), (index, total), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=7)
    return png(figure)


def write_pdf(report: InfluencerReport, path: Path) -> None:
    pdf = ReportPdf(f"Influencer report: {report.brand}")
    pdf.heading(f"Influencer report: {report.brand}")
    pdf.para(period_line(report))
    figures = report.summary
    pdf.table(["figure", "value"], [
        ["authors scored", figures["authors"]], ["posts about the brand", figures["posts"]],
        ["posts by the top 10", figures["top10_posts"]],
        ["top-10 sentiment (-1..+1)", "n/a" if figures["top10_sentiment"] is None else figures["top10_sentiment"]],
        ["VIP authors", figures["vip_authors"]], ["likely bots (>= 0.5)", figures["likely_bots"]],
        *[[f"tier {tier}", n] for tier, n in sorted(figures["by_tier"].items())]], widths=(90, 60))
    pdf.para("How the score is computed", bold=True)
    for line in method_lines(report):
        pdf.para(line, size=8)
    top = report.leaderboard[:10]
    if top:
        pdf.chart(png(value_bar_figure(["@" + r["handle"] for r in top], [round(r["score"], 1) for r in top],
                                       "Top 10 influence scores", axis_title="influence score (0-100)")),
                  width=150)  # fits under the summary, so page 1 is not left half empty
        _section(pdf, "Leaderboard")
        pdf.table(["#", "author", "network", "followers", "score", "reach", "engage", "author.", "relev.",
                   "recency", "bot", "sentiment (+ -)"],
                  [[r["rank"], "@" + r["handle"], r["network"], f"{r['followers']:,}", f"{r['score']:.1f}",
                    *(f"{r[c]:.2f}" for c in COMPONENTS), f"{r['bot_likelihood']:.2f}", sentiment_cell(r)]
                   for r in report.leaderboard[:30]],
                  widths=(7, 32, 15, 17, 11, 11, 12, 12, 11, 13, 9, 28), size=7)
        linked = [r for r in report.leaderboard[:30] if r.get("profile_url")]
        if linked:
            pdf.para("Profiles", bold=True)
            pdf.set_font("DejaVu", "", 8)
            for r in linked:
                pdf.cell(0, 4.5, f"#{r['rank']} @{r['handle']}: {r['profile_url']}", link=r["profile_url"],
                         new_x="LMARGIN", new_y="NEXT")
    if report.trend:
        pdf.ln(3)
        pdf.chart(_trend_chart(report))
    if report.top_posts:
        _section(pdf, "Top posts", room=40)
        for post in report.top_posts[:10]:
            if pdf.will_page_break(25):
                pdf.add_page()
            pdf.para(post_heading(post), bold=True, size=9)
            pdf.para(post["text"][:500], size=9)
            links = [(label, post[key]) for label, key in (("", "url"), ("original: ", "original_url"))
                     if post.get(key)]
            for label, url in links:
                pdf.set_font("DejaVu", "", 8)
                pdf.set_text_color(31, 119, 180)
                pdf.multi_cell(0, 4.5, label + url, link=url, new_x="LMARGIN", new_y="NEXT")
                pdf.set_text_color(0, 0, 0)
            if links:
                pdf.ln(2)
    pdf.output(str(path))


def export_influencers(report: InfluencerReport, fmt: str, output: Path) -> Path:
    """Write the report in ``fmt`` (csv, xlsx, pdf; any case) to ``output``; return the path."""
    writers = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}
    fmt = fmt.strip().lower()
    if fmt not in writers:
        raise BrandpulseError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    output = check_output(output)
    try:
        writers[fmt](report, output)
    except OSError as exc:
        raise BrandpulseError(f"could not write {output}: {exc.strerror}; pick a writable path") from exc
    return output


def to_bytes(report: InfluencerReport, fmt: str) -> bytes:
    """The report file's bytes (for dashboard downloads)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = export_influencers(report, fmt, Path(tmp) / f"report.{fmt}")
        return path.read_bytes()

