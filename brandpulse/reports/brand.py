"""The brand report (daily or weekly PDF): figures against the previous period, trends, share of voice,
topics, alerts, influencers and care. Produced on demand or by the scheduler, written to a folder
and optionally sent through the alert channels."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from brandpulse.services.delivery import channel_url, send
from brandpulse.core.errors import BrandpulseError
from brandpulse.reports.pdf import ReportPdf, check_output, png, trend_figure, value_bar_figure
from brandpulse.core.settings import Settings
from brandpulse.services.voice import share_of_voice
from store.brands import brand_named, the_brand_named
from store.engine import session_scope
from store.models import utcnow
from store.overview import what_are_the_top_terms
from store.queries import (
    MentionFilter,
    how_many_mentions_per_day,
    what_are_the_headline_figures,
)
from store.reports import (
    has_report_been_made,
    record_report,
    which_alerts_fired_between,
    which_mentions_fall_between,
    who_led_the_conversation_between,
)
from store.tickets import how_did_care_do
from store.topics import what_are_people_talking_about

LENGTH = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def period_end(now: datetime, cadence: str) -> datetime:
    """The end of the last whole period: today's midnight (daily) or this Monday's (weekly), UTC."""
    midnight = datetime.combine(now.astimezone(timezone.utc).date(), time.min, timezone.utc)
    return midnight - timedelta(days=midnight.weekday()) if cadence == "weekly" else midnight


def _delta(now: float, before: float) -> str:
    return f"{now - before:+,.0f}"


def _points(now: float, before: float) -> str:
    """A change between two shares in percentage points ("+3.0 pp"), never a relative %."""
    return f"{100 * (now - before):+.1f} pp"


SEVERITY = {"info": 0, "warning": 1, "critical": 2}
CARE_RULE = ("Tickets are counted in the period they belong to: opened by the customer's post time (where the "
             "SLA clock starts), closed by when they were resolved or dismissed, first responses late by their "
             "due time (the first answer came after it, or has not come).")
NEGATIVE_RULE = ("Share of negative mentions = each brand's part of all negative mentions of the brand and its "
                 "rivals together; not the brand's own negative rate, which is in brackets (its negative "
                 "mentions / all its mentions).")


def spike_marks(days: list[str], counts: list[int], alerts: list) -> list[tuple[int, str]]:
    """(day index, text) to mark on the mentions chart: for the 3 busiest days with an alert, the most
    severe alert whose window ended that day."""
    worst: dict[str, object] = {}
    for alert in alerts:
        day = f"{alert.window_end:%Y-%m-%d}"
        if day in days and (day not in worst or SEVERITY.get(alert.severity, 0) > SEVERITY.get(worst[day].severity, 0)):
            worst[day] = alert
    chosen = sorted(worst, key=lambda d: -counts[days.index(d)])[:3]
    return sorted((days.index(d), f"{worst[d].severity}: {worst[d].title}") for d in chosen)


def _voice_rows(voice: list[dict], before: list[dict], negative: list[dict]) -> list[list[str]]:
    """Per brand of ``voice`` (in its order): brand, mentions, share, change in pp, share of negative
    mentions (with the brand's own negative rate)."""
    previous = {v["brand"]: v["share"] for v in before}
    negatives = {v["brand"]: v for v in negative}
    rows = []
    for v in voice:
        neg = negatives.get(v["brand"], {"share": 0.0, "mentions": 0})
        rows.append([v["brand"], f"{v['mentions']:,}", f"{v['share']:.1%}",
                     _points(v["share"], previous.get(v["brand"], 0.0)),
                     f"{neg['share']:.1%} ({neg['mentions'] / v['mentions']:.0%} own)"])
    return rows


def write_brand_report(settings: Settings, brand_name: str, cadence: str, end: datetime, path: Path) -> Path:
    """Write the PDF for the period ending at ``end``: every figure, topic, alert and influencer from
    that period only."""
    if cadence not in LENGTH:
        raise BrandpulseError(f"report cadence {cadence!r}: use daily or weekly")
    start, previous = end - LENGTH[cadence], end - 2 * LENGTH[cadence]
    chart_start = end - timedelta(days=28)
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        flt = MentionFilter(brand_ids=(brand.id,), since=start, until=end)
        now_figures = what_are_the_headline_figures(session, flt)
        before = what_are_the_headline_figures(session, MentionFilter(brand_ids=(brand.id,), since=previous,
                                                                      until=start))
        daily = how_many_mentions_per_day(session, MentionFilter(brand_ids=(brand.id,), since=chart_start,
                                                                 until=end))
        aspects = what_are_the_top_terms(session, flt, ("ASPECT",), 8)
        topics = _topics_in(session, what_are_people_talking_about(session, brand.id), start, end)
        chart_alerts = which_alerts_fired_between(session, brand.id, chart_start, end)
        leaders = who_led_the_conversation_between(session, brand.id, start, end, 10)
        care = how_did_care_do(session, brand.id, start, end)
        care_before = how_did_care_do(session, brand.id, previous, start)
    alerts = [a for a in chart_alerts if a.window_end >= start]
    last = end - timedelta(seconds=1)
    voice = share_of_voice(settings, brand.name, start, last, by="all")
    voice_before = share_of_voice(settings, brand.name, previous, start - timedelta(seconds=1), by="all")
    negative = share_of_voice(settings, brand.name, start, last, by="all", sentiment="negative")
    pdf = ReportPdf(f"{brand.name} {cadence} report")
    pdf.heading(f"{brand.name}: {cadence} report")
    pdf.para(f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, against the {cadence} period before. "
             "Changes in rates and shares are in percentage points (pp).")
    pdf.table(["figure", "this period", "period before", "change"], [
        ["mentions", f"{now_figures['volume']:,}", f"{before['volume']:,}",
         _delta(now_figures["volume"], before["volume"])],
        ["net sentiment", f"{now_figures['net_sentiment']:+.1%}", f"{before['net_sentiment']:+.1%}",
         _points(now_figures["net_sentiment"], before["net_sentiment"])],
        ["complaint rate", f"{now_figures['complaint_rate']:.1%}", f"{before['complaint_rate']:.1%}",
         _points(now_figures["complaint_rate"], before["complaint_rate"])],
        *[[label, f"{care[key]:,}", f"{care_before[key]:,}", _delta(care[key], care_before[key])]
          for label, key in (("tickets opened", "opened"), ("tickets closed", "closed"),
                             ("first responses late", "first_response_late"))],
        ["alerts", len(alerts), "", ""]], widths=(60, 40, 40, 35))
    pdf.para(CARE_RULE, size=8)
    if daily:  # every day of the 28, a silent one at 0
        days = [f"{chart_start + timedelta(days=i):%Y-%m-%d}" for i in range((end - chart_start).days)]
        counts = [sum(r["mentions"] for r in daily if r["day"] == d) for d in days]
        marks = spike_marks(days, counts, chart_alerts)
        pdf.chart(png(trend_figure([d[5:] for d in days], counts, "Mentions per day, last 28 days",
                                   axis_title="mentions",
                                   marks=[(i, t if len(t) <= 60 else t[:59] + "…") for i, t in marks],
                                   span=(days.index(f"{start:%Y-%m-%d}"), len(days) - 1))))
        if marks:
            pdf.para("Marked on the chart: " + "; ".join(f"{days[i]} {text}" for i, text in marks), size=8)
    if voice:
        ranked = sorted(voice, key=lambda v: (-v["share"], v["brand"]))
        rows = _voice_rows(ranked, voice_before, negative)
        pdf.chart(png(value_bar_figure([v["brand"] for v in ranked], [round(100 * v["share"], 1) for v in ranked],
                                       "Share of voice this period", unit="%", axis_title="% of all mentions")),
                  width=150)
        pdf.table(["brand", "mentions", "share of voice", "change", "share of negative mentions"], rows,
                  widths=(45, 25, 30, 25, 55))
        pdf.para(NEGATIVE_RULE, size=8)
    pdf.add_page()
    _write_talk(pdf, aspects, topics)
    if alerts:
        pdf.heading("Alerts")
        for alert in alerts:
            pdf.para(f"{alert.window_end:%Y-%m-%d %H:%M} · {alert.severity} · {alert.title}")
    if leaders:
        pdf.heading("Top influencers this period")
        pdf.table(["author", "network", "tier", "score", "posts this period"],
                  [[f"@{r['handle']}", r["network"], r["tier"] or "–",
                    "–" if r["score"] is None else f"{r['score']:.1f}", r["posts"]] for r in leaders],
                  widths=(60, 30, 25, 25, 35))
        pdf.para("Authors who posted about the brand in this period, by their latest influence score.", size=8)
    try:
        pdf.output(str(path))
    except OSError as exc:
        raise BrandpulseError(f"could not write the report to {path}: {exc.strerror}; "
                              "choose a writable path") from None
    return path


def _topics_in(session, topics: list, start: datetime, end: datetime) -> list[tuple]:
    """(topic, posts in [start, end), its representative posts from then) for topics with posts then,
    most posts first (a topic's daily trend says how many of its posts fall in the period)."""
    first, last = f"{start:%Y-%m-%d}", f"{end - timedelta(seconds=1):%Y-%m-%d}"
    found = [(t, sum(n for day, n in t.trend.items() if first <= day <= last)) for t in topics]
    found = sorted(((t, n) for t, n in found if n), key=lambda tn: -tn[1])[:6]
    inside = which_mentions_fall_between(session, [p["mention_id"] for t, _ in found for p in t.representative],
                                         start, end)
    return [(t, n, [p for p in t.representative if p["mention_id"] in inside]) for t, n in found]


def _write_talk(pdf: ReportPdf, aspects: list, topics: list[tuple]) -> None:
    pdf.heading("What people talk about")
    if aspects:
        pdf.para("Aspects: " + ", ".join(f"{a['term']} ({a['mentions']})" for a in aspects))
    if not topics:
        pdf.para("No topics were found among this period's posts (topics cover the posts of the last "
                 "topics.days days when they were computed).")
    for topic, posts, examples in topics:
        pdf.para(f"{'EMERGING · ' if topic.emerging else ''}{topic.label}: {posts} posts this period", bold=True)
        for post in examples[:2]:
            pdf.para(f"  “{post['text'][:200]}”", size=9)


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
