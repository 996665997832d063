"""The publisher for a reply account: its network's module, imported only when that network is used."""

from __future__ import annotations

from importlib import import_module

from brandpulse.core.settings_replies import ReplyAccount, reply_secrets
from publishers.base import Publisher

PUBLISHERS = {"x": ("publishers.x", "XPublisher"), "reddit": ("publishers.reddit", "RedditPublisher"),
              "mastodon": ("publishers.mastodon", "MastodonPublisher"),
              "bluesky": ("publishers.bluesky", "BlueskyPublisher")}


def publisher_for(account: ReplyAccount) -> Publisher:
    """A publisher signed in as ``account`` (secrets from the environment or .env; MissingSecretError
    names any that are unset). Nothing is sent until it is used."""
    module, name = PUBLISHERS[account.network]
    return getattr(import_module(module), name)(account, reply_secrets(account))
