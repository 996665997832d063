"""Stateful local fakes of the reply side of X, Reddit, Mastodon and Bluesky, for the real client libraries.

Each fake is a threaded HTTP server (as tests/fakeserver.py) that signs the brand's account in,
creates posts, lists them where the publishers' ``find_published`` looks, and keeps:

* ``created``  - every post the account really created: dicts with ``id``, ``text``, ``in_reply_to``,
  ``url`` (and ``idempotency_key`` on Mastodon), oldest first;
* ``requests`` - every request: method, path, query, headers, body, and ``data`` (parsed form/JSON);
* ``inject(kind, times=1, reason=None, reset_in=120)`` - the next ``times`` create calls fail:
  ``"429"`` (with the network's reset headers), ``"503"`` and ``"401"``/``"403"`` (nothing created),
  ``"accept_then_stall"`` (created, then the answer waits ``stall_seconds``, past the client's timeout).

Any post may be answered unless ``delete(native_id)`` removed it (on Mastodon: any remote status
address resolves, a local id must be one the instance has); ``target(text, ...)`` adds a customer's
post and returns it as the store would hold it (a ``ReplyTarget``).
``with fake_network("mastodon") as (server, account, env):`` starts one with a matching ReplyAccount
and the environment its secrets are read from. The state lives in the test process; another process
(a worker) only needs ``server.url`` through the account and ``env``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from brandpulse.settings_replies import ReplyAccount
from publishers.base import ReplyTarget

try:
    from tests.fakeserver import write_reply
except ModuleNotFoundError:  # run as a script: python tests/fake_networks.py mastodon
    from fakeserver import write_reply

FAULTS = ("429", "503", "401", "403", "accept_then_stall")


@dataclass
class Answer:
    status: int = 200
    body: object = None  # JSON-encoded unless str
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False


def iso(ts: float | None = None) -> str:
    """An ISO-8601 UTC time with milliseconds, as Mastodon and Bluesky write them."""
    moment = datetime.fromtimestamp(ts if ts is not None else time.time(), timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeNetwork:
    """Common machinery; each network's fake fills ``handle_call`` and ``error``."""

    network = ""
    secrets: dict[str, str] = {}

    def __init__(self, handle: str = "nimbus", stall_seconds: float = 5.0, port: int = 0) -> None:
        self.handle, self.stall_seconds = handle, stall_seconds
        self.created: list[dict] = []
        self.requests: list[dict] = []
        self.deleted: set[str] = set()
        self.faults: list[tuple[str, str | None, float]] = []
        self.lock = threading.RLock()
        self.released = threading.Event()  # set on close: stalled answers end at once
        self.ids = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                kind = self.headers.get("content-type") or ""
                data = json.loads(raw) if raw and "json" in kind else {
                    k: v[0] for k, v in parse_qs(raw).items()}
                call = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw, "data": data}
                with server.lock:
                    server.requests.append(call)
                    answer = server.handle_call(call)
                if answer.stall:
                    server.released.wait(server.stall_seconds)
                body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                write_reply(self, answer.status, {"Content-Type": "application/json; charset=utf-8",
                                                  **answer.headers}, body.encode())

            do_GET = do_POST = _serve  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.host = f"127.0.0.1:{self.httpd.server_port}"

    def inject(self, kind: str, times: int = 1, reason: str | None = None, reset_in: float = 120) -> None:
        """The next ``times`` create calls fail as ``kind`` (one of FAULTS)."""
        if kind not in FAULTS:
            raise ValueError(f"fault {kind!r} is not one of {FAULTS}")
        with self.lock:
            self.faults += [(kind, reason, reset_in)] * times

    def delete(self, native_id: str) -> None:
        with self.lock:
            self.deleted.add(native_id)

    def replies_to(self, native_id: str) -> list[dict]:
        with self.lock:
            return [post for post in self.created if post["in_reply_to"] == native_id]

    def calls(self, path_part: str, method: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if path_part in r["path"] and method in (None, r["method"])]

    def create(self, make) -> Answer:
        """A create call, with the next injected fault applied."""
        kind, reason, reset_in = self.faults.pop(0) if self.faults else (None, None, 0)
        if kind and kind != "accept_then_stall":
            return self.error(int(kind), reason, reset_at=time.time() + reset_in)
        answer = make()
        answer.stall = kind == "accept_then_stall"
        return answer

    def record(self, **post) -> dict:
        self.created.append(post)
        return post

    def account(self, account_id: str | None = None, brand: str = "Nimbus Mobile",
                timeout_seconds: float = 1.0, **extra) -> ReplyAccount:
        return ReplyAccount(id=account_id or f"fake_{self.network}", brand=brand, network=self.network,
                            handle=self.handle, base_url=self.url, timeout_seconds=timeout_seconds, **extra)

    def env(self, account_id: str | None = None, **wrong) -> dict[str, str]:
        """The environment variables the account's secrets are read from (``wrong`` overrides some)."""
        names = self.account(account_id).secret_names()
        return {names[name]: wrong.get(name, value) for name, value in self.secrets.items()}

    def handle_call(self, call: dict) -> Answer:
        raise NotImplementedError

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _bearer(call: dict) -> str:
    return re.sub(r"^(?i:bearer)\s+", "", call["headers"].get("authorization", ""))


class FakeX(FakeNetwork):
    """X API v2: /2/users/me, POST /2/tweets, /2/users/:id/tweets; OAuth 1.0a keys checked."""

    network = "x"
    secrets = {"consumer_key": "fake-consumer-key", "consumer_secret": "fake-consumer-secret",
               "access_token": "1-fake-access-token", "access_token_secret": "fake-access-secret"}
    user_id = "1500000000000000001"

    def _next_id(self) -> str:
        return str(1800000000000000000 + next(self.ids))

    def target(self, text: str, author: str = "alice") -> ReplyTarget:
        tweet_id = self._next_id()
        mentions = [{"username": m} for m in re.findall(r"@(\w+)", text)]
        raw = {"id": tweet_id, "text": text, "author_id": str(abs(hash(author)) % 10**12),
               "entities": {"mentions": mentions}, "edit_history_tweet_ids": [tweet_id]}
        return ReplyTarget("x", tweet_id, f"https://x.com/{author}/status/{tweet_id}", author, text,
                           conversation_id=tweet_id, raw=raw)

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        titles = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable"}
        detail = reason or {403: "Reply to this conversation is not allowed because you have not been mentioned "
                                 "or otherwise engaged by the author of the post you are replying to."
                            }.get(status, titles.get(status, "Error"))
        headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                   "x-rate-limit-reset": str(int(reset_at))} if status == 429 else {}
        return Answer(status, {"title": titles.get(status, "Error"), "detail": detail, "type": "about:blank",
                               "status": status}, headers)

    def handle_call(self, call: dict) -> Answer:
        oauth = dict(re.findall(r'(\w+)="([^"]*)"', call["headers"].get("authorization", "")))
        if unquote(oauth.get("oauth_consumer_key", "")) != self.secrets["consumer_key"] \
                or unquote(oauth.get("oauth_token", "")) != self.secrets["access_token"]:
            return self.error(401, None)
        path = call["path"].rstrip("/")
        if path == "/2/users/me":
            return Answer(200, {"data": {"id": self.user_id, "name": "Nimbus Mobile", "username": self.handle}})
        if call["method"] == "POST" and path == "/2/tweets":
            reply_to = (call["data"].get("reply") or {}).get("in_reply_to_tweet_id")
            if reply_to in self.deleted:
                return self.error(403, "You attempted to reply to a Tweet that is deleted or not visible to you.")
            return self.create(lambda: self._tweet(call["data"].get("text", ""), reply_to))
        if path == f"/2/users/{self.user_id}/tweets":
            limit = int((call["query"].get("max_results") or ["10"])[0])
            fields = ",".join(call["query"].get("tweet.fields") or [])
            tweets = [{"id": p["id"], "text": p["text"], "edit_history_tweet_ids": [p["id"]],
                       **({"referenced_tweets": [{"type": "replied_to", "id": p["in_reply_to"]}]}
                          if "referenced_tweets" in fields and p["in_reply_to"] else {})}
                      for p in reversed(self.created)][:limit]
            meta = {"result_count": len(tweets), **({"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]}
                                                    if tweets else {})}
            return Answer(200, {"data": tweets, "meta": meta} if tweets else {"meta": meta})
        return Answer(404, {"title": "Not Found Error", "detail": f"no route {path}", "type": "about:blank"})

    def _tweet(self, text: str, reply_to: str | None) -> Answer:
        tweet_id = self._next_id()
        self.record(id=tweet_id, text=text, in_reply_to=reply_to,
                    url=f"https://x.com/{self.handle}/status/{tweet_id}")
        return Answer(201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}})


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


class FakeReddit(FakeNetwork):
    """Reddit: /api/v1/access_token (password grant), /api/v1/me, /api/comment, /user/:name/comments."""

    network = "reddit"
    secrets = {"client_id": "fake-client-id", "client_secret": "fake-client-secret",
               "password": "fake-reddit-password", "user_agent": "brandpulse-tests/1.0 by u/nimbus"}
    token = "fake-reddit-access-token"
    subreddit = "NimbusMobile"
    busy_minutes = 0  # set to N: the next comment is refused with RATELIMIT "take a break for N minutes"

    def account(self, account_id: str | None = None, brand: str = "Nimbus Mobile",
                timeout_seconds: float = 1.0, **extra) -> ReplyAccount:
        return super().account(account_id, brand, timeout_seconds, reddit_url=self.url, **extra)

    def target(self, text: str, author: str = "alice", comment: bool = False) -> ReplyTarget:
        short = _base36(10**9 + next(self.ids))
        fullname = f"t1_{short}" if comment else f"t3_{short}"
        link = f"t3_{_base36(10**9)}" if comment else fullname
        raw = {"id": short, "name": fullname, "author": author, "subreddit": self.subreddit,
               "permalink": f"/r/{self.subreddit}/comments/{link[3:]}/_/{short if comment else ''}",
               ("body" if comment else "selftext"): text, "created_utc": time.time(), "link_id": link}
        return ReplyTarget("reddit", fullname, "https://www.reddit.com" + raw["permalink"], author, text, raw=raw)

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        words = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}
        if status == 503:
            return Answer(503, reason or "<html><body><h1>503 Service Unavailable</h1></body></html>",
                          {"Content-Type": "text/html"})
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100",
                   "x-ratelimit-reset": str(max(1, int(reset_at - time.time())))} if status == 429 else {}
        if status == 401:
            headers["www-authenticate"] = 'Bearer realm="reddit", error="invalid_token"'
        return Answer(status, {"message": reason or words.get(status, "Error"), "error": status}, headers)

    def handle_call(self, call: dict) -> Answer:
        path = call["path"].rstrip("/")
        if path == "/api/v1/access_token":
            basic = base64.b64decode(call["headers"].get("authorization", "Basic ")[6:] or b"").decode()
            if basic != f"{self.secrets['client_id']}:{self.secrets['client_secret']}":
                return Answer(401, {"message": "Unauthorized", "error": 401})
            if call["data"].get("username") != self.handle or call["data"].get("password") != self.secrets["password"]:
                return Answer(200, {"error": "invalid_grant"})
            return Answer(200, {"access_token": self.token, "token_type": "bearer", "expires_in": 86400,
                                "scope": "*"})
        if _bearer(call) != self.token:
            return self.error(401, None)
        if path == "/api/v1/me":
            return Answer(200, {"name": self.handle, "id": "fakeuser", "created_utc": 1600000000.0,
                                "link_karma": 1, "comment_karma": 1})
        if call["method"] == "POST" and path == "/api/comment":
            parent = call["data"].get("thing_id", "")
            if parent in self.deleted:
                kind = "DELETED_COMMENT" if parent.startswith("t1_") else "DELETED_LINK"
                return Answer(200, {"json": {"errors": [[kind, "that comment has been deleted", "parent"]]}})
            if self.busy_minutes:  # Reddit's usual "slow down": a 200 whose body holds the error
                minutes, self.busy_minutes = self.busy_minutes, 0
                return Answer(200, {"json": {"errors": [["RATELIMIT", "Looks like you've been doing that a lot. "
                                                          f"Take a break for {minutes} minutes before trying again.",
                                                          "ratelimit"]]}})
            return self.create(lambda: self._comment(call["data"].get("text", ""), parent))
        if path == f"/user/{self.handle}/comments":
            limit = int((call["query"].get("limit") or ["25"])[0])
            children = [{"kind": "t1", "data": p["data"]} for p in reversed(self.created)][:limit]
            return Answer(200, {"kind": "Listing", "data": {"after": None, "before": None, "dist": len(children),
                                                            "children": children}})
        return Answer(404, {"message": "Not Found", "error": 404})

    def _comment(self, text: str, parent: str) -> Answer:
        short = _base36(2 * 10**9 + next(self.ids))
        link = parent if parent.startswith("t3_") else f"t3_{_base36(10**9)}"
        permalink = f"/r/{self.subreddit}/comments/{link[3:]}/_/{short}/"
        data = {"id": short, "name": f"t1_{short}", "body": text, "body_html": html.escape(text),
                "author": self.handle, "parent_id": parent, "link_id": link, "subreddit": self.subreddit,
                "subreddit_name_prefixed": f"r/{self.subreddit}", "permalink": permalink,
                "created_utc": time.time(), "score": 1, "replies": "", "distinguished": None}
        self.record(id=f"t1_{short}", text=text, in_reply_to=parent, url="https://www.reddit.com" + permalink,
                    data=data)
        return Answer(200, {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}})


class FakeMastodon(FakeNetwork):
    """A Mastodon instance: verify_credentials, POST /api/v1/statuses (Idempotency-Key honoured),
    /api/v1/accounts/:id/statuses, /api/v2/search (resolves any remote URL into a local copy)."""

    network = "mastodon"
    secrets = {"access_token": "fake-mastodon-token-0123"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, dict] = {}  # local id -> status
        self.keys: dict[str, str] = {}  # Idempotency-Key -> status id
        self.me = self._account(self.handle)

    def _account(self, acct: str) -> dict:
        user, _, domain = acct.partition("@")
        base = f"https://{domain}" if domain else self.url
        return {"id": str(100 + sum(map(ord, acct))), "username": user, "acct": acct, "display_name": user,
                "url": f"{base}/@{user}", "created_at": "2023-01-01T00:00:00.000Z", "followers_count": 10,
                "following_count": 1, "statuses_count": 1, "bot": False, "locked": False}

    def _status(self, acct: str, text: str, in_reply_to: str | None = None, uri: str | None = None,
                url: str | None = None) -> dict:
        status_id = str(113000000000000000 + next(self.ids))
        account = self._account(acct)
        user = account["username"]
        status = {"id": status_id, "created_at": iso(), "in_reply_to_id": in_reply_to,
                  "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
                  "language": "en", "uri": uri or f"{self.url}/users/{user}/statuses/{status_id}",
                  "url": url or f"{self.url}/@{user}/{status_id}", "replies_count": 0, "reblogs_count": 0,
                  "favourites_count": 0, "content": f"<p>{html.escape(text)}</p>", "reblog": None,
                  "account": account, "media_attachments": [], "mentions": [], "tags": [], "emojis": []}
        self.statuses[status_id] = status
        return status

    def target(self, text: str, author: str = "alice", remote: str | None = None) -> ReplyTarget:
        """A customer's status: on this instance, or (``remote="other.example"``) on another one,
        as collected there (its id there is not an id here; url and uri point to that instance)."""
        if not remote:
            status = self._status(author, text)
            return ReplyTarget("mastodon", status["uri"], status["url"], author, text, raw=status)
        number = 109000000000000000 + next(self.ids)
        uri, url = f"https://{remote}/users/{author}/statuses/{number}", f"https://{remote}/@{author}/{number}"
        raw = {"id": str(number), "uri": uri, "url": url, "content": f"<p>{html.escape(text)}</p>",
               "account": {"id": "7", "acct": author, "username": author, "url": f"https://{remote}/@{author}"}}
        return ReplyTarget("mastodon", uri, url, author, text, raw=raw)

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        if status == 503:
            return Answer(503, reason or "<html><body>503 Service Unavailable</body></html>",
                          {"Content-Type": "text/html"})
        words = {401: "The access token is invalid", 403: "This action is not allowed",
                 429: "Too many requests"}
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": iso(reset_at)} if status == 429 else {}
        return Answer(status, {"error": reason or words.get(status, "Error")}, headers)

    def handle_call(self, call: dict) -> Answer:
        path = call["path"].rstrip("/")
        if path in ("/api/v1/instance", "/api/v2/instance"):
            return Answer(200, {"uri": self.host, "domain": self.host, "title": "Fake Mastodon", "version": "4.3.0",
                                "api_versions": {"mastodon": 2}})
        if _bearer(call) != self.secrets["access_token"]:
            return self.error(401, None)
        if path == "/api/v1/accounts/verify_credentials":
            return Answer(200, self.me)
        if call["method"] == "POST" and path == "/api/v1/statuses":
            return self._post(call)
        if match := re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path):
            limit = int((call["query"].get("limit") or ["20"])[0])
            mine = [s for s in reversed(self.statuses.values()) if s["account"]["id"] == match.group(1)]
            return Answer(200, mine[:limit])
        if path == "/api/v2/search":
            return Answer(200, {"accounts": [], "hashtags": [], "statuses": self._search(call["query"])})
        return Answer(404, {"error": "Record not found"})

    def _search(self, query: dict) -> list[dict]:
        """Statuses known here by url or uri; with resolve, a remote status address (either form)
        is fetched once and gets a local id, its uri and url staying the remote ones."""
        q = (query.get("q") or [""])[0]
        known = [s for s in self.statuses.values() if q in (s["url"], s["uri"])]
        found = re.fullmatch(r"https://([^/]+)/(?:@(\w+)|users/(\w+)/statuses)/(\w+)", q)
        if known or not found or found.group(1) == self.host or (query.get("resolve") or [""])[0] not in (
                "1", "true"):
            return [s for s in known if s["uri"] not in self.deleted and s["url"] not in self.deleted][:1]
        host, user, number = found.group(1), found.group(2) or found.group(3), found.group(4)
        uri, url = f"https://{host}/users/{user}/statuses/{number}", f"https://{host}/@{user}/{number}"
        if uri in self.deleted or url in self.deleted:
            return []
        return [self._status(f"{user}@{host}", "(a remote post)", uri=uri, url=url)]

    def _post(self, call: dict) -> Answer:
        key = call["headers"].get("idempotency-key")
        if key and key in self.keys:  # Mastodon: the same key within an hour gives the same status
            return Answer(200, self.statuses[self.keys[key]])
        text, reply_to = call["data"].get("status") or "", call["data"].get("in_reply_to_id") or None
        if not text.strip():
            return Answer(422, {"error": "Validation failed: Text can't be blank"})
        if len(text) > 500:
            return Answer(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
        if reply_to and (reply_to not in self.statuses or reply_to in self.deleted
                         or {self.statuses[reply_to]["uri"], self.statuses[reply_to]["url"]} & self.deleted):
            return Answer(404, {"error": "Record not found"})

        def make() -> Answer:
            status = self._status(self.handle, text, reply_to)
            status["in_reply_to_account_id"] = self.statuses[reply_to]["account"]["id"] if reply_to else None
            if key:
                self.keys[key] = status["id"]
            self.record(id=status["id"], text=text, in_reply_to=reply_to, url=status["url"], idempotency_key=key)
            return Answer(200, status)
        return self.create(make)


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


FAKES = {"x": FakeX, "reddit": FakeReddit, "mastodon": FakeMastodon, "bluesky": FakeBluesky}


@contextmanager
def fake_network(network: str, *, account_id: str | None = None, brand: str = "Nimbus Mobile",
                 timeout_seconds: float = 1.0, stall_seconds: float = 5.0, port: int = 0):
    """``(server, account, env)``: a running fake of ``network``, a ReplyAccount pointing at it and the
    environment (BRANDPULSE_REPLY_<ID>_...) holding its secrets; set ``env`` with monkeypatch or pass
    it to a worker process."""
    with FAKES[network](stall_seconds=stall_seconds, port=port) as server:
        yield server, server.account(account_id, brand, timeout_seconds), server.env(account_id)


if __name__ == "__main__":  # python tests/fake_networks.py mastodon: serve one until killed
    import sys

    with fake_network(sys.argv[1] if len(sys.argv) > 1 else "mastodon") as (fake, reply_account, environment):
        print(json.dumps({"url": fake.url, "account": reply_account.model_dump(), "env": environment}), flush=True)
        threading.Event().wait()
