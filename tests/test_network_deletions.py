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
