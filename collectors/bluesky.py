"""Bluesky: the Jetstream firehose (no auth, resumes from the last time_us) and, with an app
password, ``app.bsky.feed.searchPosts`` through atproto with one reused session.

Jetstream has no keyword filter, so posts are pre-filtered locally on the brand's
keywords; the runner then re-checks the full query.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from brandpulse.core.errors import RateLimitedError, RecordError, SourceUnavailableError
from brandpulse.core.query import parse_query, positive_keywords, tokenize_text
from brandpulse.core.records import AuthorRecord, MentionRecord, Page
from brandpulse.core.settings import BlueskySourceSettings, BrandSettings
from collectors.base import (
    bounded,
    count,
    cursor_state,
    item_id,
    payload_text,
    problem,
    text_or_none,
)
from collectors.tabular import parse_time

POST = "app.bsky.feed.post"
FUTURE_SLACK = timedelta(days=1)
MAX_TIME_US = 10**17  # microseconds since 1970: year 5138; a larger cursor is not a time


def _web_url(did_or_handle: str, uri: str) -> str:
    return f"https://bsky.app/profile/{did_or_handle}/post/{uri.rsplit('/', 1)[-1]}"


def _text(record: dict) -> str:
    text = record.get("text", "")
    if not isinstance(text, str):
        raise RecordError("post text is not text")
    return text


def _uri(value) -> str | None:
    return (value.get("uri") if isinstance(value, dict) else None) or None


def jetstream_event_to_mention(event: dict[str, Any]) -> MentionRecord | None:
    """A created post from a Jetstream commit event (None for other events)."""
    if not isinstance(event, dict):
        raise RecordError(f"event is a {type(event).__name__}, not an object")
    commit = event.get("commit") or {}
    if event.get("kind") != "commit" or not isinstance(commit, dict) or commit.get("operation") != "create" \
            or commit.get("collection") != POST:
        return None
    record = commit["record"]
    did = event["did"]
    if not isinstance(record, dict) or not isinstance(did, str) or not isinstance(commit["rkey"], str):
        raise RecordError("commit has no record object, did or rkey")
    uri = f"at://{did}/{POST}/{commit['rkey']}"
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    return MentionRecord(
        network="bluesky", native_id=uri, text=_text(record), source="bluesky",
        created_at=parse_time(record["createdAt"]), url=_web_url(did, uri),
        language=text_or_none(langs[0]) if langs else None, author=AuthorRecord("bluesky", did, handle=did),
        in_reply_to_id=_uri(reply.get("parent")), conversation_id=_uri(reply.get("root")) or uri,
        raw=bounded(event))


def jetstream_deleted_uri(event: dict[str, Any]) -> str | None:
    """The at:// uri of a post deleted by a Jetstream commit event (None for other events): the
    same uri :func:`jetstream_event_to_mention` gives the post as its native id."""
    commit = event.get("commit") if isinstance(event, dict) else None
    if not isinstance(commit, dict) or event.get("kind") != "commit" or commit.get("operation") != "delete" \
            or commit.get("collection") != POST:
        return None
    did, rkey = event.get("did"), commit.get("rkey")
    if not isinstance(did, str) or not isinstance(rkey, str) or not did or not rkey:
        raise RecordError("delete event has no did or rkey")
    return f"at://{did}/{POST}/{rkey}"


def post_view_to_mention(view: dict[str, Any]) -> MentionRecord:
    """A postView (searchPosts, getPostThread) as a mention."""
    record, author = view["record"], view["author"]
    if not isinstance(record, dict) or not isinstance(author, dict) or not isinstance(view["uri"], str):
        raise RecordError("post view has no record, author or uri")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    who = text_or_none(author.get("handle")) or str(author["did"])
    return MentionRecord(
        network="bluesky", native_id=view["uri"], text=_text(record), source="bluesky",
        created_at=parse_time(record["createdAt"]), url=_web_url(who, view["uri"]),
        language=text_or_none(langs[0]) if langs else None,
        author=AuthorRecord("bluesky", str(author["did"]), handle=text_or_none(author.get("handle")) or "",
                            name=text_or_none(author.get("displayName")) or "",
                            profile_url=f"https://bsky.app/profile/{who}",
                            created_at=parse_time(author["createdAt"]) if author.get("createdAt") else None),
        likes=count(view.get("likeCount")), replies=count(view.get("replyCount")),
        reposts=count(view.get("repostCount")), quotes=count(view.get("quoteCount")),
        in_reply_to_id=_uri(reply.get("parent")), conversation_id=_uri(reply.get("root")) or view["uri"],
        raw=bounded(view))


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
                            time_us = event["time_us"]
                            if not isinstance(time_us, int) or not 0 < time_us < MAX_TIME_US:
                                raise RecordError(f"time_us {str(time_us)[:30]!r} is not a time")
                            last_us = max(last_us or 0, time_us)
                            mention = jetstream_event_to_mention(event)
                            deleted = None if mention else jetstream_deleted_uri(event)
                        except Exception as exc:  # noqa: BLE001 - one odd event is quarantined
                            reason = exc.reason if isinstance(exc, RecordError) else problem(exc)
                            page.quarantined.append((f"jetstream time_us>{last_us}",
                                                     f"Jetstream event is malformed: {reason}", payload_text(raw)))
                            continue
                        if mention and self._mentions_keyword(mention.text, wanted):
                            page.mentions.append(mention)
                        elif deleted:  # no text to match: the store erases it only if it holds it
                            page.deleted.append(("bluesky", deleted))
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
            raise SourceUnavailableError(f"Bluesky search failed ({problem(exc)}); it will be retried "
                                         "at the next run", source=self.name) from exc
        except Exception as exc:  # noqa: BLE001 - atproto could not read the reply (e.g. its models refused it)
            raise SourceUnavailableError(f"Bluesky search at {self.settings.base_url} sent a reply the atproto "
                                         f"client could not read ({problem(exc)}); it will be retried at the "
                                         "next run", source=self.name) from exc
        newest = since
        for view in getattr(response, "posts", None) or []:
            data = None
            try:
                data = view.model_dump(by_alias=True, exclude_none=True) if hasattr(view, "model_dump") else view
                mention = post_view_to_mention(data)
            except Exception as exc:  # noqa: BLE001 - one odd post is quarantined, the page goes on
                reason = exc.reason if isinstance(exc, RecordError) else problem(exc)
                page.quarantined.append((item_id(data, "uri"), f"Bluesky post is malformed: {reason}",
                                         payload_text(data if data is not None else view)))
                continue
            page.mentions.append(mention)
            if mention.created_at <= datetime.now(timezone.utc) + FUTURE_SLACK:  # a post dated in the
                stamp = mention.created_at.astimezone(timezone.utc).isoformat()  # future must not
                newest = max(newest or stamp, stamp)  # move the search past every real post
        return newest

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = {k: v for k, v in cursor_state(cursor).items() if k in ("time_us", "search_since")}
        if not isinstance(state.get("time_us"), int):
            state.pop("time_us", None)
        if not isinstance(state.get("search_since"), str):
            state.pop("search_since", None)
        page = Page(mentions=[], next_cursor=None)
        if self.settings.jetstream:
            keywords = positive_keywords(parse_query(brand.query))
            state["time_us"] = self._listen(keywords, state.get("time_us"), page)
        if self.settings.search and self.handle and self.app_password:
            state["search_since"] = self._search(brand, state.get("search_since"), page)
        page.next_cursor = json.dumps(state, sort_keys=True)
        return page

