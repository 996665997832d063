"""`brandpulse quarantine`: see what was set aside and why, and get the rows back to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.settings import load_settings

quarantine_app = typer.Typer(help="Records set aside by imports and collectors, with their reasons.",
                             no_args_is_help=True)


@quarantine_app.command("list")
@friendly
def list_command(origin: Optional[str] = typer.Option(None, help="only origins containing this "
                                                                 "(a file name, a source)"),
                 limit: int = typer.Option(50, min=1, max=100_000, help="show at most this many")) -> None:
    """Quarantined records, oldest first: where they came from, which row, and why."""
    from brandpulse.services.quarantining import list_quarantined

    total, records = list_quarantined(load_settings(), origin, limit)
    if not records:
        console.print(shown("nothing is quarantined" + (f" from origins containing {origin!r}"
                                                         if origin else "")))
        return
    table = Table(title=f"quarantine: {len(records)} of {total}")
    for column in ("id", "origin", "location", "reason", "original (start)"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(str(r.id), shown(r.origin), shown(r.location), shown(r.reason),
                      shown(r.payload[:120]))
    console.print(table)
    if total > len(records):
        console.print(f"{total - len(records)} more; `brandpulse quarantine export --output FILE` "
                      "writes them all", markup=False)


@quarantine_app.command("export")
@friendly
def export_command(output: Path = typer.Option(..., help="file to write: .jsonl or .csv (optionally .gz)"),
                   origin: Optional[str] = typer.Option(None, help="only origins containing this"),
                   forget: bool = typer.Option(False, "--forget", help="delete what was exported from "
                                                                       "the quarantine")) -> None:
    """Write the quarantined rows as they were, to fix them and `brandpulse import` them again."""
    from brandpulse.services.quarantining import export_quarantined

    written = export_quarantined(load_settings(), output, origin, forget)
    console.print(shown(f"wrote {written} quarantined row(s) to {output}"
                       + (" and removed them from the quarantine" if forget and written else "")))
