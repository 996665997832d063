"""Reddit with praw (read-only OAuth): search sorted by new, and polled comment streams.

Listings repeat items heavily, so the cursor keeps the fullnames seen recently and the
newest search time; each pass returns only what is new.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Iterable

import praw
import prawcore

from brandpulse.errors import CollectorError, RateLimitedError, SourceUnavailableError
from brandpulse.query import parse_query, to_native
from brandpulse.records import AuthorRecord, MentionRecord, Page, json_safe
from brandpulse.settings import BrandSettings, RedditSourceSettings

SEEN_KEPT = 5000
OVERLAP_SECONDS = 600  # re-read a little of the past: search indexes late


def thing_to_mention(thing) -> MentionRecord:
    """A submission (t3) or comment (t1) as a mention."""
    data = {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    fullname = thing.fullname
    is_comment = fullname.startswith("t1_")
    text = data.get("body", "") if is_comment else "\n\n".join(
        part for part in (data.get("title", ""), data.get("selftext", "")) if part)
    author_name = str(data.get("author") or "[deleted]")
    author = AuthorRecord(network="reddit", native_id=data.get("author_fullname") or author_name,
                          handle=author_name, profile_url=f"https://www.reddit.com/user/{author_name}")
    return MentionRecord(
        network="reddit", native_id=fullname, text=text, source="reddit",
        created_at=datetime.fromtimestamp(float(data["created_utc"]), timezone.utc),
        url="https://www.reddit.com" + str(data.get("permalink", "")).split("?")[0],
        author=author if author_name != "[deleted]" else None, likes=max(int(data.get("score") or 0), 0),
        replies=int(data.get("num_comments") or 0),
        in_reply_to_id=data.get("parent_id") if is_comment else None,
        conversation_id=data.get("link_id") if is_comment else fullname,
        raw=json_safe(data))


class RedditCollector:
    """One page per pass: new search results for the brand plus new comments in watched subs."""

    name = "reddit"
    network = "reddit"

    def __init__(self, settings: RedditSourceSettings, client_id: str, client_secret: str,
                 user_agent: str) -> None:
        self.settings = settings
        self.reddit = praw.Reddit(client_id=client_id, client_secret=client_secret, user_agent=user_agent,
                                  oauth_url=settings.oauth_url, reddit_url=settings.reddit_url,
                                  timeout=settings.timeout_seconds, check_for_async=False,
                                  check_for_updates=False)
        self.reddit.read_only = True
        self._karma: dict[str, tuple[int, datetime] | None] = {}

    def _listing(self, items: Iterable, label: str) -> list:
        try:
            return list(items)
        except prawcore.TooManyRequests as exc:
            retry = exc.response.headers.get("retry-after") or exc.response.headers.get("x-ratelimit-reset")
            seconds = float(retry) if retry and retry.replace(".", "", 1).isdigit() else 60.0
            raise RateLimitedError(f"Reddit answered 429 for {label}; waiting {seconds:.0f}s",
                                   source=self.name,
                                   until=datetime.now(timezone.utc) + timedelta(seconds=seconds)) from exc
        except (prawcore.OAuthException, prawcore.InvalidToken) as exc:
            raise SourceUnavailableError(
                f"Reddit refused the app credentials ({exc}); check BRANDPULSE_REDDIT_CLIENT_ID and "
                "BRANDPULSE_REDDIT_CLIENT_SECRET", source=self.name) from exc
        except (prawcore.Forbidden, prawcore.NotFound, prawcore.Redirect) as exc:
            raise CollectorError(f"Reddit refused {label} ({type(exc).__name__}); the subreddit may be "
                                 "private, banned or misspelt: fix sources.reddit in config.yaml",
                                 source=self.name) from exc
        except (prawcore.ServerError, prawcore.RequestException, prawcore.ResponseException) as exc:
            raise SourceUnavailableError(f"Reddit failed on {label} ({type(exc).__name__}: {exc}); it "
                                         "will be retried at the next run", source=self.name) from exc

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = json.loads(cursor) if cursor else {"newest": 0.0, "seen": []}
        seen = list(state.get("seen", []))
        known = set(seen)
        since = newest = float(state.get("newest") or 0.0)
        page = Page(mentions=[], next_cursor=None)
        subreddits = "+".join(self.settings.search_subreddits) or "all"
        query = to_native(parse_query(brand.query), "reddit")
        found = self._listing(self.reddit.subreddit(subreddits).search(
            query, sort="new", syntax="lucene", time_filter="week", limit=self.settings.search_limit),
            f"search in r/{subreddits}")
        for sub in self.settings.watch_subreddits:
            found += self._listing(self.reddit.subreddit(sub).comments(limit=100), f"r/{sub} comments")
        for thing in found:
            created = float(getattr(thing, "created_utc", 0) or 0)
            if thing.fullname in known or (thing.fullname.startswith("t3_")
                                           and created < since - OVERLAP_SECONDS):
                continue
            known.add(thing.fullname)
            seen.append(thing.fullname)
            try:
                page.mentions.append(thing_to_mention(thing))
            except (KeyError, TypeError, ValueError) as exc:
                page.quarantined.append((thing.fullname, f"Reddit item is malformed: {exc}",
                                         json.dumps(json_safe(vars(thing)), default=str)[:100_000]))
            if thing.fullname.startswith("t3_"):
                newest = max(newest, created)
        page.next_cursor = json.dumps({"newest": newest, "seen": seen[-SEEN_KEPT:]})
        self._add_karma(page.mentions)
        return page

    def _add_karma(self, mentions: list[MentionRecord]) -> None:
        """Authors' karma (link + comment: Reddit's measure of reach) and account age, from
        /user/NAME/about, at most ``karma_lookups_per_pass`` new authors a pass, cached."""
        if not self.settings.author_karma:
            return
        budget = self.settings.karma_lookups_per_pass
        for mention in mentions:
            author = mention.author
            if author is None:
                continue
            if author.handle not in self._karma and budget > 0:
                budget -= 1
                self._karma[author.handle] = self._lookup(author.handle)
            known = self._karma.get(author.handle)
            if known:
                mention.author = replace(author, followers=known[0], created_at=known[1])

    def _lookup(self, name: str) -> tuple[int, datetime] | None:
        try:
            user = self.reddit.redditor(name)
            karma = int(user.link_karma or 0) + int(user.comment_karma or 0)
            return karma, datetime.fromtimestamp(float(user.created_utc), timezone.utc)
        except (prawcore.PrawcoreException, AttributeError, TypeError, ValueError):
            return None  # suspended, deleted or rate-limited: reach stays unknown, the page goes on
