"""X (Twitter) API v2 recent search through tweepy.Client, resumable on since_id + next_token.

tweepy hard-codes https://api.twitter.com; a one-method transport adapter mounted on
the client's session sends those requests to ``sources.x.base_url`` (a proxy, a
self-hosted gateway, or a test server) with a timeout.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from brandpulse.core.errors import (
    CollectorError,
    RateLimitedError,
    RecordError,
    SourceUnavailableError,
    UsageCappedError,
)
from brandpulse.core.query import parse_query, to_native
from brandpulse.core.records import AuthorRecord, MentionRecord, Page
from brandpulse.core.settings import BrandSettings, XSourceSettings
from collectors.base import (
    bounded,
    count,
    cursor_state,
    item_id,
    optional_count,
    payload_text,
    problem,
    text_or_none,
)
from collectors.tabular import parse_time

X_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "public_metrics", "lang", "conversation_id", "referenced_tweets",
                "entities", "author_id", "in_reply_to_user_id"]
USER_FIELDS = ["public_metrics", "verified", "description", "location", "created_at", "username", "name"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
REFERENCE_FIELDS = {"replied_to": "in_reply_to_id", "quoted": "quoted_id", "retweeted": "reposted_id"}
GONE = ("/resource-not-found", "/not-authorized-for-resource")  # error types of deleted or hidden tweets
LOOKUP_IDS = 100  # GET /2/tweets takes up to 100 ids
SHORT_WAIT_SECONDS = 60  # a 429 whose reset is now or past: the window is turning over
MAX_WAIT = timedelta(hours=24)  # a reset further away than this is not believed
# a cut connection (also mid-body), a timeout or a 5xx: worth another try
TRANSIENT = (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout,
             requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


class RedirectAdapter(HTTPAdapter):
    """Sends requests for api.twitter.com to another base URL, always with a timeout; remembers
    the last reply's status and headers (tweepy can fail on a reply before we see it)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.last_status: int | None = None
        self.last_headers: dict[str, str] = {}

    def send(self, request, **kwargs):  # noqa: D401 - requests' transport method
        if request.url.startswith(X_HOST):
            request.url = self.base_url + request.url[len(X_HOST):]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        response = super().send(request, **kwargs)
        self.last_status, self.last_headers = response.status_code, dict(response.headers)
        return response


def _author(user: dict[str, Any]) -> AuthorRecord:
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    username = text_or_none(user.get("username"))
    return AuthorRecord(
        network="x", native_id=str(user["id"]), handle=username or "", name=text_or_none(user.get("name")) or "",
        followers=optional_count(metrics.get("followers_count")),
        following=optional_count(metrics.get("following_count")),
        post_count=optional_count(metrics.get("tweet_count")), verified=user.get("verified") is True,
        profile_url=f"https://x.com/{username}" if username else None,
        created_at=parse_time(user["created_at"]) if user.get("created_at") else None)


def snowflake_time(tweet_id: str) -> datetime:
    """The creation time encoded in an X id (for payloads without created_at)."""
    if not tweet_id.isdigit() or len(tweet_id) > 19:
        raise RecordError(f"tweet id {tweet_id[:40]!r} is not an X id and the tweet has no created_at")
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + 1288834974657) / 1000, timezone.utc)


def tweet_to_mention(tweet: dict[str, Any], users: dict[str, dict]) -> MentionRecord:
    """One normalized mention from a v2 tweet object and the page's included users."""
    if not isinstance(tweet, dict):
        raise RecordError(f"tweet is a {type(tweet).__name__}, not an object")
    if not isinstance(tweet.get("id"), (str, int)) or isinstance(tweet.get("id"), bool) \
            or not str(tweet["id"]) or not isinstance(tweet.get("text"), str):
        raise RecordError("tweet has no id or no text")
    tweet_id = str(tweet["id"])
    created_at = (parse_time(tweet["created_at"]) if tweet.get("created_at") else snowflake_time(tweet_id))
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    author_id = tweet.get("author_id")
    author_id = str(author_id) if isinstance(author_id, (str, int)) and not isinstance(author_id, bool) else None
    user = users.get(author_id) if author_id else None
    author = _author(user) if user else (AuthorRecord("x", author_id) if author_id else None)
    references = {REFERENCE_FIELDS[r["type"]]: str(r["id"]) for r in tweet.get("referenced_tweets") or []
                  if isinstance(r, dict) and r.get("type") in REFERENCE_FIELDS and r.get("id")}
    handle = author.handle if author else None
    conversation = tweet.get("conversation_id")
    return MentionRecord(
        network="x", native_id=tweet_id, text=tweet["text"], source="x",
        created_at=created_at, language=text_or_none(tweet.get("lang")), author=author,
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet_id}",
        likes=count(metrics.get("like_count")), replies=count(metrics.get("reply_count")),
        reposts=count(metrics.get("retweet_count")), quotes=count(metrics.get("quote_count")),
        views=optional_count(metrics.get("impression_count")),
        conversation_id=str(conversation) if isinstance(conversation, (str, int)) else None,
        raw=bounded(tweet), **references)


def _users(includes: Any) -> dict[str, dict]:
    """The page's included users by id; users without an id are left out (their tweets keep the id)."""
    users = includes.get("users") if isinstance(includes, dict) else None
    return {str(u["id"]): u for u in users or [] if isinstance(u, dict) and isinstance(u.get("id"), (str, int))} \
        if isinstance(users, list) else {}


def gone_tweets(errors: Any) -> list[str]:
    """Ids of tweets an ``errors`` array says are deleted ("Not Found Error") or no longer visible
    (suspended or protected author: "Authorization Error"): X's terms ask that they be removed."""
    gone = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or error.get("resource_type") != "tweet":
            continue
        kind, tweet_id = str(error.get("type") or ""), error.get("resource_id") or error.get("value")
        if kind.endswith(GONE) and _is_id(tweet_id):
            gone.append(str(tweet_id))
    return gone


def parse_lookup_page(text: str, asked: list[str]) -> Page:
    """A tweet lookup (GET /2/tweets?ids=) as a page of the asked tweets found gone; a tweet
    neither returned nor reported stays as it is. Billed per tweet returned."""
    page = Page(mentions=[], next_cursor=None, items_read=0)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:
        page.partial_errors.append(f"X answered the tweet lookup with a body that is not JSON ({problem(exc)}); "
                                   "these tweets are checked again at the next run")
        return page
    body = body if isinstance(body, dict) else {}
    found = body.get("data") if isinstance(body.get("data"), list) else []
    page.items_read = len(found)
    wanted = set(asked)
    page.deleted = [("x", tweet_id) for tweet_id in gone_tweets(body.get("errors")) if tweet_id in wanted]
    return page


def parse_search_page(text: str, location: str, cursor: str | None) -> Page:
    """One recent-search reply body as a page: tweets stored, malformed ones quarantined, and the
    cursor moved on. A body that is not a search page is quarantined whole and the cursor kept."""
    state = _state(cursor)
    page = Page(mentions=[], next_cursor=cursor)
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:
        page.quarantined.append((location, f"X returned a body that is not a search page (not JSON: {problem(exc)}); "
                                 "the same page is asked for again at the next run",
                                 payload_text(text)))
        return page
    tweets = (body.get("data") or []) if isinstance(body, dict) else None
    if not isinstance(tweets, list):
        page.quarantined.append((location, "X returned a body that is not a search page (no list of tweets "
                                 "in 'data'); the same page is asked for again at the next run", payload_text(text)))
        return page
    users = _users(body.get("includes"))
    for tweet in tweets:
        try:
            page.mentions.append(tweet_to_mention(tweet, users))
        except Exception as exc:  # noqa: BLE001 - one odd tweet is quarantined, the page goes on
            reason = exc.reason if isinstance(exc, RecordError) else f"tweet is malformed: {problem(exc)}"
            page.quarantined.append((f"tweet {item_id(tweet)}", reason, payload_text(tweet)))
    errors = body.get("errors")
    page.partial_errors = [f"{e.get('title', 'error')}: {e.get('detail', '')}" if isinstance(e, dict)
                           else str(e)[:300] for e in (errors if isinstance(errors, list) else [])]
    page.deleted = [("x", tweet_id) for tweet_id in gone_tweets(errors)]
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    ids = [x for x in (state.get("newest"), meta.get("newest_id")) if _is_id(x)]
    newest = str(max(int(x) for x in ids)) if ids else None
    token = meta.get("next_token")
    if isinstance(token, str) and token and token == state.get("next_token"):
        page.partial_errors.append(f"X sent next_token {token[:60]!r} again for the same search; paging "
                                   "ended here so the same page is not read (and billed) again")
        token = None
    if isinstance(token, str) and token:
        page.next_cursor = json.dumps({"since_id": state.get("since_id"), "next_token": token,
                                       "newest": newest})
        page.done = False
    else:
        since = newest or state.get("since_id")
        page.next_cursor = json.dumps({"since_id": since, "next_token": None, "newest": None})
    page.items_read = len(tweets)
    return page


def _is_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).isdigit() \
        and len(str(value)) <= 19


def _state(cursor: str | None) -> dict[str, Any]:
    """The saved cursor; one that is not ours (hand-edited, older format) starts afresh."""
    state = cursor_state(cursor)
    return {k: state.get(k) if _is_id(state.get(k)) else None for k in ("since_id", "newest")} | {
        "next_token": state.get("next_token") if isinstance(state.get("next_token"), str) else None}


class XCollector:
    """Recent search for a brand's query; cursor = {since_id, next_token, newest}."""

    name = "x"
    network = "x"

    def __init__(self, settings: XSourceSettings, bearer_token: str) -> None:
        self.settings = settings
        self.price_per_item = settings.price_per_post
        self.client = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response,
                                    wait_on_rate_limit=False)
        self.adapter = RedirectAdapter(settings.base_url, settings.timeout_seconds)
        self.client.session.mount(X_HOST, self.adapter)

    def _search(self, **params) -> requests.Response:
        return self._send(self.client.search_recent_tweets, f"search {params['query']!r}", "fix the brand query",
                          **params)

    def _send(self, method, what: str, fix: str, **params) -> requests.Response:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            self.adapter.last_status = None
            try:
                return method(**params)
            except tweepy.TooManyRequests as exc:
                raise self._rate_limited(exc.response.headers, exc.response.text) from exc
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise SourceUnavailableError(
                    f"X refused the bearer token (HTTP {exc.response.status_code}); set a valid "
                    "BRANDPULSE_X_BEARER_TOKEN with search access", source=self.name) from exc
            except tweepy.BadRequest as exc:
                raise CollectorError(f"X rejected the {what}: "
                                     f"{'; '.join(map(str, exc.api_messages)) or exc}; {fix}",
                                     source=self.name) from exc
            except TRANSIENT as exc:
                if attempt == attempts - 1:
                    raise SourceUnavailableError(
                        f"X {what.split()[0]} failed {attempts} times ({problem(exc)}); it will be "
                        "retried at the next run", source=self.name) from exc
                time.sleep(self.settings.backoff_seconds * 2 ** attempt)
            except tweepy.HTTPException as exc:
                raise SourceUnavailableError(
                    f"X answered HTTP {exc.response.status_code} to the {what.split()[0]} at "
                    f"{self.settings.base_url}; check sources.x.base_url", source=self.name) from exc
            except requests.RequestException as exc:
                raise SourceUnavailableError(f"X {what.split()[0]} at {self.settings.base_url} could not be sent "
                                             f"({problem(exc)}); check sources.x.base_url",
                                             source=self.name) from exc
            except Exception as exc:  # noqa: BLE001 - tweepy itself failed on an odd reply
                if self.adapter.last_status == 429:
                    raise self._rate_limited(self.adapter.last_headers, "") from exc
                raise SourceUnavailableError(
                    f"X's client library (tweepy) failed on the reply to the {what.split()[0]} ({problem(exc)}); "
                    "it will be retried at the next run", source=self.name) from exc
        raise AssertionError("unreachable")

    def _rate_limited(self, headers, body: str) -> RateLimitedError:
        """A 429: a usage cap when X says so; else a rate limit until the reset, or a short wait when
        the reset is missing, unreadable, now or already past (the window is just turning over)."""
        now = datetime.now(timezone.utc)
        if "UsageCap" in (body or ""):
            return UsageCappedError("X answered 429 UsageCapExceeded (usage cap reached); the source is "
                                    "paused, check your X plan's usage", source=self.name)
        reset = str(headers.get("x-rate-limit-reset") or "").strip()
        until = now + timedelta(seconds=SHORT_WAIT_SECONDS)
        if reset.isdigit() and len(reset) <= 12:
            until = min(max(datetime.fromtimestamp(int(reset), timezone.utc), until), now + MAX_WAIT)
        return RateLimitedError(f"X rate limit reached; waiting until {until:%H:%M:%S} UTC",
                                source=self.name, until=until)

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = _state(cursor)
        params: dict[str, Any] = {
            "query": to_native(parse_query(brand.query), "x"), "max_results": self.settings.max_results,
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS, "expansions": EXPANSIONS}
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        if state.get("next_token"):
            params["next_token"] = state["next_token"]
        response = self._search(**params)
        return parse_search_page(response.text, response.url[:200], cursor)

    def recheck(self, posts: list[tuple[str, dict | None]]) -> Page:
        """Look stored tweets up again (100 ids a call) and report those X says are gone."""
        page = Page(mentions=[], next_cursor=None, items_read=0)
        ids = [native_id for native_id, _ in posts if _is_id(native_id)]
        for start in range(0, len(ids), LOOKUP_IDS):
            asked = ids[start:start + LOOKUP_IDS]
            response = self._send(self.client.get_tweets, "lookup of stored tweets", "report this with the log",
                                  ids=asked, tweet_fields=["id"])
            found = parse_lookup_page(response.text, asked)
            page.deleted += found.deleted
            page.items_read += found.items_read
            page.partial_errors += found.partial_errors
        return page
