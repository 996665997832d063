"""`brandpulse retention apply [--dry-run]`: remove what is older than the retention settings."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer

from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.settings import load_settings

retention_app = typer.Typer(help="Data retention: remove raw payloads, post text and closed tickets older "
                                 "than config.yaml's retention: allows.", no_args_is_help=True)
WORDS = {"texts": "post texts erased (links, analyses and counts kept)",
         "author_profiles": "author profiles emptied (name, counts, link)",
         "alert_quotes": "alerts no longer quoting post text",
         "raw_payloads": "raw payloads emptied",
         "closed_tickets": "closed tickets deleted (with their history and replies)"}
SETTING = {"texts": "text_days", "author_profiles": "text_days", "alert_quotes": "text_days", "raw_payloads": "raw_days",
           "closed_tickets": "closed_ticket_days"}


def _holder(url: str) -> tuple[str, int | None, datetime] | None:
    """(host, pid, lease expiry) of whoever holds the retention lease, or None."""
    from brandpulse.services.retention import LEASE
    from store.engine import session_scope
    from store.leases import holder_process, who_holds_lease

    with session_scope(url) as session:
        held = who_holds_lease(session, LEASE)
    if held is None:
        return None
    holder, expires = held
    return (*holder_process(holder), expires)


def _holder_words(url: str) -> str:
    held = _holder(url)
    if held is None:
        return "another process was applying retention"
    host, pid, expires = held
    return (f"another process is applying retention right now (process {pid} on {host}; its lease lapses at "
            f"{expires:%Y-%m-%d %H:%M} UTC if it was killed)")


@retention_app.command("apply")
@friendly
def apply_command(dry_run: bool = typer.Option(False, "--dry-run", help="only print what would be removed"),
                  as_user: Optional[str] = typer.Option(None, "--as", help="act as this admin (checked, "
                                                        "and named in the audit log; default: cli)")) -> None:
    """Remove what is older than retention.raw_days, text_days and closed_ticket_days, in batches
    (a stopped run resumes where it left off); `brandpulse run` does this daily."""
    from brandpulse.cli.incidents import operator
    from brandpulse.services.retention import apply_retention

    settings = load_settings()
    actor = operator(settings, as_user) if as_user else None

    def progress(kind: str, done: int) -> None:
        console.print(shown(f"  {kind}: {done:,} so far"), highlight=False)

    report = apply_retention(settings, actor, dry_run, by="cli", progress=None if dry_run else progress)
    if not any(report.cutoffs.values()):
        console.print("retention keeps everything: retention.raw_days, text_days and closed_ticket_days are unset "
                      "or 0 (0 keeps forever); set one to a number of days in config.yaml", markup=False)
        return
    if report.busy:
        console.print(shown(f"{_holder_words(settings.database.url)}; nothing was done (try again when it ends)"),
                      highlight=False)
        raise typer.Exit(1)
    verb = "would remove" if dry_run else "removed"
    console.print(f"retention {verb}:", markup=False)
    for kind, count in report.counts.items():
        cutoff = report.cutoffs[kind]
        when = f"older than {cutoff:%Y-%m-%d %H:%M} UTC" if cutoff else f"kept forever ({SETTING[kind]} unset)"
        console.print(shown(f"  {count:>10,}  {WORDS[kind]}, {when}"), highlight=False)
    if not dry_run:
        audit = f"audit log entry #{report.erasure_id}" if report.erasure_id else "nothing to remove, no audit entry"
        console.print(shown(f"{report.rows:,} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s); "
                            f"{audit}"), highlight=False)
