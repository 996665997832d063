"""Deliver alerts and reports through apprise (Slack, Teams, email, generic webhooks, ...).

Channel URLs hold secrets, so config.yaml only names the environment variable that holds
each URL (``alerts.channels[].url_env``); the value comes from the environment or ``.env``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import apprise
from dotenv import dotenv_values

from brandpulse.core.errors import ConfigError
from brandpulse.core.redaction import redact_secrets, remember_secret
from brandpulse.core.settings import Settings
from brandpulse.core.settings_alerts import AlertChannel
from store.alerts import which_alerts_await_delivery
from store.brands import which_brands_are_tracked
from store.engine import session_scope
from store.models import Alert, utcnow

log = logging.getLogger(__name__)
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
NOTIFY_TYPE = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
               "critical": apprise.NotifyType.FAILURE}


def channel_url(channel: AlertChannel) -> str | None:
    """The channel's apprise URL from the environment, else from .env, else None.

    The URL is a secret: it is remembered by :mod:`brandpulse.core.redaction`, so neither it nor its
    tokens ever show in a message or log line (apprise's own included).
    """
    url = os.environ.get(channel.url_env)
    if not url:
        try:
            url = dotenv_values(".env").get(channel.url_env)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f".env cannot be read to find {channel.url_env} ({type(exc).__name__}); "
                              "it must be a UTF-8 text file of NAME=value lines") from None
    url = (url or "").strip()
    remember_secret(url)
    return url or None


def send(url: str, title: str, body: str, severity: str = "warning", attach: Path | None = None) -> bool:
    """Send one message to one apprise URL; True when the service accepted it (never raises)."""
    remember_secret(url)
    try:
        sender = apprise.Apprise()
        if not sender.add(url):
            return False
        return bool(sender.notify(title=title, body=body, notify_type=NOTIFY_TYPE.get(severity),
                                  attach=str(attach) if attach else None))
    except Exception as exc:  # noqa: BLE001 - a notification plugin's own failure is a failed send
        log.warning("sending %r failed: %s", title, redact_secrets(f"{type(exc).__name__}: {exc}"))
        return False


def alert_text(alert: Alert, brand: str) -> str:
    """The plain-text body of an alert message: numbers, window and the posts behind it."""
    evidence = alert.evidence
    lines = [f"{alert.severity.upper()} · {alert.rule.replace('_', ' ')} · {brand}",
             f"window: {evidence['window'][0]} → {evidence['window'][1]}",
             f"observed: {evidence.get('observed')} · baseline: {evidence.get('baseline')}"]
    for mention in evidence.get("top_mentions", [])[:5]:
        lines.append(f"- [{mention['network']}] {mention['text'][:200]}")
    return "\n".join(lines)


@dataclass
class DeliveryResult:
    delivered: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)


def deliver_pending(settings: Settings) -> DeliveryResult:
    """Send every undelivered alert to the channels whose rules and severity match; record the outcome."""
    result = DeliveryResult()
    channels = []
    for channel in settings.alerts.channels:
        url = channel_url(channel)
        if url is None:
            result.problems.append(f"alert channel {channel.name!r}: {channel.url_env} is not set; "
                                   "put its apprise URL in the environment or .env")
        else:
            channels.append((channel, url))
    with session_scope(settings.database.url) as session:
        names = {b.id: b.name for b in which_brands_are_tracked(session)}
        for alert in which_alerts_await_delivery(session):
            targets = [(c, url) for c, url in channels
                       if (not c.rules or alert.rule in c.rules)
                       and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[c.min_severity]]
            failures = [c.name for c, url in targets
                        if not send(url, alert.title, alert_text(alert, names.get(alert.brand_id, "")),
                                    alert.severity)]
            if failures:
                alert.delivery_error = (f"could not deliver to {', '.join(failures)}; check those channels' "
                                        "URLs and that the services are reachable")
                result.failed += 1
                log.warning("alert %s: %s", alert.id, alert.delivery_error)
            else:
                alert.delivered_at = utcnow()
                result.delivered += bool(targets)
            session.add(alert)
    return result
