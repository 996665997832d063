"""Reddit's reply side: OAuth token, POST /api/comment, the account's comments."""

from __future__ import annotations

import base64
import html
import time

from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import ReplyTarget

from tests.fake_networks.base import Answer, FakeNetwork, _bearer


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
