"""`brandpulse export …`, `brandpulse influence`, `brandpulse topics`, `brandpulse report`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from brandpulse.cli.alerts import parse_day
from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import load_settings

export_app = typer.Typer(help="Export reports to files.", no_args_is_help=True)


def past_day(value: str | None, option: str) -> datetime | None:
    """A YYYY-MM-DD option that must not lie in the future (None stays None)."""
    if value is None:
        return None
    moment = parse_day(value, option)
    if moment > datetime.now(timezone.utc):
        raise BrandpulseError(f"{option} {value} is in the future; give a day up to today (YYYY-MM-DD)")
    return moment


@export_app.command("influencers")
@friendly
def export_influencers_command(
        brand: str = typer.Option(..., help="brand name as in config.yaml"),
        since: Optional[str] = typer.Option(None, help="from this day (YYYY-MM-DD; default: influence.window_days)"),
        until: Optional[str] = typer.Option(None, help="up to and including this day (YYYY-MM-DD; default: now)"),
        format: str = typer.Option("xlsx", "--format", help="csv | xlsx | pdf (any case)"),
        output: Path = typer.Option(..., help="file to write, in an existing folder"),
        limit: int = typer.Option(50, min=1, help="authors on the leaderboard (1 or more)")) -> None:
    """The influencer leaderboard of a brand: tiers, score components, sentiment, top posts, trend."""
    from brandpulse.reports.export import FORMATS, export_influencers
    from brandpulse.reports.influencers import build_influencer_report
    from brandpulse.reports.pdf import check_output

    if format.strip().lower() not in FORMATS:
        raise BrandpulseError(f"format {format!r} is not one of {', '.join(FORMATS)}")
    check_output(output)  # before the work, not after it
    start = past_day(since, "--since")
    end = parse_day(until, "--until", end_of_day=True) if until else None
    if start and end and end <= start:
        raise BrandpulseError(f"--until {until} is before --since {since}; give an --until on or after --since")
    report = build_influencer_report(load_settings(), brand, start, limit, until=end)
    path = export_influencers(report, format, output)
    console.print(shown(f"{len(report.leaderboard)} authors of {report.summary['authors']} scored → {path}"))


def register(app: typer.Typer) -> None:
    """Add the export group and the one-shot insight commands to the main app."""
    app.add_typer(export_app, name="export")

    @app.command("influence")
    @friendly
    def influence_command() -> None:
        """Recompute every author's influence score per brand now (the scheduler does it hourly)."""
        from brandpulse.cli.main import _rate_progress, stage_progress
        from brandpulse.services.influence import refresh_influence

        settings = load_settings()
        with _rate_progress("scores") as progress:
            step = stage_progress(progress, "scores")
            step("influence", 0, None)  # the clock starts with the work, and stops when it is done
            stored = refresh_influence(settings)
            step("influence", stored, None)
            step.close()
        console.print(f"{stored} (author, brand) scores stored")

    @app.command("topics")
    @friendly
    def topics_command() -> None:
        """Re-cluster recent mentions of each own brand into topics now."""
        from brandpulse.cli.main import _rate_progress, stage_progress
        from brandpulse.services.topics import refresh_topics

        settings = load_settings()
        with _rate_progress("topics") as progress:
            step = stage_progress(progress, "topics")
            step("topics", 0, None)
            found = refresh_topics(settings)
            step("topics", sum(found.values()), None)
            step.close()
        for brand, count in found.items():
            console.print(shown(f"{brand}: {count} topics"))

    @app.command("report")
    @friendly
    def report_command(brand: str = typer.Option(..., help="brand name"),
                       cadence: str = typer.Option("weekly", help="daily | weekly: the period covered"),
                       output: Optional[Path] = typer.Option(
                           None, help="file in an existing folder (default: in reports.folder)"),
                       deliver: bool = typer.Option(False, help="also send it through the alert channels")) -> None:
        """Produce the brand's PDF report for the last day or week now."""
        from brandpulse.reports.brand import produce_brand_report

        path = produce_brand_report(load_settings(), brand, cadence.strip().lower(), output=output,
                                    deliver=deliver)
        console.print(shown(f"report written to {path}"))
