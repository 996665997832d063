"""Mastodon with Mastodon.py: hashtag timelines and status search per instance, min_id paging.

The cursor keeps, per (instance, hashtag or search), the newest status id seen; each
pass pages forward with ``min_id``. One instance failing is reported as a partial
error and never stops the others.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import mastodon
from mastodon import Mastodon

from brandpulse.errors import RateLimitedError, SourceUnavailableError
from brandpulse.query import parse_query, positive_keywords
from brandpulse.records import AuthorRecord, MentionRecord, Page, json_safe
from brandpulse.settings import BrandSettings, MastodonSourceSettings
from collectors.html_text import html_to_text
from collectors.tabular import parse_time

TAG = re.compile(r"^\w+$")


def status_to_mention(status: dict, instance: str) -> MentionRecord:
    """A status as a mention; boosts keep the boosted status's text and point at it."""
    account = status["account"]
    boosted = status.get("reblog")
    content = html_to_text((boosted or status).get("content", ""))
    created = status["created_at"]
    return MentionRecord(
        network="mastodon", native_id=str(status.get("uri") or f"{instance}/{status['id']}"),
        text=content, source="mastodon",
        created_at=created if isinstance(created, datetime) else parse_time(created),
        url=status.get("url"), language=status.get("language"),
        author=AuthorRecord(network="mastodon", native_id=str(account.get("url") or account["id"]),
                            handle=account.get("acct", ""), name=account.get("display_name", ""),
                            followers=account.get("followers_count"), following=account.get("following_count"),
                            post_count=account.get("statuses_count"), profile_url=account.get("url"),
                            created_at=parse_time(account["created_at"]) if account.get("created_at") else None),
        likes=status.get("favourites_count", 0), replies=status.get("replies_count", 0),
        reposts=status.get("reblogs_count", 0),
        in_reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        reposted_id=str(boosted.get("uri")) if boosted else None, raw=json_safe(dict(status)))


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
        state: dict[str, str] = json.loads(cursor) if cursor else {}
        page = Page(mentions=[], next_cursor=None)
        for instance, client in self.clients.items():
            for stream in self._streams(brand):
                key = f"{instance}|{stream}"
                try:
                    for _ in range(self.settings.max_pages):
                        statuses = self._read(client, stream, brand, state.get(key))
                        if not statuses:
                            break
                        for status in statuses:
                            try:
                                page.mentions.append(status_to_mention(status, instance))
                            except (KeyError, TypeError, ValueError) as exc:
                                page.quarantined.append((f"{instance} status {status.get('id')}",
                                                         f"Mastodon status is malformed: {exc}",
                                                         json.dumps(json_safe(dict(status)), default=str)))
                        state[key] = str(max(int(s["id"]) for s in statuses))
                        if len(statuses) < self.settings.page_limit or stream == "search":
                            break
                except mastodon.MastodonRatelimitError as exc:
                    reset = getattr(client, "ratelimit_reset", None)
                    until = datetime.fromtimestamp(reset, timezone.utc) if reset else None
                    when = f"{until:%H:%M:%S} UTC" if until else "later"
                    if len(self.clients) == 1:
                        raise RateLimitedError(f"Mastodon {instance} rate limit reached; waiting until "
                                               f"{when}", source=self.name, until=until) from exc
                    page.partial_errors.append(f"{instance}: rate limited until {when}")
                except mastodon.MastodonError as exc:
                    page.partial_errors.append(
                        f"{instance} {stream}: {type(exc).__name__}: {exc}; check the instance URL"
                        + (" and BRANDPULSE_MASTODON_TOKEN" if "Unauthorized" in type(exc).__name__ else ""))
        streams = len(self.clients) * len(self._streams(brand))
        if streams and len(page.partial_errors) == streams:
            raise SourceUnavailableError("every Mastodon instance failed: " + " | ".join(page.partial_errors),
                                         source=self.name)
        page.next_cursor = json.dumps(state, sort_keys=True)
        return page
