"""Bluesky: the Jetstream firehose from a local websocket server, resuming from time_us."""

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from websockets.sync.server import serve

from brandpulse.services.collecting import collect_all
from store.engine import session_scope
from store.models import Mention, Quarantine

DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"


def post(time_us: int, text: str, rkey: str, **record) -> str:
    return json.dumps({"did": DID, "time_us": time_us, "kind": "commit", "commit": {
        "rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
        "record": {"$type": "app.bsky.feed.post", "createdAt": "2026-11-20T10:00:00.000Z", "langs": ["en"],
                   "text": text, **record}, "cid": "bafyreib"}})


EVENTS = [
    post(1001, "Nimbus Mobile has no signal in Leeds again", "a1"),
    post(1002, "lovely weather today", "a2"),
    json.dumps({"did": DID, "time_us": 1003, "kind": "identity", "identity": {"did": DID, "handle": "x.bsky"}}),
    "{not json",
    post(1005, "switching away from nimbus mobile", "a5",
         reply={"parent": {"uri": f"at://{DID}/app.bsky.feed.post/a1"}, "root": {"uri": f"at://{DID}/app.bsky.feed.post/a1"}}),
    json.dumps({"did": DID, "time_us": 1006, "kind": "commit", "commit": {
        "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "a1"}}),
]


class Jetstream:
    """Replays EVENTS after the cursor; the first connection can drop after N events."""

    def __init__(self, drop_after=None):
        self.drop_after, self.cursors, self.connections = drop_after, [], 0
        self.server = serve(self.handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, socket):
        query = parse_qs(urlsplit(socket.request.path).query)
        cursor = int(query.get("cursor", ["0"])[0])
        self.cursors.append(cursor)
        self.connections += 1
        sent = 0
        for raw in EVENTS:
            time_us = json.loads(raw)["time_us"] if raw.startswith("{\"") else 1004
            if time_us > cursor:
                socket.send(raw)
                sent += 1
                if self.drop_after and self.connections == 1 and sent == self.drop_after:
                    return  # the server goes away mid-stream
        socket.recv()  # then stay quiet until the client leaves


@pytest.fixture
def bluesky(write_config, monkeypatch):
    monkeypatch.delenv("BRANDPULSE_BLUESKY_HANDLE", raising=False)

    def make(stream):
        return write_config(sources={"bluesky": {"enabled": True, "jetstream_url": stream.url,
                                                 "listen_seconds": 1.0}})
    return make


def count(url, model=Mention):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_firehose_keeps_matching_posts_and_resumes_from_time_us(bluesky, database_url):
    stream = Jetstream()
    settings = bluesky(stream)
    result = next(r for r in collect_all(settings) if r.brand == "Nimbus Mobile")
    assert result.stored == 2 and result.quarantined == 1
    assert count(database_url, Quarantine) == 1
    with session_scope(database_url) as session:
        reply = session.execute(select(Mention).where(Mention.native_id.endswith("/a5"))).scalar_one()
    assert reply.in_reply_to_id == f"at://{DID}/app.bsky.feed.post/a1"
    assert reply.url == f"https://bsky.app/profile/{DID}/post/a5"
    collect_all(settings)
    assert stream.cursors[-1] == 1006  # the next pass resumes after the last event seen
    assert count(database_url) == 2


def test_firehose_reconnects_and_resumes_after_a_disconnect(bluesky, database_url):
    stream = Jetstream(drop_after=1)
    result = next(r for r in collect_all(bluesky(stream)) if r.brand == "Nimbus Mobile")
    assert stream.cursors[:2] == [0, 1001]
    assert result.stored == 2 and any("resumed from time_us 1001" in e for e in result.errors)
    assert count(database_url) == 2


def test_post_views_normalize():
    from collectors.bluesky import post_view_to_mention

    view = {"uri": f"at://{DID}/app.bsky.feed.post/3kaheyt6vpc22", "likeCount": 3,
            "author": {"did": DID, "handle": "test.marshal.dev", "displayName": "Python SDK",
                       "createdAt": "2023-04-26T19:05:34.249Z"},
            "record": {"createdAt": "2023-09-28T12:49:36.735Z", "langs": ["en"], "text": "hello"}}
    mention = post_view_to_mention(view)
    assert mention.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert mention.author.name == "Python SDK" and mention.likes == 3 and mention.language == "en"


def _jwt(exp: int) -> str:
    import base64

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'sub': DID, 'exp': exp, 'iat': exp - 7200})}.c2ln"


def test_search_posts_logs_in_once_and_pages_by_time(write_config, database_url, monkeypatch):
    import time as clock

    from fakeserver import FakeServer, Reply

    view = {"uri": f"at://{DID}/app.bsky.feed.post/s1", "cid": "bafyrei", "indexedAt": "2026-11-20T10:00:01.000Z",
            "author": {"did": DID, "handle": "ann.bsky.social"}, "likeCount": 2, "replyCount": 0,
            "repostCount": 1, "record": {"$type": "app.bsky.feed.post", "createdAt": "2026-11-20T10:00:00.000Z",
                                         "text": "Nimbus Mobile support was great today", "langs": ["en"]}}
    session = {"accessJwt": _jwt(int(clock.time()) + 3600), "refreshJwt": _jwt(int(clock.time()) + 86400),
               "handle": "ann.bsky.social", "did": DID}
    monkeypatch.setenv("BRANDPULSE_BLUESKY_HANDLE", "ann.bsky.social")
    monkeypatch.setenv("BRANDPULSE_BLUESKY_APP_PASSWORD", "app-pass")
    with FakeServer() as xrpc:
        xrpc.route("POST", "/xrpc/com.atproto.server.createSession", Reply(200, json.dumps(session)))
        xrpc.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply(200, json.dumps({"posts": [view]})),
                   Reply(200, json.dumps({"posts": []})))
        settings = write_config(brands=[{"name": "Nimbus Mobile", "query": '"nimbus mobile"'}],
                                sources={"bluesky": {"enabled": True, "jetstream": False,
                                                     "base_url": f"{xrpc.url}/xrpc"}})
        from brandpulse.services.collecting import enabled_collectors, collect_once

        collector = enabled_collectors(settings)["bluesky"]
        first = collect_once(settings, collector, settings.brands[0])
        second = collect_once(settings, collector, settings.brands[0])
        assert (first.stored, second.stored) == (1, 0)
        assert len(xrpc.calls("/xrpc/com.atproto.server.createSession")) == 1  # the session is reused
        searches = xrpc.calls("/xrpc/app.bsky.feed.searchPosts")
        assert searches[0]["query"]["q"] == ["\"nimbus mobile\""] and "since" not in searches[0]["query"]
        assert searches[1]["query"]["since"] == ["2026-11-20T10:00:00+00:00"]
