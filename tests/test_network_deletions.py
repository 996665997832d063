"""Posts deleted at their source lose their stored text: Jetstream delete events from a local
websocket server, X lookups answering Not Found / Authorization Error, Reddit items come back
[deleted] or [removed] (collected or re-imported), Mastodon statuses answering 404."""

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from websockets.sync.server import serve

from brandpulse.services.collecting import collect_all
from brandpulse.services.importer import import_file
from store import search
from store.engine import session_scope
from store.models import Mention
from store.models_rights import Erasure

DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"
POST = "app.bsky.feed.post"


def created(time_us: int, text: str, rkey: str) -> str:
    return json.dumps({"did": DID, "time_us": time_us, "kind": "commit", "commit": {
        "rev": "3l3qo2vutsw2b", "operation": "create", "collection": POST, "rkey": rkey, "cid": "bafyreib",
        "record": {"$type": POST, "createdAt": "2026-11-20T10:00:00.000Z", "langs": ["en"], "text": text}}})


def deleted(time_us: int, rkey: str, did: str = DID) -> str:
    return json.dumps({"did": did, "time_us": time_us, "kind": "commit", "commit": {
        "rev": "3l3qo2vutsw2c", "operation": "delete", "collection": POST, "rkey": rkey}})


class Jetstream:
    """A local Jetstream: replays ``events`` after the client's cursor, then stays quiet."""

    def __init__(self, events: list[str]):
        self.events, self.queries = events, []
        self.server = serve(self.handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, socket):
        query = parse_qs(urlsplit(socket.request.path).query)
        self.queries.append(query)
        cursor = int(query.get("cursor", ["0"])[0])
        for raw in self.events:
            if json.loads(raw)["time_us"] > cursor:
                socket.send(raw)
        try:
            socket.recv()
        except Exception:  # noqa: BLE001 - the client left
            pass

    def close(self):
        self.server.shutdown()


def mention(url, native_id):
    with session_scope(url) as session:
        return session.execute(select(Mention).where(Mention.native_id == native_id)).scalar_one_or_none()


def audit(url):
    with session_scope(url) as session:
        return [(e.kind, e.actor, e.counts) for e in session.execute(select(Erasure).order_by(Erasure.id)).scalars()]


def test_a_jetstream_delete_event_erases_the_stored_post(write_config, database_url, monkeypatch):
    monkeypatch.delenv("BRANDPULSE_BLUESKY_HANDLE", raising=False)
    stream = Jetstream([created(1001, "Nimbus Mobile refund still missing", "a1"),
                        created(1002, "Nimbus Mobile works fine for me", "a2")])
    settings = write_config(brands=[{"name": "Nimbus Mobile", "query": '"nimbus mobile"'}],
                            sources={"bluesky": {"enabled": True, "jetstream_url": stream.url,
                                                 "listen_seconds": 0.5}})
    (first,) = collect_all(settings)
    assert first.stored == 2 and first.erased == 0
    with session_scope(database_url) as session:
        search.refresh_search_index(session)
    stream.events += [deleted(1003, "a1"), deleted(1004, "never-stored"), deleted(1005, "x9", "did:plc:other")]
    (second,) = collect_all(settings)
    assert stream.queries[-1]["cursor"] == ["1002"]  # asks for what came after, deletes included
    assert second.erased == 1
    gone, kept = mention(database_url, f"at://{DID}/{POST}/a1"), mention(database_url, f"at://{DID}/{POST}/a2")
    assert (gone.text, gone.raw, gone.url, gone.erased_reason) == ("", None, None, "deleted")
    assert kept.text == "Nimbus Mobile works fine for me" and kept.erased_at is None
    with session_scope(database_url) as session:
        ids, _ = search.which_mentions_contain(session, "refund")
        assert ids == [] or gone.id not in ids
        assert session.execute(select(func.count()).select_from(Mention)).scalar() == 2  # nothing new stored
    assert audit(database_url) == [("network_delete", "collector:bluesky", {"reported": 3, "stored": 1,
                                                                            "erased": 1})]
    (third,) = collect_all(settings)  # the same delete again (cursor kept): nothing changes, no new audit row
    assert third.erased == 0 and len(audit(database_url)) == 1
    stream.close()


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_reimported_deleted_or_removed_reddit_posts_erase_the_stored_text(settings, database_url, tmp_path):
    row = {"network": "reddit", "created_at": "2026-11-20T10:00:00Z", "author": {"id": "u1", "handle": "ann"}}
    first = import_file(settings, _jsonl(tmp_path / "a.jsonl", [
        {**row, "id": "t1_c1", "text": "Nimbus Mobile lost my number port"},
        {**row, "id": "t3_p1", "text": "Nimbus Mobile outage?\n\nNo signal since 9am"},
        {**row, "id": "t1_c2", "text": "Nimbus Mobile is fine"}]))
    assert first.inserted == 3
    again = import_file(settings, _jsonl(tmp_path / "b.jsonl", [
        {**row, "id": "t1_c1", "text": "[deleted]"},
        {**row, "id": "t3_p1", "text": "Nimbus Mobile outage?\n\n[removed]"},
        {**row, "id": "t1_new", "text": "[removed]"}]))
    assert again.inserted == 0
    for native_id in ("t1_c1", "t3_p1"):
        erased = mention(database_url, native_id)
        assert (erased.text, erased.erased_reason) == ("", "deleted")
    assert mention(database_url, "t1_new") is None  # a deleted post never stored is not inserted
    assert mention(database_url, "t1_c2").text == "Nimbus Mobile is fine"
    assert audit(database_url) == [("network_delete", "import", {"reported": 3, "stored": 2, "erased": 2})]


# --- re-checks of recent stored posts: X tweet lookup, Reddit /api/info, Mastodon statuses ---------

from datetime import datetime, timedelta, timezone  # noqa: E402

from brandpulse.core.records import MentionRecord  # noqa: E402
from brandpulse.services.recheck import RECHECK, recheck_deletions  # noqa: E402
from fakeserver import FakeServer, Reply, body_of  # noqa: E402
from store.collectors import what_did_source_spend_today  # noqa: E402
from store.mentions import save_mentions  # noqa: E402

NOW = datetime.now(timezone.utc)


def _store(url, network, posts):
    """posts: (native_id, days old, raw)."""
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(network=network, native_id=native_id, text=f"Nimbus Mobile post {native_id}",
                                              created_at=NOW - timedelta(days=age), raw=raw, brands=["Nimbus Mobile"])
                                for native_id, age, raw in posts])


def _texts(url, network):
    with session_scope(url) as session:
        return dict(session.execute(select(Mention.native_id, Mention.erased_reason)
                                    .where(Mention.network == network)).all())


def _tweet_error(tweet_id, kind, title):
    return {"value": tweet_id, "detail": f"{title} for tweet with ids: [{tweet_id}].", "title": title,
            "resource_type": "tweet", "parameter": "ids", "resource_id": tweet_id,
            "type": f"https://api.twitter.com/2/problems/{kind}"}


def test_x_lookup_errors_mark_deleted_and_suspended_posts(write_config, database_url, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")
    live, deleted_id, hidden, old = "1860000000000000001", "1860000000000000002", "1860000000000000003", "1700000000000000004"
    _store(database_url, "x", [(live, 1, None), (deleted_id, 2, None), (hidden, 3, None), (old, 30, None)])
    with FakeServer() as server:
        server.route("GET", "/2/tweets", Reply(200, json.dumps({
            "data": [{"id": live, "text": "still here", "edit_history_tweet_ids": [live]}],
            "errors": [_tweet_error(deleted_id, "resource-not-found", "Not Found Error"),
                       _tweet_error(hidden, "not-authorized-for-resource", "Authorization Error")]})))
        settings = write_config(sources={"x": {"enabled": True, "base_url": server.url, "backoff_seconds": 0,
                                               "price_per_post": 0.01}})
        (result,) = recheck_deletions(settings)
        (call,) = server.calls("/2/tweets")
    assert sorted(call["query"]["ids"][0].split(",")) == [live, deleted_id, hidden]  # 30 days old: not asked
    assert (result.checked, result.erased, result.errors) == (3, 2, [])
    assert _texts(database_url, "x") == {live: None, deleted_id: "deleted", hidden: "deleted", old: None}
    with session_scope(database_url) as session:  # billed for the one tweet read, against the daily cap
        assert what_did_source_spend_today(session, "x", NOW.strftime("%Y-%m-%d")) == pytest.approx(0.01)
    assert audit(database_url) == [("network_delete", "collector:x", {"reported": 2, "stored": 2, "erased": 2})]


def test_x_recheck_counts_pages_other_workers_are_reading_against_the_cap(write_config, database_url, monkeypatch):
    from store.spend import reserve_spend

    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")
    ids = [f"18600000000000001{n}" for n in range(3)]
    _store(database_url, "x", [(i, 1 + n, None) for n, i in enumerate(ids)])
    day = NOW.strftime("%Y-%m-%d")
    with session_scope(database_url) as session:  # another worker reserved a page it is reading now
        assert reserve_spend(session, "x", "Nimbus Mobile", 0.01, day, 0.02)[0]
    with FakeServer() as server:
        server.route("GET", "/2/tweets", Reply(200, json.dumps({"data": [{"id": ids[0], "text": "here"}]})))
        settings = write_config(sources={"x": {"enabled": True, "base_url": server.url, "backoff_seconds": 0,
                                               "price_per_post": 0.01, "daily_cap_usd": 0.02}})
        (result,) = recheck_deletions(settings)
        (call,) = server.calls("/2/tweets")
        assert len(call["query"]["ids"][0].split(",")) == 1 and result.checked == 1  # what the cap left
        (again,) = recheck_deletions(settings)
        assert again.skipped and "daily spend cap" in again.errors[0] and len(server.calls("/2/tweets")) == 1
        with session_scope(database_url) as session:
            assert what_did_source_spend_today(session, "x", day) == pytest.approx(0.02)
        # a budget read just before another worker reserved the rest: the reservation, made under the
        # source's lock, refuses, and nothing is fetched
        import brandpulse.services.recheck as recheck
        monkeypatch.setattr(recheck, "_budget", lambda *args: 3)
        (raced,) = recheck_deletions(settings)
        assert raced.skipped and len(server.calls("/2/tweets")) == 1
    with session_scope(database_url) as session:
        assert what_did_source_spend_today(session, "x", day) == pytest.approx(0.02)


def test_x_search_pages_report_referenced_tweets_that_are_gone():
    from collectors.x import parse_search_page
    from fakeserver import recorded

    page = parse_search_page(recorded("x/search_partial_errors.json").body, "search", None)
    assert ("x", "1400952478091427842") in page.deleted  # Not Found Error on a referenced tweet
    assert ("x", "1400963140611981314") in page.deleted  # Authorization Error (protected or suspended)
    assert all(kind == "x" and tweet_id.isdigit() for kind, tweet_id in page.deleted)  # users are not tweets


def _listing(*things):
    return Reply(200, json.dumps({"kind": "Listing", "data": {"after": None, "before": None, "dist": len(things),
                                                              "children": [{"kind": k, "data": d} for k, d in things]}}))


def _comment(short, body, author="ann"):
    return ("t1", {"id": short, "name": f"t1_{short}", "body": body, "author": author, "subreddit": "brandtest",
                   "link_id": "t3_zz", "parent_id": "t3_zz", "created_utc": NOW.timestamp() - 3600, "score": 1,
                   "permalink": f"/r/brandtest/comments/zz/_/{short}/"})


def test_reddit_items_come_back_deleted_or_removed(write_config, database_url, monkeypatch):
    for name, value in [("CLIENT_ID", "id"), ("CLIENT_SECRET", "secret"), ("USER_AGENT", "brandpulse-tests")]:
        monkeypatch.setenv(f"BRANDPULSE_REDDIT_{name}", value)
    _store(database_url, "reddit", [("t1_c1", 1, None), ("t3_p1", 1, None), ("t1_c2", 1, None), ("t1_c3", 1, None)])
    post = ("t3", {"id": "p1", "name": "t3_p1", "title": "Nimbus Mobile outage?", "selftext": "[removed]",
                   "author": "[deleted]", "subreddit": "brandtest", "created_utc": NOW.timestamp() - 3600,
                   "removed_by_category": "moderator", "num_comments": 0})
    with FakeServer() as server:
        server.route("POST", "/api/v1/access_token", Reply(200, json.dumps({
            "access_token": "t0k3n", "token_type": "bearer", "expires_in": 3600, "scope": "*"})))
        server.route("GET", "/api/info/", _listing(_comment("c1", "[deleted]", "[deleted]"), post,
                                                   _comment("c2", "Nimbus Mobile is fine")))
        server.route("GET", "/r/brandtest/comments/", _listing(_comment("c3", "[removed]"),
                                                               _comment("c4", "[deleted]", "[deleted]")))
        settings = write_config(sources={"reddit": {"enabled": True, "oauth_url": server.url, "reddit_url": server.url,
                                                    "search_subreddits": [], "watch_subreddits": ["brandtest"],
                                                    "author_karma": False}})
        (checked,) = recheck_deletions(settings)
        (collected,) = collect_all(settings, brand="Nimbus Mobile")
        (info,) = server.calls("/api/info/")
    assert sorted(info["query"]["id"][0].split(",")) == ["t1_c1", "t1_c2", "t1_c3", "t3_p1"]
    assert (checked.checked, checked.erased) == (4, 2)
    assert collected.erased == 1 and collected.stored == 0  # c3 erased, c4 never stored
    assert _texts(database_url, "reddit") == {"t1_c1": "deleted", "t3_p1": "deleted", "t1_c2": None,
                                              "t1_c3": "deleted"}


def test_mastodon_statuses_the_instance_no_longer_has_are_erased(write_config, database_url, monkeypatch):
    monkeypatch.delenv("BRANDPULSE_MASTODON_TOKEN", raising=False)
    status = body_of("mastodon/hashtag_timeline.json", 2)[0]
    with FakeServer() as server:
        home = f"{server.url}/users/bo/statuses/222"
        _store(database_url, "mastodon", [
            ("https://remote.example/users/ann/statuses/9", 1, {"id": "111", "_read_from": server.url}),
            (home, 1, None),  # read elsewhere, but this instance is its home: asked by the id in its uri
            ("https://remote.example/users/cy/statuses/7", 1, {"id": "333", "_read_from": "https://other.example"}),
            ("https://remote.example/users/di/statuses/8", 1, {"id": "444", "_read_from": server.url})])
        server.route("GET", "/api/v1/statuses/111", Reply(404, json.dumps({"error": "Record not found"})))
        server.route("GET", "/api/v1/statuses/222", Reply(200, json.dumps({**status, "id": "222", "uri": home})))
        settings = write_config(sources={"mastodon": {"enabled": True, "instances": [server.url]}})
        (result,) = recheck_deletions(settings)
        asked = sorted(call["path"] for call in server.requests)
    assert asked == ["/api/v1/statuses/111", "/api/v1/statuses/222", "/api/v1/statuses/444"]
    assert result.erased == 1 and "without saying it is gone" in result.errors[0]  # 444: a 404 of no status
    assert _texts(database_url, "mastodon") == {"https://remote.example/users/ann/statuses/9": "deleted", home: None,
                                                "https://remote.example/users/cy/statuses/7": None,
                                                "https://remote.example/users/di/statuses/8": None}
    with session_scope(database_url) as session:
        from store.collectors import which_sources_report_health

        (health,) = [h for h in which_sources_report_health(session) if h.brand == RECHECK]
    assert health.state == "degraded" and health.items_last_run == 4
