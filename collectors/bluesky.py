"""Bluesky: the Jetstream firehose (no auth, resumes from the last time_us) and, with an app
password, ``app.bsky.feed.searchPosts`` through atproto with one reused session.

Jetstream has no keyword filter, so posts are pre-filtered locally on the brand's
keywords; the runner then re-checks the full query.
"""

from __future__ import annotations

import json
import time
from datetime import timezone
from typing import Any

from brandpulse.errors import RateLimitedError, SourceUnavailableError
from brandpulse.query import parse_query, positive_keywords, tokenize_text
from brandpulse.records import AuthorRecord, MentionRecord, Page
from brandpulse.settings import BlueskySourceSettings, BrandSettings
from collectors.tabular import parse_time

POST = "app.bsky.feed.post"


def _web_url(did_or_handle: str, uri: str) -> str:
    return f"https://bsky.app/profile/{did_or_handle}/post/{uri.rsplit('/', 1)[-1]}"


def jetstream_event_to_mention(event: dict[str, Any]) -> MentionRecord | None:
    """A created post from a Jetstream commit event (None for other events)."""
    commit = event.get("commit") or {}
    if event.get("kind") != "commit" or commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    record = commit["record"]
    did = event["did"]
    uri = f"at://{did}/{POST}/{commit['rkey']}"
    reply = record.get("reply") or {}
    return MentionRecord(
        network="bluesky", native_id=uri, text=record.get("text", ""), source="bluesky",
        created_at=parse_time(record["createdAt"]), url=_web_url(did, uri),
        language=(record.get("langs") or [None])[0], author=AuthorRecord("bluesky", did, handle=did),
        in_reply_to_id=(reply.get("parent") or {}).get("uri"), conversation_id=(reply.get("root") or {}).get("uri") or uri,
        raw=event)


def post_view_to_mention(view: dict[str, Any]) -> MentionRecord:
    """A postView (searchPosts, getPostThread) as a mention."""
    record, author = view["record"], view["author"]
    reply = record.get("reply") or {}
    return MentionRecord(
        network="bluesky", native_id=view["uri"], text=record.get("text", ""), source="bluesky",
        created_at=parse_time(record["createdAt"]), url=_web_url(author.get("handle") or author["did"], view["uri"]),
        language=(record.get("langs") or [None])[0],
        author=AuthorRecord("bluesky", author["did"], handle=author.get("handle", ""),
                            name=author.get("displayName", ""),
                            profile_url=f"https://bsky.app/profile/{author.get('handle') or author['did']}",
                            created_at=parse_time(author["createdAt"]) if author.get("createdAt") else None),
        likes=view.get("likeCount", 0), replies=view.get("replyCount", 0), reposts=view.get("repostCount", 0),
        quotes=view.get("quoteCount", 0), in_reply_to_id=(reply.get("parent") or {}).get("uri"),
        conversation_id=(reply.get("root") or {}).get("uri") or view["uri"], raw=view)


class BlueskyCollector:
    name = "bluesky"
    network = "bluesky"

    def __init__(self, settings: BlueskySourceSettings, handle: str | None, app_password: str | None) -> None:
        self.settings = settings
        self.handle, self.app_password = handle, app_password
        self._client = None  # logged in once, then reused: createSession is rate-limited

    def _listen(self, keywords: list[str], since_us: int | None, page: Page) -> int | None:
        from websockets.exceptions import (
            ConnectionClosed,
            InvalidURI,
            WebSocketException,
        )
        from websockets.sync.client import connect

        wanted = [tuple(tokenize_text(k)) for k in keywords]
        deadline = time.monotonic() + self.settings.listen_seconds
        last_us, reconnects, events = since_us, 0, 0
        while time.monotonic() < deadline and events < self.settings.max_events:
            url = f"{self.settings.jetstream_url}?wantedCollections={POST}"
            if last_us:
                url += f"&cursor={last_us}"
            try:
                with connect(url, open_timeout=self.settings.timeout_seconds, max_size=2**22) as socket:
                    while time.monotonic() < deadline and events < self.settings.max_events:
                        try:
                            raw = socket.recv(timeout=max(0.05, deadline - time.monotonic()))
                        except TimeoutError:
                            break
                        events += 1
                        try:
                            event = json.loads(raw)
                            last_us = max(last_us or 0, int(event["time_us"]))
                            mention = jetstream_event_to_mention(event)
                        except (ValueError, KeyError, TypeError) as exc:
                            page.quarantined.append((f"jetstream time_us>{last_us}",
                                                     f"Jetstream event is malformed: {exc}", str(raw)[:100_000]))
                            continue
                        if mention and self._mentions_keyword(mention.text, wanted):
                            page.mentions.append(mention)
            except (ConnectionClosed, OSError, WebSocketException) as exc:
                if isinstance(exc, InvalidURI) or reconnects >= self.settings.max_reconnects:
                    raise SourceUnavailableError(f"Jetstream {self.settings.jetstream_url} failed "
                                                 f"({type(exc).__name__}: {exc}); check sources.bluesky."
                                                 "jetstream_url", source=self.name) from exc
                reconnects += 1
                page.partial_errors.append(f"Jetstream disconnected ({type(exc).__name__}); resumed from "
                                           f"time_us {last_us}")
                time.sleep(min(0.2 * reconnects, 2.0))
        return last_us

    @staticmethod
    def _mentions_keyword(text: str, wanted: list[tuple[str, ...]]) -> bool:
        tokens = [t.lstrip("@#") for t in tokenize_text(text)]
        return any(tuple(tokens[i:i + len(w)]) == w for w in wanted for i in range(len(tokens)))

    def _search(self, brand: BrandSettings, since: str | None, page: Page) -> str | None:
        from atproto import Client
        from atproto_client.exceptions import (
            BadRequestError,
            NetworkError,
            RequestException,
            UnauthorizedError,
        )

        try:
            if self._client is None:
                client = Client(base_url=self.settings.base_url)
                client.login(self.handle, self.app_password, fetch_bsky_profile=False)
                self._client = client
            query = " ".join(f'"{k}"' if " " in k else k for k in positive_keywords(parse_query(brand.query)))
            params = {"q": query, "sort": "latest", "limit": 100, **({"since": since} if since else {})}
            response = self._client.app.bsky.feed.search_posts(params=params)
        except UnauthorizedError as exc:
            self._client = None
            raise SourceUnavailableError("Bluesky refused the login; check BRANDPULSE_BLUESKY_HANDLE and "
                                         "BRANDPULSE_BLUESKY_APP_PASSWORD", source=self.name) from exc
        except (NetworkError, BadRequestError, RequestException) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 429:
                raise RateLimitedError("Bluesky search is rate limited; it will be retried later",
                                       source=self.name) from exc
            raise SourceUnavailableError(f"Bluesky search failed ({type(exc).__name__}: {exc})",
                                         source=self.name) from exc
        newest = since
        for view in response.posts:
            data = view.model_dump(by_alias=True, exclude_none=True)
            try:
                mention = post_view_to_mention(data)
            except (KeyError, TypeError, ValueError) as exc:
                page.quarantined.append((data.get("uri", "?"), f"Bluesky post is malformed: {exc}",
                                         json.dumps(data, default=str)))
                continue
            page.mentions.append(mention)
            stamp = mention.created_at.astimezone(timezone.utc).isoformat()
            newest = max(newest or stamp, stamp)
        return newest

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = json.loads(cursor) if cursor else {}
        page = Page(mentions=[], next_cursor=None)
        if self.settings.jetstream:
            keywords = positive_keywords(parse_query(brand.query))
            state["time_us"] = self._listen(keywords, state.get("time_us"), page)
        if self.settings.search and self.handle and self.app_password:
            state["search_since"] = self._search(brand, state.get("search_since"), page)
        page.next_cursor = json.dumps(state, sort_keys=True)
        return page

