"""Each API token's rate limit (GCRA, a leaky bucket): in this process, or in Redis for every API process.

A token may send ``limit`` requests a minute, refilled evenly: a burst of up to ``limit``, then one
every 60/limit seconds. :class:`RateLimiter` keeps each token's next due time in this process (exact
for one process; N processes give N allowances). With ``limits.redis_url`` (or ``BRANDPULSE_REDIS_URL``)
:class:`RedisRateLimiter` keeps it in Redis, updated by one Lua script on Redis's own clock, so every
process and machine shares one allowance. Should Redis not answer, the process counts alone until it
does (logged), rather than refusing every request. Both send the same RateLimit-* headers.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

from api.problems import ApiProblem
from brandpulse.core.redaction import redact_secrets, remember_url_password
from brandpulse.core.settings import Settings

WINDOW_S = 60
log = logging.getLogger("brandpulse.api.limits")
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due < now then due = now end
if due + interval - now > window then return {0, tostring(due - now)} end
due = due + interval
redis.call('SET', KEYS[1], string.format('%.6f', due), 'PX', math.ceil((due - now) * 1000) + 1000)
return {1, tostring(due - now)}
"""


def answer(limit: int, allowed: bool, ahead: float) -> dict[str, str]:
    """The RateLimit headers for a token whose bucket is ``ahead`` seconds ahead of now; a 429 problem
    (with Retry-After) when the request was not ``allowed``."""
    interval = WINDOW_S / limit
    remaining = max(0, int((WINDOW_S - ahead) // interval)) if allowed else 0
    headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(remaining),
               "RateLimit-Reset": str(max(1, math.ceil(ahead))), "RateLimit-Policy": f"{limit};w={WINDOW_S}"}
    if not allowed:
        wait = max(1, math.ceil(ahead + interval - WINDOW_S))
        raise ApiProblem(429, "rate-limited", f"this token may make {limit} requests a minute; "
                         f"wait {wait} s and send it again", {**headers, "Retry-After": str(wait)})
    return headers


class RateLimiter:
    """Each token's bucket kept in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: dict[int, float] = {}  # token id -> theoretical arrival time of its next request

    def take(self, token_id: int, limit: int, now: float | None = None) -> dict[str, str]:
        """Count one request; the RateLimit headers, or a 429 problem while the bucket is empty."""
        now = time.monotonic() if now is None else now
        interval = WINDOW_S / limit
        with self._lock:
            due = max(self._due.get(token_id, now), now)
            allowed = due + interval - now <= WINDOW_S
            if allowed:
                due += interval
                self._due[token_id] = due
        return answer(limit, allowed, due - now)


class RedisRateLimiter:
    """Each token's bucket kept in Redis under ``{prefix}:api-rate:{token id}``, shared by every process."""

    RETRY_SECONDS = 30  # after Redis failed, this process counts alone this long before asking again

    def __init__(self, url: str, prefix: str = "brandpulse", timeout: float = 0.5) -> None:
        import redis

        self.url, self.prefix = url, prefix
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script = self._client.register_script(GCRA_SCRIPT)
        self._local = RateLimiter()
        self._down_until = 0.0

    def take(self, token_id: int, limit: int) -> dict[str, str]:
        """Count one request in Redis; the RateLimit headers, or a 429 problem while the bucket is empty."""
        import redis

        if time.monotonic() >= self._down_until:
            try:
                allowed, ahead = self._script(keys=[f"{self.prefix}:api-rate:{token_id}"],
                                              args=[WINDOW_S / limit, WINDOW_S])
                return answer(limit, bool(allowed), float(ahead))
            except redis.RedisError as exc:
                self._down_until = time.monotonic() + self.RETRY_SECONDS
                log.warning("Redis at %s failed (%s: %s); this API process counts rate limits alone for "
                            "%d s, then asks Redis again", redact_secrets(self.url), type(exc).__name__,
                            redact_secrets(str(exc))[:200], self.RETRY_SECONDS)
        return self._local.take(token_id, limit)


def redis_url(settings: Settings) -> str | None:
    """The Redis limits are shared in: ``BRANDPULSE_REDIS_URL``, else ``limits.redis_url``; None for none."""
    url = (os.environ.get("BRANDPULSE_REDIS_URL") or "").strip() or settings.limits.redis_url
    remember_url_password(url)
    return url


def limiter_for(settings: Settings) -> RateLimiter | RedisRateLimiter:
    """The API's rate limiter: shared through Redis when one is configured, else this process's own."""
    url = redis_url(settings)
    if url is None:
        return RateLimiter()
    return RedisRateLimiter(url, settings.limits.redis_prefix, settings.limits.redis_timeout_seconds)
