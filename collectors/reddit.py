"""Reddit with praw (read-only OAuth): search sorted by new, and polled comment streams.

Listings repeat items heavily, so the cursor keeps the fullnames seen recently and the
newest search time; each pass returns only what is new.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import praw
import prawcore

from brandpulse.core.errors import CollectorError, RateLimitedError, RecordError, SourceUnavailableError
from brandpulse.core.query import parse_query, to_native
from brandpulse.core.records import DELETED_MARKERS, AuthorRecord, MentionRecord, Page
from brandpulse.core.settings import BrandSettings, RedditSourceSettings
from collectors.base import bounded, count, cursor_state, payload_text, problem, text_or_none

SEEN_KEPT = 5000
OVERLAP_SECONDS = 600  # re-read a little of the past: search indexes late


def _link(data: dict, fullname: str, is_comment: bool) -> str:
    """The permalink when Reddit sent one, else one built from the ids."""
    permalink = data.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return "https://www.reddit.com" + permalink.split("?")[0]
    sub = str(data.get("subreddit") or "").strip()
    prefix = f"https://www.reddit.com/r/{sub}" if sub else "https://www.reddit.com"
    if is_comment:
        link = str(data.get("link_id") or "").removeprefix("t3_")
        if link:
            return f"{prefix}/comments/{link}/_/{fullname.removeprefix('t1_')}/"
        return f"https://www.reddit.com/comments/{fullname.removeprefix('t1_')}/"  # Reddit redirects
    return f"{prefix}/comments/{fullname.removeprefix('t3_')}/"


def _state(cursor: str | None) -> dict:
    """The saved cursor; one that is not ours starts afresh."""
    state = cursor_state(cursor)
    newest, seen = state.get("newest"), state.get("seen")
    newest = float(newest) if isinstance(newest, (int, float)) and newest == newest else 0.0
    return {"newest": min(max(newest, 0.0), 1e11),
            "seen": [s for s in seen if isinstance(s, str)] if isinstance(seen, list) else []}


def _vars(thing) -> dict:
    try:
        return {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    except TypeError:
        return {"item": repr(thing)[:1000]}


def _label(thing) -> str:
    try:
        return str(thing.fullname)[:100]
    except Exception:  # noqa: BLE001 - an item without an id is still quarantined
        return f"item {str(_vars(thing).get('id', '?'))[:60]}"


def reddit_item_gone(data: dict) -> bool:
    """Whether a comment or post was deleted by its author or removed (its body or selftext is
    ``[deleted]``/``[removed]``, or Reddit says who removed it)."""
    body = data.get("body", data.get("selftext"))
    return (isinstance(body, str) and body.strip() in DELETED_MARKERS) or bool(data.get("removed_by_category"))


def thing_to_mention(thing) -> MentionRecord:
    """A submission (t3) or comment (t1) as a mention."""
    data = {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    fullname = thing.fullname
    if not isinstance(fullname, str) or fullname[:3] not in ("t1_", "t3_") or len(fullname) <= 3:
        raise RecordError(f"Reddit item {str(fullname)[:40]!r} is neither a comment nor a post")
    is_comment = fullname.startswith("t1_")
    parts = [data.get("body")] if is_comment else [data.get("title"), data.get("selftext")]
    if not all(isinstance(part, str) for part in parts if part is not None):
        raise RecordError("Reddit item's text is not text")
    text = "\n\n".join(part for part in parts if part)
    author_name = str(data.get("author") or "[deleted]")
    author = AuthorRecord(network="reddit", native_id=str(data.get("author_fullname") or author_name),
                          handle=author_name, profile_url=f"https://www.reddit.com/user/{author_name}")
    return MentionRecord(
        network="reddit", native_id=fullname, text=text, source="reddit",
        created_at=datetime.fromtimestamp(float(data["created_utc"]), timezone.utc),
        url=_link(data, fullname, is_comment),
        author=author if author_name != "[deleted]" else None, likes=count(data.get("score")),
        replies=count(data.get("num_comments")),
        in_reply_to_id=text_or_none(data.get("parent_id")) if is_comment else None,
        conversation_id=text_or_none(data.get("link_id")) if is_comment else fullname,
        raw=bounded(data))


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
            seconds = min(max(seconds, 1.0), 24 * 3600.0)
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
        except Exception as exc:  # noqa: BLE001 - praw could not read the reply (a listing of odd shape)
            raise SourceUnavailableError(f"Reddit sent a reply to {label} that praw could not read "
                                         f"({problem(exc)}); it will be retried at the next run",
                                         source=self.name) from exc

    def _parts(self, brand: BrandSettings) -> list[tuple[str, Callable[[], Iterable]]]:
        """The independent reads of one pass: the search (unless search_subreddits is []) and
        each watched subreddit's newest comments."""
        parts = []
        if self.settings.search_subreddits:
            subreddits = "+".join(self.settings.search_subreddits)
            query = to_native(parse_query(brand.query), "reddit")
            parts.append((f"search in r/{subreddits}", lambda: self.reddit.subreddit(subreddits).search(
                query, sort="new", syntax="lucene", time_filter="week", limit=self.settings.search_limit)))
        for sub in self.settings.watch_subreddits:
            parts.append((f"r/{sub} comments", lambda sub=sub: self.reddit.subreddit(sub).comments(limit=100)))
        return parts

    def _read(self, brand: BrandSettings, page: Page) -> list:
        """Every part read on its own: one failing is a partial error and the others are kept;
        when every part fails (or the first hits a rate limit) the pass fails with that error."""
        found, failures = [], []
        for label, listing in self._parts(brand):
            try:
                found += self._listing(listing(), label)
            except RateLimitedError as exc:
                if not found and not failures:
                    raise
                page.partial_errors.append(f"{exc}; the rest of this pass was left for the next one")
                return found
            except CollectorError as exc:
                failures.append(exc)
                page.partial_errors.append(str(exc))
        if failures and not found and len(failures) == len(self._parts(brand)):
            raise failures[0]
        return found

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        state = _state(cursor)
        seen = state["seen"]
        known = set(seen)
        since = newest = state["newest"]
        page = Page(mentions=[], next_cursor=None)
        for thing in self._read(brand, page):
            try:
                fullname = str(thing.fullname)
                created = float(getattr(thing, "created_utc", 0) or 0)
                if fullname in known or (fullname.startswith("t3_") and created < since - OVERLAP_SECONDS):
                    continue
                known.add(fullname)
                seen.append(fullname)
                if reddit_item_gone(_vars(thing)):  # erased here too if it was stored; never stored anew
                    page.deleted.append(("reddit", fullname))
                    continue
                page.mentions.append(thing_to_mention(thing))
                if fullname.startswith("t3_") and created <= datetime.now(timezone.utc).timestamp() + 86400:
                    newest = max(newest, created)
            except Exception as exc:  # noqa: BLE001 - one odd item is quarantined, the page goes on
                reason = exc.reason if isinstance(exc, RecordError) else problem(exc)
                page.quarantined.append((_label(thing), f"Reddit item is malformed: {reason}",
                                         payload_text(_vars(thing))))
        page.next_cursor = json.dumps({"newest": newest, "seen": seen[-SEEN_KEPT:]})
        self._add_karma(page.mentions)
        return page

    def recheck(self, posts: list[tuple[str, dict | None]]) -> Page:
        """Ask /api/info for stored posts and comments again (100 a call) and report those gone."""
        page = Page(mentions=[], next_cursor=None)
        fullnames = [native_id for native_id, _ in posts if native_id[:3] in ("t1_", "t3_")]
        if fullnames:
            for thing in self._listing(self.reddit.info(fullnames=fullnames), "the re-check of stored items"):
                fullname = getattr(thing, "fullname", None)
                if isinstance(fullname, str) and reddit_item_gone(_vars(thing)):
                    page.deleted.append(("reddit", fullname))
        page.items_read = len(fullnames)
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
            karma = count(int(user.link_karma or 0) + int(user.comment_karma or 0))
            return karma, datetime.fromtimestamp(float(user.created_utc), timezone.utc)
        except Exception:  # noqa: BLE001 - any failure leaves reach unknown, never the page
            return None  # suspended, deleted or rate-limited: reach stays unknown, the page goes on
