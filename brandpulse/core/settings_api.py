"""Settings of the open API (``api:``) and of webhook delivery (``webhooks:``)."""

from __future__ import annotations

from pydantic import Field

from brandpulse.core.settings_base import Strict


class ApiSettings(Strict):
    enabled: bool = False  # `brandpulse run` starts the API server too
    host: str = Field(default="127.0.0.1", min_length=1, max_length=253, pattern=r"^[0-9A-Za-z.:\-]+$")
    port: int = Field(default=8000, ge=1, le=65535)
    rate_per_minute: int = Field(default=600, ge=1, le=1_000_000)  # a new token's limit
    token_days: int = Field(default=365, ge=1, le=3650)  # a new token's lifetime unless given
    max_page_size: int = Field(default=200, ge=1, le=1000)
    analyze_max_texts: int = Field(default=1000, ge=1, le=10_000)
    idempotency_hours: int = Field(default=24, ge=1, le=24 * 30)  # how long a key's answer is kept


class WebhookSettings(Strict):
    # Delivery to loopback, private, link-local or reserved addresses is refused unless listed here
    # (exact host names or IP addresses, e.g. 127.0.0.1 for a receiver on the same machine).
    allow_private_hosts: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    retry_hours: float = Field(default=26, ge=1, le=24 * 14)  # a failing delivery is retried this long
    disable_after_hours: float = Field(default=48, ge=1, le=24 * 30)  # a subscription failing this long
    per_pass: int = Field(default=200, ge=1, le=100_000)  # deliveries one worker pass sends at most
    parallel_sends: int = Field(default=8, ge=1, le=64)  # sent at once by a worker, each to another subject
