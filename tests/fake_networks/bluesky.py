"""A Bluesky PDS's reply side: sessions, createRecord, getAuthorFeed, getPosts."""

from __future__ import annotations

import base64
import hashlib
import json
import time

from publishers.base import ReplyTarget

from tests.fake_networks.base import Answer, FakeNetwork, iso, _bearer


def _b32(data: bytes, alphabet: str = "abcdefghijklmnopqrstuvwxyz234567") -> str:
    bits = "".join(f"{byte:08b}" for byte in data)
    return "".join(alphabet[int(bits[i:i + 5].ljust(5, "0"), 2)] for i in range(0, len(bits), 5))


def _cid(data: object) -> str:
    """A CIDv1 (dag-cbor, sha-256) of the JSON of ``data``: the shape of a real record CID."""
    return "b" + _b32(b"\x01\x71\x12\x20" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest())


def _jwt(payload: dict) -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2lnbmF0dXJl"


class FakeBluesky(FakeNetwork):
    """A PDS with the AppView calls used: createSession, refreshSession, getProfile, createRecord,
    getAuthorFeed, getPosts (any at:// URI not deleted is a post)."""

    network = "bluesky"
    secrets = {"app_password": "abcd-efgh-ijkl-mnop"}

    def __init__(self, handle: str = "nimbus.bsky.social", *args, **kwargs) -> None:
        super().__init__(handle, *args, **kwargs)
        self.did = self.did_of(self.handle)
        self.posts: dict[str, dict] = {}  # uri -> post view
        self.tokens: set[str] = set()
        self.last_tid = 0

    @staticmethod
    def did_of(handle: str) -> str:
        return "did:plc:" + _b32(hashlib.sha256(handle.encode()).digest())[:24]

    def _rkey(self) -> str:
        self.last_tid = max(self.last_tid + 1, time.time_ns() // 1000)
        tid = self.last_tid << 10  # microseconds, then a 10-bit clock id: a TID, 13 sortable base32 chars
        return "".join("234567abcdefghijklmnopqrstuvwxyz"[(tid >> 5 * i) & 31] for i in reversed(range(13)))

    def _view(self, handle: str, record: dict, rkey: str | None = None) -> dict:
        did = self.did_of(handle)
        uri = f"at://{did}/app.bsky.feed.post/{rkey or self._rkey()}"
        view = {"uri": uri, "cid": _cid(record), "author": {"did": did, "handle": handle, "displayName": handle},
                "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": iso(), "labels": []}
        self.posts[uri] = view
        return view

    def target(self, text: str, author: str = "alice.bsky.social", shape: str = "view",
               reply_to: ReplyTarget | None = None) -> ReplyTarget:
        """A customer's post, stored as a post view (``shape="view"``), a Jetstream event
        (``"jetstream"``) or with no payload (``"bare"``: the publisher must ask getPosts for its CID)."""
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso(), "langs": ["en"]}
        if reply_to is not None:
            parent = self.posts[reply_to.native_id]
            root = (parent["record"].get("reply") or {}).get("root") or {"uri": parent["uri"], "cid": parent["cid"]}
            record["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
        view = self._view(author, record)
        rkey = view["uri"].rsplit("/", 1)[-1]
        raw = {"view": view, "bare": None, "jetstream": {
            "did": view["author"]["did"], "time_us": time.time_ns() // 1000, "kind": "commit",
            "commit": {"rev": rkey, "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
                       "record": record, "cid": view["cid"]}}}[shape]
        return ReplyTarget("bluesky", view["uri"], f"https://bsky.app/profile/{author}/post/{rkey}", author, text,
                           raw=raw)

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        names = {401: ("AuthenticationRequired", "Invalid identifier or password"),
                 403: ("Forbidden", "Account is not allowed to post"),
                 429: ("RateLimitExceeded", "Rate Limit Exceeded"),
                 503: ("InternalServerError", "Service Unavailable")}
        name, message = names.get(status, ("InvalidRequest", "Bad request"))
        headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(int(reset_at)),
                   "ratelimit-policy": "5000;w=3600"} if status == 429 else {}
        return Answer(status, {"error": name, "message": reason or message}, headers)

    def _session(self) -> Answer:
        now = int(time.time())
        access = _jwt({"scope": "com.atproto.appPass", "sub": self.did, "iat": now, "exp": now + 7200,
                       "aud": f"did:web:{self.host}", "jti": str(next(self.ids))})
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.did, "iat": now, "exp": now + 86400 * 60,
                        "jti": str(next(self.ids))})
        self.tokens |= {access, refresh}
        return Answer(200, {"did": self.did, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh,
                            "active": True})

    def handle_call(self, call: dict) -> Answer:
        nsid, query, data = call["path"].rstrip("/").removeprefix("/xrpc/"), call["query"], call["data"]
        if nsid == "com.atproto.server.createSession":
            if data.get("identifier") not in (self.handle, self.did) or data.get("password") != self.secrets[
                    "app_password"]:
                return self.error(401, None)
            return self._session()
        if _bearer(call) not in self.tokens:
            return Answer(401, {"error": "InvalidToken", "message": "Token could not be verified"})
        if nsid == "com.atproto.server.refreshSession":
            return self._session()
        if nsid == "app.bsky.actor.getProfile":
            actor = (query.get("actor") or [""])[0]
            handle = self.handle if actor in (self.handle, self.did) else actor
            return Answer(200, {"did": self.did_of(handle), "handle": handle, "displayName": handle})
        if nsid == "com.atproto.repo.createRecord":
            if data.get("repo") not in (self.did, self.handle):
                return Answer(400, {"error": "InvalidRequest", "message": "Input/repo must be the signed-in account"})
            return self.create(lambda: self._create_record(data))
        if nsid == "app.bsky.feed.getAuthorFeed":
            actor, limit = (query.get("actor") or [""])[0], int((query.get("limit") or ["50"])[0])
            mine = [{"post": v} for v in reversed(self.posts.values())
                    if actor in (v["author"]["did"], v["author"]["handle"])]
            return Answer(200, {"feed": mine[:limit]})
        if nsid == "app.bsky.feed.getPosts":
            return Answer(200, {"posts": [self._known(uri) for uri in query.get("uris") or []
                                          if uri not in self.deleted]})
        return Answer(501, {"error": "MethodNotImplemented", "message": f"Method Not Implemented: {nsid}"})

    def _known(self, uri: str) -> dict:
        if uri not in self.posts:  # someone's post this fake never saw: it exists all the same
            did = uri.removeprefix("at://").split("/", 1)[0]
            record = {"$type": "app.bsky.feed.post", "text": "(a post)", "createdAt": iso()}
            self.posts[uri] = {"uri": uri, "cid": _cid(uri), "author": {"did": did, "handle": "someone.example"},
                               "record": record, "indexedAt": iso()}
        return self.posts[uri]

    def _create_record(self, data: dict) -> Answer:
        record = data.get("record") or {}
        view = self._view(self.handle, record)
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        self.record(id=view["uri"], text=record.get("text", ""), in_reply_to=parent, cid=view["cid"],
                    reply=record.get("reply"),
                    url=f"https://bsky.app/profile/{self.handle}/post/{view['uri'].rsplit('/', 1)[-1]}")
        return Answer(200, {"uri": view["uri"], "cid": view["cid"],
                            "commit": {"cid": _cid(view), "rev": view["uri"].rsplit("/", 1)[-1]},
                            "validationStatus": "valid"})
