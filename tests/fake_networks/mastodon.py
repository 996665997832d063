"""A Mastodon instance's reply side: statuses with Idempotency-Key, search with resolve, timelines."""

from __future__ import annotations

import html
import re

from publishers.base import ReplyTarget

from tests.fake_networks.base import Answer, FakeNetwork, iso, _bearer


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
