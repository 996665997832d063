"""The collectors of the enabled sources, built from config.yaml and the secrets they need."""

from __future__ import annotations

from brandpulse.core.errors import MissingSecretError
from brandpulse.core.settings import Secrets, Settings
from collectors.base import Collector


def _require(secrets: Secrets, source: str) -> None:
    missing = secrets.missing_for(source)
    if missing:
        raise MissingSecretError(f"sources.{source} is enabled but {', '.join(missing)} is not set; "
                                 f"put it in the environment or .env, or disable sources.{source}")


def enabled_collectors(settings: Settings) -> dict[str, Collector]:
    """The collectors of every enabled source, by source name."""
    from collectors.inbox import InboxCollector
    from collectors.rss import RssCollector

    found: dict[str, Collector] = {}
    if settings.sources.file.enabled:
        found["file"] = InboxCollector(settings.sources.file)
    if settings.sources.rss.enabled:
        found["rss"] = RssCollector(settings.sources.rss)
    secrets = Secrets()
    if settings.sources.x.enabled:
        from collectors.x import XCollector

        _require(secrets, "x")
        found["x"] = XCollector(settings.sources.x, secrets.x_bearer_token)
    if settings.sources.reddit.enabled:
        from collectors.reddit import RedditCollector

        _require(secrets, "reddit")
        found["reddit"] = RedditCollector(settings.sources.reddit, secrets.reddit_client_id,
                                          secrets.reddit_client_secret, secrets.reddit_user_agent)
    if settings.sources.mastodon.enabled:
        from collectors.mastodon import MastodonCollector

        found["mastodon"] = MastodonCollector(settings.sources.mastodon, secrets.mastodon_token)
    if settings.sources.bluesky.enabled:
        from collectors.bluesky import BlueskyCollector

        found["bluesky"] = BlueskyCollector(settings.sources.bluesky, secrets.bluesky_handle,
                                            secrets.bluesky_app_password)
    return found


def enabled_source_names(settings: Settings) -> list[str]:
    """Names of the sources enabled in config.yaml."""
    return [name for name in type(settings.sources).model_fields
            if getattr(settings.sources, name).enabled]
