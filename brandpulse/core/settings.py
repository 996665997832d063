"""One typed settings object, loaded once from ``config.yaml`` and passed down.

``BRANDPULSE_CONFIG`` picks the file and ``BRANDPULSE_DATABASE_URL`` overrides the
database URL. Secrets never live in config.yaml: they come from the environment
or a ``.env`` file through :class:`Secrets`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from brandpulse.core.config_errors import describe_validation_error
from brandpulse.core.config_secrets import refuse_secrets
from brandpulse.core.config_yaml import read_config
from brandpulse.core.errors import ConfigError, QueryError
from brandpulse.core.redaction import remember_secret, remember_url_password
from brandpulse.core.settings_alerts import (
    AlertSettings,
    InfluenceSettings,
    ReportSettings,
    TopicSettings,
)
from brandpulse.core.settings_api import ApiSettings, WebhookSettings
from brandpulse.core.settings_base import Strict
from brandpulse.core.settings_limits import LimitsSettings
from brandpulse.core.settings_queue import QueueSettings
from brandpulse.core.settings_retention import DeletionSettings, RetentionSettings
from brandpulse.core.settings_care import CareSettings, RoutingRule, TeamSettings  # noqa: F401 (re-exported)

DEFAULT_CONFIG = Path("config.yaml")
Network = Literal["x", "reddit", "bluesky", "mastodon", "rss", "file"]
WEEK_MINUTES = 7 * 24 * 60
MAX_QUERY = 4096  # characters; X allows 512-4096, Reddit 512
SUBREDDIT = re.compile(r"[A-Za-z0-9_]{2,21}")


def _valid_query(value: str) -> str:
    from brandpulse.core.query import parse_query

    try:
        parse_query(value)
    except QueryError as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:
        raise ValueError("the query nests parentheses too deeply; simplify it") from None
    return value


class CompetitorSettings(Strict):
    name: str = Field(min_length=1)
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    handles: dict[Network, str] = Field(default_factory=dict)

    _query_parses = field_validator("query")(classmethod(lambda cls, v: _valid_query(v)))


class BrandSettings(Strict):
    name: str = Field(min_length=1)
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    handles: dict[Network, str] = Field(default_factory=dict)
    products: list[str] = Field(default_factory=list)
    competitors: list[CompetitorSettings] = Field(default_factory=list)

    _query_parses = field_validator("query")(classmethod(lambda cls, v: _valid_query(v)))


class FileSourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=5, gt=0, le=WEEK_MINUTES)
    inbox: Path = Path("inbox")
    network: Network = "file"


class RssSourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=15, gt=0, le=WEEK_MINUTES)
    feeds: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=20, gt=0, le=600)


class XSourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=15, gt=0, le=WEEK_MINUTES)
    base_url: str = "https://api.twitter.com"
    max_results: int = Field(default=100, ge=10, le=100)
    price_per_post: float = Field(default=0.005, ge=0, le=10, description="USD billed per post read")
    daily_cap_usd: float = Field(default=5.0, ge=0, le=1_000_000, description="stop reading for the day past this")
    timeout_seconds: float = Field(default=20, gt=0, le=600)
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=2.0, ge=0, le=3600)


class RedditSourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=10, gt=0, le=WEEK_MINUTES)
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    # where to search the brand query; [] means no search (only the watched comment streams)
    search_subreddits: list[str] = Field(default_factory=lambda: ["all"])
    watch_subreddits: list[str] = Field(default_factory=list)  # comment streams to poll

    @field_validator("search_subreddits", "watch_subreddits")
    @classmethod
    def _subreddit_names(cls, names: list[str]) -> list[str]:
        cleaned = [name.strip().removeprefix("/").removeprefix("r/") for name in names]
        bad = [name for name in cleaned if not SUBREDDIT.fullmatch(name)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a subreddit name (letters, digits and _, up to 21 "
                             "characters, without r/); write e.g. [redditdev, python]")
        return cleaned
    search_limit: int = Field(default=250, ge=1, le=1000)
    timeout_seconds: float = Field(default=20, gt=0, le=600)
    author_karma: bool = True  # look up new authors' karma (Reddit's reach) via /user/NAME/about
    karma_lookups_per_pass: int = Field(default=30, ge=0, le=500)  # each is one API call


class MastodonSourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=10, gt=0, le=WEEK_MINUTES)
    instances: list[str] = Field(default_factory=lambda: ["https://mastodon.social"])
    hashtags: list[str] = Field(default_factory=list)  # default: the single words of each query
    search: bool = True  # full-text status search, when BRANDPULSE_MASTODON_TOKEN is set
    page_limit: int = Field(default=40, ge=1, le=40)
    max_pages: int = Field(default=10, ge=1, le=100)
    timeout_seconds: float = Field(default=20, gt=0, le=600)


class BlueskySourceSettings(Strict):
    enabled: bool = False
    cadence_minutes: float = Field(default=1, gt=0, le=WEEK_MINUTES)
    jetstream: bool = True  # listen to the firehose (no auth)
    jetstream_url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    listen_seconds: float = Field(default=50, gt=0, le=3600, description="firehose window per pass")
    max_events: int = Field(default=200_000, ge=1, le=100_000_000)
    max_reconnects: int = Field(default=5, ge=0, le=1000)
    search: bool = True  # app.bsky.feed.searchPosts when handle + app password are set
    base_url: str = "https://bsky.social/xrpc"
    timeout_seconds: float = Field(default=20, gt=0, le=600)


class SourcesSettings(Strict):
    file: FileSourceSettings = FileSourceSettings()
    rss: RssSourceSettings = RssSourceSettings()
    x: XSourceSettings = XSourceSettings()
    reddit: RedditSourceSettings = RedditSourceSettings()
    mastodon: MastodonSourceSettings = MastodonSourceSettings()
    bluesky: BlueskySourceSettings = BlueskySourceSettings()


class NlpSettings(Strict):
    analyzer: Literal["model", "lexicon"] = "model"
    model_path: Path | None = None  # default: the committed nlp/models/brandpulse-minilm-multitask
    quantize: bool = True
    sentiment_model: str | None = None  # any HF sequence-classification model id or local path
    allow_download: bool = False  # let sentiment_model download from the Hugging Face hub
    entities: bool = True
    aspects: dict[str, list[str]] | None = None  # default: nlp.entities.DEFAULT_ASPECTS
    batch_size: int = Field(default=256, ge=1, le=10_000)
    interval_seconds: float = Field(default=60, gt=0, le=86_400)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    complaint_threshold: float = Field(default=0.5, ge=0, le=1)


class DatabaseSettings(Strict):
    url: str = "sqlite:///brandpulse.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("use a sqlite:///path.db or postgresql+psycopg://user@host/db URL")
        return value


class DashboardSettings(Strict):
    port: int = Field(default=8501, ge=1, le=65535)
    # the interface the server listens on: local only unless set (0.0.0.0 serves every network)
    address: str = Field(default="127.0.0.1", min_length=1, max_length=253, pattern=r"^[0-9A-Za-z.:\-]+$")
    synthetic_data_banner: bool = False
    session_idle_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60)  # signed out after this idle
    session_max_hours: float = Field(default=12, gt=0, le=30 * 24)  # and after this long in any case


class Settings(Strict):
    brands: list[BrandSettings] = Field(default_factory=list)
    sources: SourcesSettings = SourcesSettings()
    nlp: NlpSettings = NlpSettings()
    care: CareSettings = CareSettings()
    alerts: AlertSettings = AlertSettings()
    influence: InfluenceSettings = InfluenceSettings()
    topics: TopicSettings = TopicSettings()
    reports: ReportSettings = ReportSettings()
    database: DatabaseSettings = DatabaseSettings()
    dashboard: DashboardSettings = DashboardSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    limits: LimitsSettings = LimitsSettings()
    retention: RetentionSettings = RetentionSettings()
    deletions: DeletionSettings = DeletionSettings()
    queue: QueueSettings = QueueSettings()

    @model_validator(mode="after")
    def _retention_leaves_care_its_posts(self) -> "Settings":
        window = self.care.ticket_max_age_days
        for kind, least in (("text", window + 1), ("closed_ticket", window + 2)):
            days = self.retention.days(kind)
            if days is not None and days < least:
                raise ValueError(
                    f"retention.{kind}_days is {days}, but care.ticket_max_age_days is {window}: "
                    + ("posts would lose their text while they may still become tickets"
                       if kind == "text" else "a removed closed ticket's posts would be ticketed again")
                    + f"; set retention.{kind}_days to {least} or more (or lower ticket_max_age_days)")
        return self

    @model_validator(mode="after")
    def _unique_brand_names(self) -> "Settings":
        seen: set[str] = set()
        for brand in self.brands:
            if brand.name.lower() in seen:
                raise ValueError(f"brand {brand.name!r} is listed twice; keep one entry per brand")
            seen.add(brand.name.lower())
        own = {brand.name for brand in self.brands}
        for account in self.care.reply_accounts:
            if account.brand not in own:
                raise ValueError(f"care.reply_accounts {account.id!r} answers for brand {account.brand!r}, "
                                 f"which is not one of your brands ({sorted(own)}); fix the name")
        return self


def tracked_brands(settings: "Settings") -> list[BrandSettings | CompetitorSettings]:
    """Own brands then their competitors (each once): everything collectors search for."""
    tracked: dict[str, BrandSettings | CompetitorSettings] = {b.name: b for b in settings.brands}
    for brand in settings.brands:
        for rival in brand.competitors:
            tracked.setdefault(rival.name, rival)
    return list(tracked.values())


class Secrets(BaseSettings):
    """Credentials and webhook URLs: only from the environment or ``.env``.

    Values are stripped of surrounding whitespace (a pasted newline) and remembered by
    :mod:`brandpulse.core.redaction`, so no message or log line ever shows them.
    """

    model_config = SettingsConfigDict(env_prefix="BRANDPULSE_", env_file=".env", extra="ignore")

    x_bearer_token: str | None = None
    reddit_client_id: str | None = None
    reddit_client_secret: str | None = None
    reddit_user_agent: str | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = None
    mastodon_token: str | None = None

    REQUIRED: ClassVar[dict[str, tuple[str, ...]]] = {
        "x": ("x_bearer_token",),
        "reddit": ("reddit_client_id", "reddit_client_secret", "reddit_user_agent")}

    def __init__(self, **values) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:  # its text would show the value: name the variable only
            names = ", ".join(f"BRANDPULSE_{str(e['loc'][0]).upper()}" for e in exc.errors() if e["loc"])
            raise ConfigError(f"{names} holds a control character (a line break or tab inside the "
                              "value); set it again on one line, in the environment or .env") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"the secrets in the environment or .env cannot be read "
                              f"({type(exc).__name__}); .env must be a UTF-8 text file of "
                              "NAME=value lines") from None

    @field_validator("*", mode="after")
    @classmethod
    def _strip_and_remember(cls, value: str | None) -> str | None:
        value = value.strip() if isinstance(value, str) else value
        remember_secret(value)
        if value and not value.isprintable():  # would inject into or break an HTTP header
            raise ValueError("holds a control character")
        return value or None

    def missing_for(self, source: str) -> list[str]:
        """Environment variables a source needs that are not set."""
        return [f"BRANDPULSE_{name.upper()}" for name in self.REQUIRED.get(source, ())
                if not getattr(self, name)]


def config_path() -> Path:
    """The config file in use: ``BRANDPULSE_CONFIG`` or ``./config.yaml``."""
    return Path(os.environ.get("BRANDPULSE_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read, validate and return the settings; raise ConfigError naming file, key, line and fix.

    Every failure, whatever the file holds, is one ConfigError (see :mod:`brandpulse.core.config_yaml`).
    """
    from_env = path is None and bool(os.environ.get("BRANDPULSE_CONFIG"))
    path = Path(path) if path is not None else config_path()
    raw, lines = read_config(path, from_env)
    if raw is None:
        raise ConfigError(f"{path} is empty; copy config.yaml from the brandpulse repository "
                          "and list your brands in it")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (brands, sources, ...), "
                          f"not a {type(raw).__name__}")
    refuse_secrets(raw, path, Settings)
    origins = {}
    override = os.environ.get("BRANDPULSE_DATABASE_URL")
    if override:
        remember_url_password(override)
        database = raw.get("database") or {}
        if isinstance(database, dict):  # anything else stays, to be reported as it is
            raw = {**raw, "database": {**database, "url": override}}
            origins[("database", "url")] = "BRANDPULSE_DATABASE_URL"
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, raw, path, Settings, lines, origins)) from None
