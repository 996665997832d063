"""Hypothesis over every collector's page parser: recorded pages with parts replaced by arbitrary
JSON (wrong types, NaN, huge numbers, NUL, nesting) give records, quarantined items or a
CollectorError, never another exception; and such pages are stored on SQLite and PostgreSQL."""

import json
import time
from collections import Counter
from datetime import datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from brandpulse.services.collecting import collect_once, enabled_collectors
from brandpulse.core.errors import CollectorError
from brandpulse.core.records import MentionRecord, Page
from collectors.x import parse_search_page
from fakeserver import FakeServer, Reply, body_of, recorded

EXAMPLES = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**31, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.sampled_from(["", "\x00", "[/deleted]", "2026-11-20T10:00:00Z", "99999999999999999999"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def paths(value, prefix=()):
    """Every path into a JSON value (keys and indexes), the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


@st.composite
def mutated(draw, body):
    """``body`` with a few of its parts replaced by arbitrary JSON or removed."""
    body = json.loads(json.dumps(body))
    for _ in range(draw(st.integers(1, 4))):
        options = list(paths(body))
        path = draw(st.sampled_from(options))
        if not path:
            body = draw(JSON)
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return body


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_page(page):
    assert isinstance(page, Page)
    for mention in page.mentions:
        assert isinstance(mention, MentionRecord) and isinstance(mention.text, str)
        assert isinstance(mention.created_at, datetime) and isinstance(mention.native_id, str)
        for count in (mention.likes, mention.replies, mention.reposts, mention.quotes):
            assert isinstance(count, int) and 0 <= count < 2**31
        json.dumps(mention.raw, allow_nan=False)  # raw payloads are plain, finite JSON
    for location, reason, payload in page.quarantined:
        assert isinstance(location, str) and isinstance(reason, str) and isinstance(payload, str)


X_PAGES = [body_of("x/search_recent_basic.json"), body_of("x/search_with_metrics_and_users.json"),
           body_of("x/search_partial_errors.json")]


@EXAMPLES
@given(st.sampled_from(X_PAGES).flatmap(mutated), st.sampled_from([None, '{"next_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"}', "not json", "[]"]))
def test_x_pages_of_any_shape_give_records_or_quarantine(body, cursor):
    page = parse_search_page(json.dumps(body), "test", cursor)
    assert_page(page)
    if page.next_cursor != cursor:  # a cursor it moved on is one it can read back
        assert isinstance(json.loads(page.next_cursor), dict)


@EXAMPLES
@given(st.sampled_from(["", "{", deep(5000), '{"data": ' + deep(5000) + "}", "\x00", "NaN", "[]"]))
def test_x_bodies_that_are_not_json_pages_are_quarantined_whole(text):
    page = parse_search_page(text, "test", None)
    assert len(page.quarantined) == 1 and page.next_cursor is None and page.done  # kept: asked again


def test_reddit_mastodon_and_rss_replies_of_any_shape_through_their_clients(write_config, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_REDDIT_CLIENT_ID", "id")
    monkeypatch.setenv("BRANDPULSE_REDDIT_CLIENT_SECRET", "secret")
    monkeypatch.setenv("BRANDPULSE_REDDIT_USER_AGENT", "brandpulse-tests")
    monkeypatch.delenv("BRANDPULSE_MASTODON_TOKEN", raising=False)
    monkeypatch.setenv("BRANDPULSE_BLUESKY_HANDLE", "ann.bsky.social")
    monkeypatch.setenv("BRANDPULSE_BLUESKY_APP_PASSWORD", "app-pass")
    search = body_of("reddit/subreddit_search.json")
    comments = json.loads(recorded("reddit/comment_stream_pages.json").body.replace("<TEST_SUBREDDIT>", "bb"))
    timeline = body_of("mastodon/hashtag_timeline.json", 2)
    with FakeServer() as server:
        server.route("POST", "/api/v1/access_token", Reply(200, json.dumps(
            {"access_token": "t", "token_type": "bearer", "expires_in": 3600, "scope": "*"})))
        server.route("POST", "/xrpc/com.atproto.server.createSession", Reply(200, json.dumps(
            {"accessJwt": _jwt(int(time.time()) + 3600), "refreshJwt": _jwt(int(time.time()) + 86400),
             "handle": "ann.bsky.social", "did": "did:plc:a"})))
        config = write_config(brands=[{"name": "PRAW", "query": "praw OR the OR hoot"}], sources={
            "reddit": {"enabled": True, "oauth_url": server.url, "reddit_url": server.url,
                       "watch_subreddits": ["bb"], "author_karma": False},
            "mastodon": {"enabled": True, "instances": [server.url], "max_pages": 1},
            "rss": {"enabled": True, "feeds": [server.url + "/feed"]},
            "bluesky": {"enabled": True, "jetstream": False, "base_url": server.url + "/xrpc"}})
        collectors = enabled_collectors(config)
        brand = config.brands[0]

        @EXAMPLES
        @given(mutated(search), mutated(comments), mutated(timeline), st.text(max_size=200),
               mutated({"posts": [POST_VIEW, POST_VIEW]}))
        @example(search, comments, timeline, "", {"posts": [POST_VIEW, POST_VIEW]})  # every parser is reached
        def check(search_body, comment_body, statuses, feed_noise, posts):
            server.route("GET", "/r/all/search/", Reply(200, json.dumps(search_body)))
            server.route("GET", "/r/bb/comments/", Reply(200, json.dumps(comment_body)))
            server.route("GET", "/api/v1/timelines/tag/praw", Reply(200, json.dumps(statuses)))
            server.route("GET", "/feed", Reply(200, FEED.replace("NOISE", feed_noise),
                                                {"content-type": "application/rss+xml"}))
            server.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply(200, json.dumps(posts)))
            for name in ("reddit", "mastodon", "rss", "bluesky"):
                try:
                    page = collectors[name].fetch(brand, None)
                except CollectorError:
                    continue
                assert_page(page)
                parsed[name] += len(page.mentions) + len(page.quarantined)

        parsed = Counter()
        check()
        assert all(parsed[name] > 0 for name in ("reddit", "mastodon", "rss", "bluesky")), parsed


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>NOISE</title>
<item><guid>NOISE</guid><title>praw NOISE</title><pubDate>NOISE</pubDate><link>NOISE</link></item>
<item><guid>g2</guid><title>the praw</title><description>NOISE</description></item></channel></rss>"""
POST_VIEW = {"uri": "at://did:plc:a/app.bsky.feed.post/s1", "cid": "bafyrei", "likeCount": 2,
             "indexedAt": "2026-11-20T10:00:01.000Z",
             "author": {"did": "did:plc:a", "handle": "ann.bsky.social", "createdAt": "2023-04-26T19:05:34Z"},
             "record": {"$type": "app.bsky.feed.post", "createdAt": "2026-11-20T10:00:00.000Z", "text": "hello",
                        "langs": ["en"],
                        "reply": {"parent": {"uri": "at://p"}, "root": {"uri": "at://r"}}}}


def _jwt(exp: int) -> str:
    import base64

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'ES256K'})}.{part({'sub': 'did:plc:a', 'exp': exp, 'iat': exp - 60})}.c2ln"


class Replay:
    """Stands in for X's network: the next mutated body, parsed by the real page parser."""
    name = network = "x"

    def __init__(self, body: str):
        self.body = body

    def fetch(self, brand, cursor):
        return parse_search_page(self.body, "replay", cursor)


def test_pages_of_any_shape_are_stored_or_quarantined_on_every_backend(write_config, database_url):
    from sqlalchemy import func, select

    from store.engine import session_scope
    from store.models import Mention, Quarantine

    config = write_config(brands=[{"name": "Tweepy", "query": "tweepy OR chicken OR kfc OR happy"}])

    @EXAMPLES
    @given(st.sampled_from(X_PAGES).flatmap(mutated))
    def check(body):
        body = body if isinstance(body, dict) else {"data": body}
        if isinstance(body.get("meta"), dict):
            body["meta"].pop("next_token", None)  # one page a pass
        with session_scope(database_url) as session:
            before = session.execute(select(func.count()).select_from(Mention)).scalar()
        result = collect_once(config, Replay(json.dumps(body)), config.brands[0])
        assert result.outcome == "ok", result.errors
        with session_scope(database_url) as session:
            after = session.execute(select(func.count()).select_from(Mention)).scalar()
            kept = session.execute(select(func.count()).select_from(Quarantine)).scalar()
        assert after - before == result.stored and (result.quarantined == 0 or kept >= 1)

    check()
