"""Mastodon with Mastodon.py: hashtag timelines and status search per instance, min_id paging.

The cursor keeps, per (instance, hashtag or search), the newest status id seen; each
pass pages forward with ``min_id``. One instance failing is reported as a partial
error and never stops the others.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit
from datetime import datetime, timezone

import mastodon
from mastodon import Mastodon

from brandpulse.core.errors import RateLimitedError, RecordError, SourceUnavailableError
from brandpulse.core.query import parse_query, positive_keywords
from brandpulse.core.records import AuthorRecord, MentionRecord, Page
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
from brandpulse.core.settings import BrandSettings, MastodonSourceSettings
from collectors.html_text import html_to_text
from collectors.tabular import parse_time

TAG = re.compile(r"^\w+$")
READ_FROM = "_read_from"  # added to a stored status: the instance it was read from (its id is local there)
STATUS_URI = re.compile(r"^/users/[^/]+/statuses/(\d{1,30})$")  # a Mastodon server's own status uri
GONE = "Record not found"  # what Mastodon says of a deleted (or never existing) status


def status_to_mention(status: dict, instance: str) -> MentionRecord:
    """A status as a mention; boosts keep the boosted status's text and point at it."""
    if not isinstance(status, dict):
        raise RecordError(f"status is a {type(status).__name__}, not an object")
    account = status["account"]
    boosted = status.get("reblog")
    if not isinstance(account, dict) or not isinstance(boosted or {}, dict):
        raise RecordError("status has no account object")
    content = (boosted or status).get("content") or ""
    if not isinstance(content, str):
        raise RecordError("status content is not text")
    created = status["created_at"]
    status_id = status.get("uri") or f"{instance}/{status['id']}"
    return MentionRecord(
        network="mastodon", native_id=str(status_id), text=html_to_text(content), source="mastodon",
        created_at=created if isinstance(created, datetime) else parse_time(created),
        url=text_or_none(status.get("url")), language=text_or_none(status.get("language")),
        author=AuthorRecord(network="mastodon", native_id=str(account.get("url") or account["id"]),
                            handle=text_or_none(account.get("acct")) or "",
                            name=text_or_none(account.get("display_name")) or "",
                            followers=optional_count(account.get("followers_count")),
                            following=optional_count(account.get("following_count")),
                            post_count=optional_count(account.get("statuses_count")),
                            profile_url=text_or_none(account.get("url")),
                            created_at=parse_time(account["created_at"]) if account.get("created_at") else None),
        likes=count(status.get("favourites_count")), replies=count(status.get("replies_count")),
        reposts=count(status.get("reblogs_count")),
        in_reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        reposted_id=str(boosted.get("uri")) if boosted and boosted.get("uri") else None,
        raw=bounded({**dict(status), READ_FROM: instance}))


def newest_id(statuses: list, current: str | None) -> str | None:
    """The highest numeric status id of a page (ids are sortable numbers), or the current one."""
    ids = [int(s["id"]) for s in statuses if isinstance(s, dict) and str(s.get("id", "")).isdigit()
           and len(str(s["id"])) <= 30]
    if current and current.isdigit():
        ids.append(int(current))
    return str(max(ids)) if ids else current


class MastodonCollector:
    name = "mastodon"
    network = "mastodon"

    def __init__(self, settings: MastodonSourceSettings, token: str | None) -> None:
        self.settings = settings
        self.token = token
        self.clients = {url.rstrip("/"): Mastodon(api_base_url=url, access_token=token,
                                                  request_timeout=settings.timeout_seconds,
                                                  ratelimit_method="throw", version_check_mode="none")
                        for url in settings.instances}

    def _streams(self, brand: BrandSettings) -> list[str]:
        tags = self.settings.hashtags or [w.replace(" ", "") for w in positive_keywords(parse_query(brand.query))]
        streams = [f"#{t.lstrip('#').lower()}" for t in tags if TAG.match(t.lstrip("#").replace(" ", ""))]
        if self.token and self.settings.search:
            streams.append("search")
        return list(dict.fromkeys(streams))

    def _read(self, client: Mastodon, stream: str, brand: BrandSettings, min_id: str | None) -> list:
        if stream == "search":
            query = " ".join(positive_keywords(parse_query(brand.query)))
            return list(client.search_v2(query, result_type="statuses", min_id=min_id).statuses)
        return list(client.timeline_hashtag(stream[1:], min_id=min_id, limit=self.settings.page_limit))

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = _state(cursor)
        page = Page(mentions=[], next_cursor=None)
        streams = self._streams(brand)
        failed = 0
        for instance, client in self.clients.items():
            for stream in streams:
                try:
                    self._page_through(client, instance, stream, brand, state, page)
                except mastodon.MastodonRatelimitError as exc:
                    reset = getattr(client, "ratelimit_reset", None)
                    until = _reset_time(reset)
                    when = f"{until:%H:%M:%S} UTC" if until else "later"
                    if len(self.clients) == 1:
                        raise RateLimitedError(f"Mastodon {instance} rate limit reached; waiting until "
                                               f"{when}", source=self.name, until=until) from exc
                    failed += 1
                    page.partial_errors.append(f"{instance}: rate limited until {when}")
                except mastodon.MastodonError as exc:
                    failed += 1
                    page.partial_errors.append(
                        f"{instance} {stream}: {type(exc).__name__}: {str(exc)[:300]}; check the instance URL"
                        + (" and BRANDPULSE_MASTODON_TOKEN" if "Unauthorized" in type(exc).__name__ else ""))
                except Exception as exc:  # noqa: BLE001 - Mastodon.py's own failure (e.g. RecursionError)
                    failed += 1
                    page.partial_errors.append(
                        f"{instance} {stream}: the Mastodon client library failed ({problem(exc)}); the "
                        "other instances went on and this one is retried at the next run")
        if streams and self.clients and failed == len(self.clients) * len(streams):
            raise SourceUnavailableError("every Mastodon instance failed: " + " | ".join(page.partial_errors),
                                         source=self.name)
        page.next_cursor = json.dumps(state, sort_keys=True)
        return page

    def recheck(self, posts: list[tuple[str, dict | None]]) -> Page:
        """Ask the instance each stored status was read from (or its home server, when that is one
        of ours) for it again; one it answers "Record not found" is reported gone. A status no
        configured instance can name is left as it is."""
        page = Page(mentions=[], next_cursor=None, items_read=0)
        for native_id, raw in posts:
            target = next(((client, found) for instance, client in self.clients.items()
                           if (found := _status_id(instance, native_id, raw))), None)
            if target is None:
                continue
            try:
                target[0].status(target[1])
            except mastodon.MastodonNotFoundError as exc:
                if GONE in str(exc.args[-1] if exc.args else ""):
                    page.deleted.append(("mastodon", native_id))
                else:
                    page.partial_errors.append(f"an instance answered 404 for status {target[1]} without saying "
                                               "it is gone; check sources.mastodon.instances")
            except mastodon.MastodonRatelimitError:
                page.partial_errors.append("Mastodon rate limit reached during the re-check; the rest waits "
                                           "for the next run")
                break
            except Exception as exc:  # noqa: BLE001 - one failing lookup never stops the others
                page.partial_errors.append(f"re-check of status {target[1]} failed ({problem(exc)})")
            page.items_read += 1
        return page

    def _page_through(self, client: Mastodon, instance: str, stream: str, brand: BrandSettings,
                      state: dict[str, str], page: Page) -> None:
        """Read one (instance, stream) forward from its saved min_id, up to max_pages pages."""
        key = f"{instance}|{stream}"
        for _ in range(self.settings.max_pages):
            statuses = self._read(client, stream, brand, state.get(key))
            if not statuses:
                break
            for status in statuses:
                try:
                    page.mentions.append(status_to_mention(status, instance))
                except Exception as exc:  # noqa: BLE001 - one odd status is quarantined, the page goes on
                    reason = exc.reason if isinstance(exc, RecordError) else problem(exc)
                    page.quarantined.append((f"{instance} status {item_id(status)}",
                                             f"Mastodon status is malformed: {reason}", payload_text(status)))
            newest = newest_id(statuses, state.get(key))
            if newest == state.get(key):
                break  # no usable id moved the stream on: reading again would return the same page
            state[key] = newest
            if len(statuses) < self.settings.page_limit or stream == "search":
                break


def _status_id(instance: str, native_id: str, raw: dict | None) -> str | None:
    """The id of a stored status on ``instance``: its own id when it was read there, or the id
    in its uri when the instance is its home server; None when the instance cannot know it."""
    if isinstance(raw, dict) and raw.get(READ_FROM) == instance and str(raw.get("id", "")).isdigit():
        return str(raw["id"])
    parts = urlsplit(native_id)
    found = STATUS_URI.match(parts.path) if f"{parts.scheme}://{parts.netloc}" == instance else None
    return found.group(1) if found else None


def _state(cursor: str | None) -> dict[str, str]:
    return {k: v for k, v in cursor_state(cursor).items() if isinstance(v, str)}


def _reset_time(reset) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(reset), timezone.utc) if reset else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
