"""RSS / Atom feeds with feedparser: guid dedupe and conditional GET (ETag / Last-Modified)."""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import datetime, timezone

import feedparser
import requests

from brandpulse.core.errors import RateLimitedError, SourceUnavailableError
from brandpulse.core.query import parse_query
from brandpulse.core.records import AuthorRecord, MentionRecord, Page
from brandpulse.core.settings import BrandSettings, RssSourceSettings
from collectors.base import cursor_state, payload_text, problem

SEEN_KEPT = 2000
MAX_GUID = 200


def _entry_time(entry) -> datetime:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc)
        except (ValueError, OverflowError, OSError):
            pass  # a date no calendar holds: the time it was read is the best we know
    return datetime.now(timezone.utc)


def _state(cursor: str | None) -> dict:
    """The saved cursor; one that is not ours starts afresh."""
    state = cursor_state(cursor)
    feeds = state.get("feeds") if isinstance(state.get("feeds"), dict) else {}
    return {"next": state["next"] if isinstance(state.get("next"), int) else 0, "feeds": feeds}


def _guid(entry) -> str:
    guid = entry.get("id") or entry.get("link")
    if not guid:
        guid = "sha1:" + hashlib.sha1((entry.get("title", "") + entry.get("summary", ""))
                                      .encode()).hexdigest()
    if len(guid) > MAX_GUID:  # longer than the id column: its digest still dedupes
        guid = "sha1:" + hashlib.sha1(guid.encode("utf-8", "replace")).hexdigest()
    return guid


class RssCollector:
    """One page per feed; the cursor keeps each feed's validators and recently seen guids."""

    name = "rss"
    network = "rss"

    def __init__(self, settings: RssSourceSettings, session: requests.Session | None = None) -> None:
        self.feeds = list(settings.feeds)
        self.timeout = settings.timeout_seconds
        self.http = session or requests.Session()

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = _state(cursor)
        if not self.feeds:
            return Page(mentions=[], next_cursor=cursor, done=True)
        index = state["next"] % len(self.feeds)
        url = self.feeds[index]
        feed_state = state["feeds"].get(url) if isinstance(state["feeds"].get(url), dict) else {}
        headers = {}
        if feed_state.get("etag"):
            headers["If-None-Match"] = feed_state["etag"]
        if feed_state.get("modified"):
            headers["If-Modified-Since"] = feed_state["modified"]
        try:
            response = self.http.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SourceUnavailableError(f"RSS feed {url} could not be fetched ({exc}); check the URL "
                                         "and your network", source=self.name) from exc
        if response.status_code == 429:
            raise RateLimitedError(f"RSS feed {url} answered 429 Too Many Requests; it will be "
                                   "retried at the next run", source=self.name)
        if response.status_code >= 400:
            raise SourceUnavailableError(f"RSS feed {url} answered HTTP {response.status_code}; "
                                         "check the feed URL", source=self.name)
        page = Page(mentions=[], next_cursor=None, done=index == len(self.feeds) - 1)
        seen = list(feed_state.get("seen", []))
        if response.status_code != 304:
            parsed = feedparser.parse(response.content)
            if parsed.bozo and not parsed.entries:
                page.quarantined.append((url, f"feed is not valid RSS/Atom: {parsed.bozo_exception}",
                                         response.text[:5000]))
            query = parse_query(brand.query)
            known = set(seen)
            for entry in parsed.entries:
                try:
                    guid = _guid(entry)
                    if guid in known:
                        continue
                    known.add(guid)
                    seen.append(guid)
                    text = " ".join(filter(None, [entry.get("title"), entry.get("summary")]))
                    if not query.matches(text):
                        continue
                    page.mentions.append(MentionRecord(
                        network="rss", native_id=guid, text=text, created_at=_entry_time(entry),
                        source=self.name, url=entry.get("link"),
                        author=AuthorRecord(network="rss", native_id=parsed.feed.get("link") or url,
                                            handle=parsed.feed.get("title") or url,
                                            name=entry.get("author") or ""),
                        raw={"feed": url, "guid": guid, "title": entry.get("title")},
                        brands=[brand.name]))
                except Exception as exc:  # noqa: BLE001 - one odd entry is quarantined, the feed goes on
                    page.quarantined.append((f"{url} entry {str(entry.get('id', '?'))[:80]}",
                                             f"feed entry is malformed: {problem(exc)}", payload_text(dict(entry))))
            feed_state = {"etag": response.headers.get("ETag"),
                          "modified": response.headers.get("Last-Modified"), "seen": seen[-SEEN_KEPT:]}
        state["feeds"][url] = feed_state
        state["next"] = index + 1 if not page.done else 0
        page.next_cursor = json.dumps(state, sort_keys=True)
        return page
