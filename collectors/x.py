"""X (Twitter) API v2 recent search through tweepy.Client, resumable on since_id + next_token.

tweepy hard-codes https://api.twitter.com; a one-method transport adapter mounted on
the client's session sends those requests to ``sources.x.base_url`` (a proxy, a
self-hosted gateway, or a test server) with a timeout.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from brandpulse.errors import (
    CollectorError,
    RateLimitedError,
    RecordError,
    SourceUnavailableError,
    UsageCappedError,
)
from brandpulse.query import parse_query, to_native
from brandpulse.records import AuthorRecord, MentionRecord, Page
from brandpulse.settings import BrandSettings, XSourceSettings
from collectors.tabular import parse_time

X_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets",
                "entities", "author_id", "in_reply_to_user_id"]
USER_FIELDS = ["public_metrics", "verified", "description", "location", "created_at", "username", "name"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
REFERENCE_FIELDS = {"replied_to": "in_reply_to_id", "quoted": "quoted_id", "retweeted": "reposted_id"}


class RedirectAdapter(HTTPAdapter):
    """Sends requests for api.twitter.com to another base URL, always with a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send(self, request, **kwargs):  # noqa: D401 - requests' transport method
        if request.url.startswith(X_HOST):
            request.url = self.base_url + request.url[len(X_HOST):]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().send(request, **kwargs)


def _author(user: dict[str, Any]) -> AuthorRecord:
    metrics = user.get("public_metrics") or {}
    return AuthorRecord(
        network="x", native_id=str(user["id"]), handle=user.get("username", ""), name=user.get("name", ""),
        followers=metrics.get("followers_count"), following=metrics.get("following_count"),
        post_count=metrics.get("tweet_count"), verified=bool(user.get("verified")),
        profile_url=f"https://x.com/{user['username']}" if user.get("username") else None,
        created_at=parse_time(user["created_at"]) if user.get("created_at") else None)


def snowflake_time(tweet_id: str) -> datetime:
    """The creation time encoded in an X id (for payloads without created_at)."""
    if not tweet_id.isdigit():
        raise RecordError(f"tweet id {tweet_id!r} is not numeric and the tweet has no created_at")
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + 1288834974657) / 1000, timezone.utc)


def tweet_to_mention(tweet: dict[str, Any], users: dict[str, dict]) -> MentionRecord:
    """One normalized mention from a v2 tweet object and the page's included users."""
    if not tweet.get("id") or not isinstance(tweet.get("text"), str):
        raise RecordError("tweet has no id or no text")
    created_at = (parse_time(tweet["created_at"]) if tweet.get("created_at")
                  else snowflake_time(str(tweet["id"])))
    metrics = tweet.get("public_metrics") or {}
    user = users.get(str(tweet.get("author_id")))
    author = _author(user) if user else (
        AuthorRecord("x", str(tweet["author_id"])) if tweet.get("author_id") else None)
    references = {REFERENCE_FIELDS[r["type"]]: str(r["id"]) for r in tweet.get("referenced_tweets") or []
                  if r.get("type") in REFERENCE_FIELDS}
    handle = user.get("username") if user else None
    return MentionRecord(
        network="x", native_id=str(tweet["id"]), text=tweet["text"], source="x",
        created_at=created_at, language=tweet.get("lang"), author=author,
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet['id']}",
        likes=metrics.get("like_count", 0), replies=metrics.get("reply_count", 0),
        reposts=metrics.get("retweet_count", 0), quotes=metrics.get("quote_count", 0),
        views=metrics.get("impression_count"), conversation_id=tweet.get("conversation_id"),
        raw=tweet, **references)


class XCollector:
    """Recent search for a brand's query; cursor = {since_id, next_token, newest}."""

    name = "x"
    network = "x"

    def __init__(self, settings: XSourceSettings, bearer_token: str) -> None:
        self.settings = settings
        self.price_per_item = settings.price_per_post
        self.client = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response,
                                    wait_on_rate_limit=False)
        self.client.session.mount(X_HOST, RedirectAdapter(settings.base_url, settings.timeout_seconds))

    def _search(self, **params) -> requests.Response:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            try:
                return self.client.search_recent_tweets(**params)
            except tweepy.TooManyRequests as exc:
                raise self._rate_limited(exc) from exc
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise SourceUnavailableError(
                    f"X refused the bearer token (HTTP {exc.response.status_code}); set a valid "
                    "BRANDPULSE_X_BEARER_TOKEN with search access", source=self.name) from exc
            except tweepy.BadRequest as exc:
                raise CollectorError(f"X rejected the search {params['query']!r}: "
                                     f"{'; '.join(exc.api_messages) or exc}; fix the brand query",
                                     source=self.name) from exc
            except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
                if attempt == attempts - 1:
                    raise SourceUnavailableError(
                        f"X search failed {attempts} times ({type(exc).__name__}: {exc}); it will be "
                        "retried at the next run", source=self.name) from exc
                time.sleep(self.settings.backoff_seconds * 2 ** attempt)
        raise AssertionError("unreachable")

    def _rate_limited(self, exc: tweepy.TooManyRequests) -> RateLimitedError:
        reset = exc.response.headers.get("x-rate-limit-reset")
        body = exc.response.text or ""
        until = datetime.fromtimestamp(int(reset), timezone.utc) if reset and reset.isdigit() else None
        if until is None or until <= datetime.now(timezone.utc) or "UsageCap" in body:
            return UsageCappedError("X answered 429 without a usable reset (usage cap reached); the "
                                    "source is paused, check your X plan's usage", source=self.name)
        return RateLimitedError(f"X rate limit reached; waiting until {until:%H:%M:%S} UTC",
                                source=self.name, until=until)

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = json.loads(cursor) if cursor else {}
        params: dict[str, Any] = {
            "query": to_native(parse_query(brand.query), "x"), "max_results": self.settings.max_results,
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS, "expansions": EXPANSIONS}
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        if state.get("next_token"):
            params["next_token"] = state["next_token"]
        response = self._search(**params)
        page = Page(mentions=[], next_cursor=None)
        try:
            body = response.json()
            users = {str(u["id"]): u for u in (body.get("includes") or {}).get("users", [])}
            tweets = body.get("data") or []
            meta = body.get("meta") or {}
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            page.quarantined.append((response.url, f"X returned a body that is not a search page: {exc}",
                                     response.text[:100_000]))
            page.next_cursor = cursor
            return page
        for tweet in tweets:
            try:
                page.mentions.append(tweet_to_mention(tweet, users))
            except RecordError as exc:
                page.quarantined.append((f"tweet {tweet.get('id', '?')}", exc.reason, json.dumps(tweet)))
        page.partial_errors = [f"{e.get('title', 'error')}: {e.get('detail', '')}"
                               for e in body.get("errors") or []]
        newest = max((int(x) for x in (state.get("newest"), meta.get("newest_id")) if x), default=None)
        if meta.get("next_token"):
            page.next_cursor = json.dumps({"since_id": state.get("since_id"),
                                           "next_token": meta["next_token"], "newest": str(newest)})
            page.done = False
        else:
            since = str(newest) if newest else state.get("since_id")
            page.next_cursor = json.dumps({"since_id": since, "next_token": None, "newest": None})
        page.items_read = len(tweets)
        return page
