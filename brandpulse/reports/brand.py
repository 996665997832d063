"""The brand report (daily or weekly PDF): figures against the previous period, trends, share of voice,
topics, alerts, influencers and care. Produced on demand or by the scheduler, written to a folder
and optionally sent through the alert channels."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from brandpulse.delivery import channel_url, send
from brandpulse.errors import BrandpulseError
from brandpulse.reports.pdf import ReportPdf, bar_chart, check_output, line_chart
from brandpulse.settings import Settings
from brandpulse.voice import share_of_voice
from store.alerts import which_alerts_fired
from store.brands import brand_named, the_brand_named
from store.engine import session_scope
from store.influence import who_leads_the_conversation
from store.models import utcnow
from store.overview import what_are_the_top_terms
from store.queries import (
    MentionFilter,
    how_many_mentions_per_day,
    what_are_the_headline_figures,
)
from store.reports import has_report_been_made, record_report
from store.tickets import how_did_care_do
from store.topics import what_are_people_talking_about

LENGTH = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def period_end(now: datetime, cadence: str) -> datetime:
    """The end of the last whole period: today's midnight (daily) or this Monday's (weekly), UTC."""
    midnight = datetime.combine(now.astimezone(timezone.utc).date(), time.min, timezone.utc)
    return midnight - timedelta(days=midnight.weekday()) if cadence == "weekly" else midnight


def _delta(now: float, before: float, percent: bool = False) -> str:
    change = now - before
    return f"{change:+.0%}" if percent else f"{change:+,.0f}"


def write_brand_report(settings: Settings, brand_name: str, cadence: str, end: datetime, path: Path) -> Path:
    """Write the PDF for the period ending at ``end``."""
    if cadence not in LENGTH:
        raise BrandpulseError(f"report cadence {cadence!r}: use daily or weekly")
    start, previous = end - LENGTH[cadence], end - 2 * LENGTH[cadence]
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        flt = MentionFilter(brand_ids=(brand.id,), since=start, until=end)
        now_figures = what_are_the_headline_figures(session, flt)
        before = what_are_the_headline_figures(session, MentionFilter(brand_ids=(brand.id,), since=previous,
                                                                      until=start))
        daily = how_many_mentions_per_day(session, MentionFilter(brand_ids=(brand.id,), since=end - timedelta(days=28),
                                                                 until=end))
        aspects = what_are_the_top_terms(session, flt, ("ASPECT",), 8)
        topics = what_are_people_talking_about(session, brand.id)[:6]
        alerts = [a for a in which_alerts_fired(session, brand_id=brand.id) if start <= a.window_end <= end]
        leaders = who_leads_the_conversation(session, brand.id, 10)
        care = how_did_care_do(session, brand.id, start, end)
    voice = share_of_voice(settings, brand.name, start, end - timedelta(seconds=1), by="all")
    negative = share_of_voice(settings, brand.name, start, end - timedelta(seconds=1), by="all", sentiment="negative")
    pdf = ReportPdf(f"{brand.name} {cadence} report")
    pdf.heading(f"{brand.name}: {cadence} report")
    pdf.para(f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, against the {cadence} period before")
    pdf.table(["figure", "this period", "change"], [
        ["mentions", f"{now_figures['volume']:,}", _delta(now_figures["volume"], before["volume"])],
        ["net sentiment", f"{now_figures['net_sentiment']:+.0%}",
         _delta(now_figures["net_sentiment"], before["net_sentiment"], True)],
        ["complaint rate", f"{now_figures['complaint_rate']:.0%}",
         _delta(now_figures["complaint_rate"], before["complaint_rate"], True)],
        ["tickets opened", care["opened"], ""], ["tickets closed", care["closed"], ""],
        ["first responses late", care["first_response_breached"], ""], ["alerts", len(alerts), ""]],
        widths=(70, 50, 40))
    days = sorted({row["day"] for row in daily})
    if days:
        pdf.chart(line_chart([d[5:] for d in days], [sum(r["mentions"] for r in daily if r["day"] == d) for d in days],
                             "Mentions per day, last 28 days"))
    if voice:
        pdf.chart(bar_chart([v["brand"] for v in voice], [round(100 * v["share"], 1) for v in voice],
                            "Share of voice, % of mentions"), width=150)
        pdf.para("Share of negative mentions: " + ", ".join(f"{v['brand']} {v['share']:.0%}" for v in negative))
    pdf.add_page()
    if aspects:
        pdf.heading("What people talk about")
        pdf.para("Aspects: " + ", ".join(f"{a['term']} ({a['mentions']})" for a in aspects))
    for topic in topics:
        pdf.para(f"{'EMERGING · ' if topic.emerging else ''}{topic.label}: {topic.size} posts, "
                 f"growth ×{topic.growth:g}", bold=True)
        for post in topic.representative[:2]:
            pdf.para(f"  “{post['text'][:200]}”", size=9)
    if alerts:
        pdf.heading("Alerts")
        for alert in alerts:
            pdf.para(f"{alert.window_end:%Y-%m-%d %H:%M} · {alert.severity} · {alert.title}")
    if leaders:
        pdf.heading("Top influencers")
        pdf.table(["author", "network", "tier", "score", "posts"],
                  [[f"@{r['handle']}", r["network"], r["tier"], f"{r['score']:.1f}", r["posts_about_brand"]]
                   for r in leaders], widths=(60, 30, 25, 25, 25))
    try:
        pdf.output(str(path))
    except OSError as exc:
        raise BrandpulseError(f"could not write the report to {path}: {exc.strerror}; "
                              "choose a writable path") from None
    return path


def produce_brand_report(settings: Settings, brand_name: str, cadence: str, *, output: Path | None = None,
                         deliver: bool = False, now: datetime | None = None) -> Path:
    """Write (and optionally send) the report of the last whole period; return the file."""
    end = period_end(now or utcnow(), cadence)
    slug = re.sub(r"[^a-z0-9]+", "-", brand_name.lower()).strip("-")
    if output is not None:
        path = check_output(output)
    else:
        folder = Path(settings.reports.folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BrandpulseError(f"cannot create the reports folder {folder} ({exc.strerror}); "
                                  "set reports.folder to a writable folder") from None
        path = check_output(folder / f"{slug}-{cadence}-{end:%Y-%m-%d}.pdf")
    write_brand_report(settings, brand_name, cadence, end, path)
    if deliver:
        failed = [c.name for c in settings.alerts.channels
                  if (url := channel_url(c)) is None
                  or not send(url, f"{brand_name} {cadence} report", f"Attached: {path.name}", "info", attach=path)]
        if failed:
            raise BrandpulseError(f"report written to {path}, but sending failed on {', '.join(failed)}; "
                                  "check those channels' URLs")
    return path


def run_scheduled_reports(settings: Settings, now: datetime | None = None) -> list[Path]:
    """Produce each own brand's report for the last whole period once (the scheduler calls this)."""
    cadence = settings.reports.cadence
    if cadence == "off":
        return []
    end = period_end(now or utcnow(), cadence)
    made = []
    for brand in settings.brands:
        with session_scope(settings.database.url) as session:
            target = brand_named(session, brand.name)
            if target is None or has_report_been_made(session, target.id, cadence, end):
                continue
        error, path = None, None
        try:
            path = produce_brand_report(settings, brand.name, cadence, deliver=settings.reports.deliver, now=now)
            made.append(path)
        except BrandpulseError as exc:
            error = str(exc)
        with session_scope(settings.database.url) as session:
            record_report(session, target.id, cadence, end, str(path or ""), error)
    return made
