"""`brandpulse alerts …`: back-test the rules on history, deliver pending alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import load_settings

alerts_app = typer.Typer(help="Alert rules: back-test and delivery.", no_args_is_help=True)


def parse_day(value: str, option: str, end_of_day: bool = False) -> datetime:
    """A YYYY-MM-DD (or ISO time) option as an aware UTC datetime; with ``end_of_day`` a bare day
    means the end of that day (``--until 2026-11-20`` includes the 20th)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BrandpulseError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None
    if end_of_day and len(value.strip()) == 10:  # a day without a time
        moment += timedelta(days=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@alerts_app.command("backtest")
@friendly
def backtest_command(brand: str = typer.Option(..., help="brand name as in config.yaml"),
                     since: str = typer.Option(..., help="replay from this day (YYYY-MM-DD)"),
                     until: Optional[str] = typer.Option(None, help="replay up to this day (default: now)")) -> None:
    """Replay the rules over stored history and list what would have fired (stores nothing)."""
    from brandpulse.services.alerting import backtest

    findings = backtest(load_settings(), brand, parse_day(since, "--since"),
                        parse_day(until, "--until", end_of_day=True) if until else None)
    table = Table(title=shown(f"{len(findings)} alerts would have fired for {brand}"))
    for column in ("window end (UTC)", "rule", "severity", "observed", "baseline"):
        table.add_column(column, no_wrap=True)
    table.add_column("what")
    for finding in findings:
        table.add_row(f"{finding.window_end:%Y-%m-%d %H:%M}", shown(finding.rule), shown(finding.severity),
                      f"{finding.observed:g}", f"{finding.baseline:g}", shown(finding.title))
    console.print(table)


@alerts_app.command("deliver")
@friendly
def deliver_command() -> None:
    """Send alerts that have not been delivered yet to the configured channels."""
    from brandpulse.services.delivery import deliver_pending

    result = deliver_pending(load_settings())
    for problem in result.problems:
        console.print(Text.assemble(("warning:", "yellow"), " ", shown(problem)))
    console.print(f"{result.delivered} alerts delivered, {result.failed} failed")
