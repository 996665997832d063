"""Reply accounts (``care.reply_accounts``): the brand's own accounts that answer customers.

Each account is named by an ``id``; its secrets come only from the environment or ``.env`` as
``BRANDPULSE_REPLY_<ID>_<FIELD>`` (e.g. ``BRANDPULSE_REPLY_NIMBUS_X_ACCESS_TOKEN``), never from
config.yaml.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from brandpulse.core.errors import ConfigError, MissingSecretError
from brandpulse.core.redaction import remember_secret
from brandpulse.core.settings_base import Strict

ReplyNetwork = Literal["x", "reddit", "mastodon", "bluesky"]
ACCOUNT_ID = re.compile(r"[a-z0-9_]{1,40}")
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "x": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),  # OAuth 1.0a user context
    "reddit": ("client_id", "client_secret", "password", "user_agent"),  # a script app of the brand's account
    "mastodon": ("access_token",),  # write:statuses and read:statuses
    "bluesky": ("app_password",),
}
DEFAULT_BASE_URL = {"x": "https://api.twitter.com", "reddit": "https://oauth.reddit.com",
                    "mastodon": "https://mastodon.social", "bluesky": "https://bsky.social/xrpc"}


class ReplyAccount(Strict):
    """One brand account that publishes replies on one network."""
    id: str
    brand: str = Field(min_length=1)
    network: ReplyNetwork
    handle: str = Field(min_length=1, max_length=200)  # X @name, Reddit user, Mastodon acct, Bluesky handle
    base_url: str | None = None  # the API (X, Reddit OAuth, Mastodon instance, Bluesky PDS); default per network
    reddit_url: str = "https://www.reddit.com"  # Reddit's sign-in host
    timeout_seconds: float = Field(default=15, gt=0, le=300)
    per_minute: int = Field(default=10, ge=1, le=600)  # replies published per minute at most (incidents)

    @field_validator("id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        if not ACCOUNT_ID.fullmatch(value):
            raise ValueError(f"reply account id {value[:60]!r} must be 1-40 lowercase letters, digits or _ "
                             "(it names the secrets: BRANDPULSE_REPLY_<ID>_...)")
        return value

    @field_validator("handle")
    @classmethod
    def _no_at(cls, value: str) -> str:
        return value.strip().lstrip("@")

    @property
    def api_url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL[self.network]).rstrip("/")

    def secret_names(self) -> dict[str, str]:
        """Each secret field and the environment variable it is read from."""
        return {field: f"BRANDPULSE_REPLY_{self.id.upper()}_{field.upper()}"
                for field in SECRET_FIELDS[self.network]}


def _dotenv(path: Path = Path(".env")) -> dict[str, str]:
    from dotenv import dotenv_values

    try:
        return {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"the secrets in .env cannot be read ({type(exc).__name__}); .env must be "
                          "a UTF-8 text file of NAME=value lines") from None


def reply_secrets(account: ReplyAccount) -> dict[str, str]:
    """The account's secrets from the environment (or .env); MissingSecretError names what is unset."""
    dotenv = _dotenv()
    found, missing = {}, []
    for field, name in account.secret_names().items():
        value = (os.environ.get(name) or dotenv.get(name) or "").strip()
        if not value:
            missing.append(name)
        elif not value.isprintable():
            raise ConfigError(f"{name} holds a control character (a line break or tab inside the value); "
                              "set it again on one line, in the environment or .env")
        else:
            remember_secret(value)
            found[field] = value
    if missing:
        raise MissingSecretError(f"reply account {account.id!r} ({account.network}, @{account.handle}) "
                                 f"needs {', '.join(missing)}; set them in the environment or .env")
    return found
