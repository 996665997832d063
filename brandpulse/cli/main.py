"""The `brandpulse` command line: thin wrappers over importable functions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from brandpulse.cli.console import console, err, friendly, shown
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings, load_settings

app = typer.Typer(help="brandpulse: self-hosted social listening and care triage.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _add_subcommands() -> None:
    from brandpulse.cli.alerts import alerts_app
    from brandpulse.cli.api import api_command, tokens_app
    from brandpulse.cli.incidents import incidents_app
    from brandpulse.cli.nlp import nlp_app
    from brandpulse.cli.people import people_app
    from brandpulse.cli.quarantine import quarantine_app
    from brandpulse.cli.replies import replies_app
    from brandpulse.cli.retention import retention_app
    from brandpulse.cli.reports import register
    from brandpulse.cli.users import users_app
    from brandpulse.cli.webhooks import webhooks_app
    from brandpulse.cli.worker import jobs_app, worker_command

    app.add_typer(nlp_app, name="nlp")
    app.add_typer(users_app, name="users")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(quarantine_app, name="quarantine")
    app.add_typer(replies_app, name="replies")
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(retention_app, name="retention")
    app.add_typer(people_app, name="people")
    app.command("api")(friendly(api_command))
    app.command("worker")(worker_command)
    app.add_typer(jobs_app, name="jobs")
    register(app)


def _settings() -> Settings:
    from store.job_queue import use_analysis_batch_size

    settings = load_settings()
    use_analysis_batch_size(settings.nlp.batch_size)  # PostgreSQL: analysis jobs of nlp.batch_size mentions
    return settings


MIN_RATE_SECONDS = 0.2  # under this, a rate says more about the clock than about the work


def rate_text(done: float, seconds: float | None, unit: str) -> str:
    """"1,234 rows/s", or "" when too little time was measured to tell a rate (a stage reported in one step)."""
    if not done or seconds is None or seconds < MIN_RATE_SECONDS:
        return ""
    return f"{done / seconds:,.0f} {unit}/s"


def _rate_progress(unit: str, get_time=None) -> Progress:
    """A progress display whose tasks carry a ``rate`` text field (see :func:`rate_text`)."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]:>14}"), TimeElapsedColumn(),
                    console=console, transient=False, get_time=get_time)


def stage_progress(progress: Progress, unit: str):
    """A ``step(stage, done, total)`` callback for a run made of stages (the demo), with true times.

    A stage's task starts at its first call (callers send ``done=0`` when a stage begins) and its time
    runs to its last call: when the next stage begins, the one before is closed at its last call, so
    work done between stages (or after the last) is not counted. ``done`` is the running total, except
    for "analyze", which reports each batch. The rate is shown once it rests on enough time.
    Call ``step.close()`` when the run ends.
    """
    tasks: dict[str, int] = {}
    last_call: dict[int, float] = {}
    current: list[int] = []

    def close() -> None:
        for task_id in current:
            task = progress.tasks[task_id]
            took = last_call[task_id] - task.start_time
            progress.update(task_id, total=task.completed)
            task.finished_time = took  # the stage ended at its last call, not when the next began
            progress.update(task_id, rate=rate_text(task.completed, took, unit))
        current.clear()

    def step(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            close()
            tasks[stage] = progress.add_task(stage, total=total or None, rate="")
            current.append(tasks[stage])
        task_id = tasks[stage]
        if stage == "analyze":
            progress.advance(task_id, done)
        else:
            progress.update(task_id, completed=done)
        last_call[task_id] = progress.get_time()
        task = progress.tasks[task_id]
        progress.update(task_id, rate=rate_text(task.completed, last_call[task_id] - task.start_time, unit))

    step.close = close
    return step


@app.command()
@friendly
def init() -> None:
    """Create the database schema, or upgrade it to the newest revision."""
    from store.brands import sync_brands
    from store.engine import migrate, redact, session_scope

    settings = _settings()
    revision = migrate(settings.database.url)
    with session_scope(settings.database.url) as session:
        ids = sync_brands(session, settings.brands)
    console.print(f"database {redact(settings.database.url)} is at schema {revision}; "
                  f"{len(ids)} brand(s) tracked")


@app.command()
@friendly
def doctor() -> None:
    """Check config, database, models and each enabled source; print a table."""
    from brandpulse.cli.doctor import run_checks

    checks = run_checks(_settings())
    table = Table(title="brandpulse doctor")
    for column in ("area", "status"):
        table.add_column(column)
    table.add_column("detail", overflow="fold")
    colours = {"ok": "green", "warn": "yellow", "fail": "red"}
    for check in checks:  # details carry remote error text: printed literally
        table.add_row(shown(check.area), shown(check.status, colours[check.status]), shown(check.detail))
    console.print(table)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(1)


@app.command("import")
@friendly
def import_command(
    path: Path = typer.Argument(..., help="CSV or JSONL file to load"),
    format: Optional[str] = typer.Option(None, "--format", help="csv or jsonl (default: by suffix)"),
    network: Optional[str] = typer.Option(None, help="network of every row (x, reddit, ...)"),
    brand: Optional[str] = typer.Option(None, help="brand every row is about (default: by query)"),
    map: list[str] = typer.Option([], "--map", help="COLUMN=field, e.g. tweet_created=created_at"),
) -> None:
    """Load another tool's export; malformed rows are quarantined with their reason."""
    from brandpulse.services.importer import import_file

    settings = _settings()
    with _rate_progress("rows") as progress:
        step = stage_progress(progress, "rows")
        step(f"import {path.name}", 0, None)
        result = import_file(settings, path, format, network=network, brand=brand, mappings=map,
                             progress=lambda rows: step(f"import {path.name}", rows, None))
        step.close()
    console.print(f"{result.rows} rows: {result.inserted} new, {result.existing} already stored, "
                  f"{result.repeated} repeated in the file, {result.quarantined} quarantined, "
                  f"{result.suppressed} suppressed (forgotten people), "
                  f"{result.unmatched} matching no brand query ({result.rows_per_second:,.0f} rows/s)",
                  soft_wrap=True, markup=False)
    for warning in result.warnings:
        console.print(shown(f"warning: {warning}"), soft_wrap=True, highlight=False)
    if result.first_quarantined:
        console.print(shown(f"quarantined rows of {path.name} (first {len(result.first_quarantined)}):"),
                      highlight=False)
        for location, reason in result.first_quarantined:
            console.print(shown(f"  {location}: {reason}"), soft_wrap=True, highlight=False)
        console.print(shown(f"`brandpulse quarantine list --origin {path.name}` shows them all; "
                            "`brandpulse quarantine export --output fix.jsonl` gives the original rows "
                            "back to fix and import again"), soft_wrap=True, highlight=False)


ERRORS_SHOWN = 10  # per (source, brand) below the table


@app.command()
@friendly
def collect(source: Optional[str] = typer.Option(None, help="one source (default: every enabled)"),
            brand: Optional[str] = typer.Option(None, help="one brand (default: all)"),
            once: bool = typer.Option(True, "--once", help="one pass, then exit (the only mode here; "
                                                         "`brandpulse run` polls continuously)")) -> None:
    """Run one collection pass and print what each (source, brand) stored.

    Exit code 1 when some (source, brand) failed and none worked; 0 when at least one worked,
    or when the sources only wait (rate limit, usage or daily spend cap, another process
    collecting): waiting is not failing. Every error is also kept in `brandpulse doctor`.
    """
    from brandpulse.services.collecting import CollectResult, collect_all, every_source_failed

    with console.status("collecting…") as status:
        def progress(result: CollectResult, finished: bool) -> None:
            pair = f"{result.source} / {result.brand}"
            if not finished:
                status.update(shown(f"collecting {pair}: page {result.pages + 1}, {result.fetched} "
                                    "fetched so far…"))
                return
            mark = {"ok": ("done", "green"), "waiting": ("waits", "yellow"), "failed": ("failed", "red")}
            word, colour = mark.get(result.outcome, ("done", ""))
            console.print(Text.assemble((f"{word:>6} ", colour), shown(
                f"{pair}: {result.stored} new of {result.fetched} fetched in {result.pages} page(s)"
                + (f", {result.suppressed} of forgotten people dropped" if result.suppressed else "")
                + (f", {len(result.errors)} problem(s)" if result.errors else ""))))

        results = collect_all(_settings(), source=source, brand=brand, progress=progress)
    if not results:
        console.print("no source is enabled in config.yaml (see sources:)")
        return
    table = Table(title="collect")
    for column in ("source", "brand", "outcome", "pages", "fetched", "stored", "quarantined"):
        table.add_column(column)
    table.add_column("errors", overflow="fold")  # folded, never cut: the message says what to do
    for r in results:
        errors = "; ".join(r.errors)
        table.add_row(shown(r.source), shown(r.brand), r.outcome, str(r.pages), str(r.fetched), str(r.stored),
                      str(r.quarantined), shown(errors[:200] + ("… (below)" if len(errors) > 200 else "") or "-"))
    console.print(table)
    for r in results:
        if len("; ".join(r.errors)) > 200:
            for error in r.errors[:ERRORS_SHOWN]:
                console.print(shown(f"{r.source} / {r.brand}: {error}"), soft_wrap=True)
            if len(r.errors) > ERRORS_SHOWN:
                console.print(shown(f"{r.source} / {r.brand}: … and {len(r.errors) - ERRORS_SHOWN} more"))
    if every_source_failed(results):
        err.print(shown("every source that ran failed; see the errors above and `brandpulse doctor`"))
        raise typer.Exit(1)


@app.command()
@friendly
def analyze(limit: Optional[int] = typer.Option(None, help="analyse at most this many")) -> None:
    """Analyse pending mentions in batches, then triage them into tickets and check alerts."""
    from brandpulse.services.alerting import evaluate_alerts
    from brandpulse.services.pipeline import analyze_pending
    from brandpulse.services.triage import triage_new
    from store.analyses import how_many_mentions_await_analysis, which_claims_are_held
    from store.engine import session_scope

    settings = _settings()
    with session_scope(settings.database.url) as session:
        pending = how_many_mentions_await_analysis(session)
    total = min(pending, limit) if limit else pending
    with _rate_progress("mentions") as progress:
        step = stage_progress(progress, "mentions")
        step("analyze", 0, total)
        result = analyze_pending(settings, limit=limit, progress=lambda count: step("analyze", count, total))
        step.close()
    tickets = triage_new(settings)
    alerts = evaluate_alerts(settings)
    console.print(f"analysed {result.analysed} with {result.model}; {result.unsupported_language} "
                  f"in unsupported languages; {result.failed} failed; {tickets} new ticket(s); "
                  f"{alerts} new alert(s)")
    with session_scope(settings.database.url) as session:
        held, until = which_claims_are_held(session)
    if held:
        console.print(f"{held} mention(s) are being analysed by another worker; if it was stopped, "
                      f"they return to the queue by {until:%H:%M} UTC")


@app.command()
@friendly
def run(duration: Optional[float] = typer.Option(None, help="stop after this many seconds"),
        workers: Optional[int] = typer.Option(None, min=0, max=64, help="PostgreSQL: `brandpulse worker` "
                                              "processes to start here (default queue.local_workers; 0: "
                                              "only schedule)")) -> None:
    """Run the scheduler: every source at its cadence, plus analysis, triage and alerts.

    On SQLite this one process does every job. On PostgreSQL it defers them to the job queue
    (each periodic job once, however many `run` processes there are) and starts ``--workers``
    local workers; `brandpulse worker` on other machines shares the work.

    Logs go to stderr at BRANDPULSE_LOG_LEVEL (default INFO), with tokens and passwords masked.
    """
    from brandpulse.core.redaction import configure_logging
    from brandpulse.scheduler import run_forever

    configure_logging()  # BRANDPULSE_LOG_LEVEL (default INFO); secrets masked at every level
    settings = _settings()
    server = None
    if settings.api.enabled:  # the API beside the scheduler, stopped with it
        from api.serve import base_url, serve_in_thread

        server, _thread = serve_in_thread(settings)
        console.print(f"API on {base_url(server)}/v1", markup=False)
    console.print("brandpulse running; Ctrl-C or SIGTERM stops it cleanly")
    try:
        run_forever(settings, duration=duration, local_workers=workers)
    finally:
        if server is not None:
            server.should_exit = True
    console.print("stopped")


# Streamlit flags for users, not developers: no Deploy button or developer menu, no usage stats
VIEWER_FLAGS = ("--server.headless", "true", "--client.toolbarMode", "minimal",
                "--browser.gatherUsageStats", "false", "--server.runOnSave", "false")


def dashboard_command(settings: Settings, port: int | None = None) -> list[str]:
    """The command line that serves the dashboard: bound to ``dashboard.address``, chrome hidden."""
    app_path = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"  # repo root/dashboard
    return [sys.executable, "-m", "streamlit", "run", str(app_path), *VIEWER_FLAGS,
            "--server.address", settings.dashboard.address,
            "--server.port", str(port or settings.dashboard.port)]


def start_dashboard(config: Path | None = None, port: int | None = None) -> int:
    """Start the Streamlit dashboard (blocking); return its exit code."""
    from brandpulse.supervise import run_supervised

    settings = load_settings(config) if config else _settings()
    env = dict(os.environ)
    if config:
        env["BRANDPULSE_CONFIG"] = str(config)
    command = dashboard_command(settings, port)
    host = settings.dashboard.address
    shown_host = "localhost" if host in ("127.0.0.1", "localhost") else \
        (f"[{host}]" if ":" in host else host)
    console.print(f"dashboard on http://{shown_host}:{port or settings.dashboard.port}", markup=False)
    return run_supervised(command, env)  # stopping brandpulse stops the server too


@app.command()
@friendly
def dashboard(port: Optional[int] = typer.Option(None, help="default: dashboard.port")) -> None:
    """Open the Streamlit dashboard on the configured database."""
    raise typer.Exit(start_dashboard(port=port))


@app.command()
@friendly
def demo(directory: Path = typer.Option(Path("demo-run"), help="where the demo database goes"),
         no_dashboard: bool = typer.Option(False, "--no-dashboard", help="do not start the server"),
         port: int = typer.Option(8501, help="dashboard port"),
         api_port: int = typer.Option(8000, help="API port (0: no API)")) -> None:
    """Build a fresh demo database from the bundled SYNTHETIC data, analyse it, open the dashboard."""
    from brandpulse.demo import prepare_demo

    console.print("[bold yellow]brandpulse demo: all posts, people and brands are SYNTHETIC[/]")
    with _rate_progress("items") as progress:
        step = stage_progress(progress, "items")
        result = prepare_demo(directory, progress=step)
        step.close()
    console.print(f"{result.imported.inserted} synthetic mentions imported, {result.analysis.analysed} "
                  f"analysed with {result.analysis.model} ({result.analysis.unsupported_language} in "
                  f"unsupported languages), {result.tickets} care tickets, {result.alerts} alerts")
    console.print(f"database: {result.settings.database.url}")
    users = Table("user", "role", "team", "password", title="demo logins (new passwords each run)")
    for name, role, team, password in result.users:
        users.add_row(name, role, team or "", password)
    console.print(users)
    if api_port and not no_dashboard:
        _start_demo_api(result.settings, api_port, [u[0] for u in result.users if u[1] == "admin"][0])
    if not no_dashboard:
        raise typer.Exit(start_dashboard(result.config_path, port))


def _start_demo_api(settings: Settings, port: int, admin: str) -> None:
    """Serve the API beside the demo dashboard and print a token and a curl that works."""
    from api.serve import base_url, serve_in_thread
    from brandpulse.services.access import scopes_for
    from brandpulse.services.accounts import list_users
    from brandpulse.services.tokens import create_token

    user_id = next(u["id"] for u in list_users(settings, None) if u["username"] == admin)
    secret, _ = create_token(settings, None, name="demo", scopes=scopes_for("admin"), user_id=user_id, days=7)
    try:
        server, _thread = serve_in_thread(settings, "127.0.0.1", port)
    except BrandpulseError as exc:
        err(f"the API did not start: {exc}; the dashboard starts without it")
        return
    base = base_url(server)
    console.print(f"API on {base}/v1 (docs: {base}/docs), token for {admin} (all scopes, 7 days):", markup=False)
    console.print(f"  curl -s -H 'Authorization: Bearer {secret}' '{base}/v1/mentions?limit=3'",
                  markup=False, soft_wrap=True)


_add_subcommands()

if __name__ == "__main__":
    app()
