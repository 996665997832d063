"""Settings of limits shared by every process (``limits:``): where the shared API rate limit is kept."""

from __future__ import annotations

from pydantic import Field, field_validator

from brandpulse.core.settings_base import Strict


class LimitsSettings(Strict):
    # redis://host:6379/0: every `brandpulse api` process counts each token's requests in this Redis, so
    # N processes give a token one allowance, not N. Unset: each process counts its own (one process is
    # exact). A password goes in BRANDPULSE_REDIS_URL, which overrides this. The X daily cap, 429 holds
    # and leases are kept in the database and need no Redis.
    redis_url: str | None = Field(default=None, max_length=2000)
    redis_prefix: str = Field(default="brandpulse", min_length=1, max_length=100,
                              pattern=r"^[0-9A-Za-z_.:\-]+$")  # keys of two installs sharing one Redis differ
    redis_timeout_seconds: float = Field(default=0.5, gt=0, le=30)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use a redis://host:6379/0 (or rediss://, unix://) URL, or leave it out")
        return value
