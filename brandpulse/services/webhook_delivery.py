"""Webhook delivery: Standard Webhooks signatures, safe addresses, and the worker that sends (at least once).

A worker claims due deliveries (an attempt is counted and committed before anything is sent),
POSTs them signed, ``webhooks.parallel_sends`` at once (a claim batch holds one delivery per
subject, so every subject's events still arrive in order), and records each group's answers in one
transaction: 2xx delivers it; anything else, a timeout or a refused address schedules a retry with
exponential backoff and jitter until ``webhooks.retry_hours`` have passed, then the delivery is
``dead``. A subscription failing for ``webhooks.disable_after_hours`` is disabled with its reason.
The address is resolved and checked again at every send, and the connection goes to the address
that was checked (no DNS rebinding between check and send).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import socket
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings
from store.engine import session_scope
from store.models import utcnow
from store.webhook_deliveries import (
    Claim,
    claim_due_deliveries,
    record_attempts,
    renew_claim,
)
from store.webhooks import get_subscription

log = logging.getLogger(__name__)
BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 7200)  # then every 4 h
LATER_SECONDS = 4 * 3600
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %, so failed receivers are not hit in step
CLAIM_MARGIN_SECONDS = 3


_POOLS: dict[int, ThreadPoolExecutor] = {}  # one pool of sending threads per width and process


@dataclass(frozen=True)
class Attempt:
    """What one send of a claimed delivery got: when, the status code, the error (None on a 2xx)."""
    claim: Claim
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class UnsafeAddressError(BrandpulseError):
    """A webhook URL is malformed, or its host resolves to an address webhooks may not reach."""


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The Standard Webhooks ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}`` keyed with the base64-decoded secret after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based), with jitter."""
    base = BACKOFF_SECONDS[attempts - 1] if attempts <= len(BACKOFF_SECONDS) else LATER_SECONDS
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


def safe_address(settings: Settings, url: str) -> tuple[str, int, str]:
    """(host, port, the IP address to connect to) of a webhook URL, or UnsafeAddressError.

    The URL must be http(s) with a host; every address the host resolves to must be public
    unless the host is listed in ``webhooks.allow_private_hosts``.
    """
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError as exc:
        raise UnsafeAddressError(f"webhook URL {url[:200]!r} is malformed ({exc}); give a full https:// URL")
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeAddressError(f"webhook URL {url[:200]!r} must start with https:// (or http://) and "
                                 "name a host, e.g. https://hooks.example.com/brandpulse")
    if parts.username or parts.password:
        raise UnsafeAddressError(f"webhook URL for {host} carries a user name or password; remove it "
                                 "(receivers verify the signature instead)")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddressError(f"webhook host {host!r} does not resolve ({exc}); check the name and the "
                                 "DNS of this machine")
    allowed = {h.lower().strip("[]") for h in settings.webhooks.allow_private_hosts}
    if host not in allowed:
        blocked = sorted({a for a in found if _blocked(a)})
        if blocked:
            raise UnsafeAddressError(
                f"webhook host {host!r} resolves to {', '.join(blocked)}, a loopback, private, link-local or "
                "reserved address; webhooks only go to public addresses unless the host is listed in "
                "webhooks.allow_private_hosts in config.yaml")
    return host, port, found[0]


_CLIENT: dict[float, httpx.Client] = {}  # one pool per timeout and process: connections are reused


def _client(timeout: float) -> httpx.Client:
    if timeout not in _CLIENT:
        _CLIENT[timeout] = httpx.Client(timeout=timeout, follow_redirects=False,
                                        headers={"user-agent": "brandpulse-webhooks/1"})
    return _CLIENT[timeout]


def send(settings: Settings, claim: Claim) -> tuple[int | None, str | None]:
    """POST one signed event; (status code, error), error None on a 2xx."""
    body = json.dumps({"type": claim.type, "timestamp": claim.event_created_at.isoformat(),
                       "data": claim.payload}, separators=(",", ":"), ensure_ascii=False)
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "webhook-id": claim.message_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(claim.secret, claim.message_id, timestamp, body)}
    try:
        host, port, address = safe_address(settings, claim.url)
    except UnsafeAddressError as exc:
        return None, str(exc)
    parts = urlsplit(claim.url)
    pinned = f"[{address}]" if ":" in address else address
    headers["host"] = parts.netloc.rsplit("@", 1)[-1]
    target = urlunsplit((parts.scheme, f"{pinned}:{port}", parts.path or "/", parts.query, ""))
    try:
        answer = _client(settings.webhooks.timeout_seconds).post(
            target, content=body.encode(), headers=headers, extensions={"sni_hostname": host})
    except httpx.TimeoutException:
        return None, f"no answer from {host} within {settings.webhooks.timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return None, f"could not reach {host}: {exc.__class__.__name__}: {str(exc)[:300]}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    where = f" (to {answer.headers.get('location', '')[:200]}; redirects are not followed)" \
        if 300 <= answer.status_code < 400 else ""
    return answer.status_code, f"{host} answered HTTP {answer.status_code}{where}: {answer.text[:200]!r}"


def _lease(settings: Settings) -> float:
    return settings.webhooks.timeout_seconds + CLAIM_MARGIN_SECONDS


def deliver_due(settings: Settings, now: datetime | None = None) -> Counter:
    """Send due deliveries (at most ``webhooks.per_pass``); how many ended delivered, retrying, dead
    or lost (taken over by another worker after this one's claim lapsed).

    Rounds repeat while they deliver something: a subject's next event, which waited behind the
    one just delivered, goes out in the same pass.
    """
    start, clock = now or utcnow(), time.monotonic()
    outcome: Counter = Counter()
    budget = settings.webhooks.per_pass
    while budget > 0:
        at = start + timedelta(seconds=time.monotonic() - clock)
        with session_scope(settings.database.url) as session:
            claims = claim_due_deliveries(session, at, at + timedelta(seconds=_lease(settings)), budget)
        if not claims:
            break
        budget -= len(claims)
        done = _send_claimed(settings, claims, start, clock)
        outcome.update(done)
        if not done["delivered"]:
            break
    if outcome:
        log.info("webhooks: %s", dict(outcome))
    return outcome


def _pool(size: int) -> ThreadPoolExecutor:
    if size not in _POOLS:
        _POOLS[size] = ThreadPoolExecutor(size, thread_name_prefix="webhook-send")
    return _POOLS[size]


def _attempt(settings: Settings, claim: Claim, start: datetime, clock: float) -> Attempt:
    began = time.monotonic()
    status_code, error = send(settings, claim)
    at = start + timedelta(seconds=time.monotonic() - clock)
    return Attempt(claim, at, status_code, error, int((time.monotonic() - began) * 1000))


def _send_claimed(settings: Settings, claims: list[Claim], start: datetime, clock: float) -> Counter:
    """Send the claims ``webhooks.parallel_sends`` at a time and record each group in one transaction.

    A batch holds at most one delivery per (subscription, subject), so sending its members at once
    keeps each subject's order; the subject's next event is claimed only once this one is recorded.
    Nothing is in flight between groups, where the claims still waiting are renewed before they lapse.
    """
    lease, outcome, width = _lease(settings), Counter(), settings.webhooks.parallel_sends
    pending, held = list(claims), time.monotonic() + lease
    while pending:
        if time.monotonic() + settings.webhooks.timeout_seconds + 1 > held:  # renew before a claim may lapse
            until = start + timedelta(seconds=time.monotonic() - clock + lease)
            with session_scope(settings.database.url) as session:
                kept = [c for c in pending if renew_claim(session, c, until)]
            outcome["lost"] += len(pending) - len(kept)
            pending, held = kept, time.monotonic() + lease
            continue
        group, pending = pending[:width], pending[width:]
        if len(group) == 1:
            attempts = [_attempt(settings, group[0], start, clock)]
        else:
            attempts = list(_pool(width).map(lambda claim: _attempt(settings, claim, start, clock), group))
        outcome.update(_finish(settings, attempts))
    return outcome


def _finish(settings: Settings, attempts: list[Attempt]) -> Counter:
    """Record a group of attempts in one transaction: each delivery's outcome, then its subscription's."""
    hooks, outcome, logged = settings.webhooks, Counter(), []
    for attempt in attempts:
        claim, at = attempt.claim, attempt.at
        deadline = claim.created_at + timedelta(hours=hooks.retry_hours)
        if attempt.error is None:
            kind, change = "delivered", {"status": "delivered", "delivered_at": at}
        elif at >= deadline:
            kind, change = "dead", {"status": "dead"}
        else:
            kind, change = "retrying", {"next_attempt_at": min(at + backoff(claim.attempts), deadline)}
        logged.append((kind, (claim, at, attempt.status_code, attempt.error, attempt.duration_ms, change)))
    with session_scope(settings.database.url) as session:
        ours = record_attempts(session, [row for _, row in logged])
        for (kind, _), attempt in zip(logged, attempts):
            if attempt.claim.delivery_id not in ours:
                outcome["lost"] += 1
                continue
            outcome[kind] += 1
            subscription = get_subscription(session, attempt.claim.subscription_id)
            if attempt.error is None:
                subscription.failing_since = None
            else:
                _failing(settings, subscription, attempt.at, attempt.error)
            session.add(subscription)
    return outcome


def _failing(settings: Settings, subscription, at: datetime, error: str) -> None:
    """A delivery failed: the subscription is failing since its first failure, and disabled with its
    reason once that is ``webhooks.disable_after_hours`` ago."""
    hooks = settings.webhooks
    subscription.failing_since = subscription.failing_since or at
    if subscription.active and at - subscription.failing_since >= timedelta(hours=hooks.disable_after_hours):
        subscription.active, subscription.updated_at = False, at
        subscription.disabled_reason = (
            f"disabled {at:%Y-%m-%d %H:%M} UTC: every delivery failed since "
            f"{subscription.failing_since:%Y-%m-%d %H:%M} UTC ({hooks.disable_after_hours:g} h); last error: "
            f"{error[:300]}. Fix the receiver, then enable it again (`brandpulse webhooks enable "
            f"{subscription.id}`); its pending deliveries resume")
        log.warning("webhook subscription #%s disabled: %s", subscription.id, error[:300])
