"""X API v2's reply side: /2/users/me, POST /2/tweets, /2/users/:id/tweets."""

from __future__ import annotations

import re
from urllib.parse import unquote

from publishers.base import ReplyTarget

from tests.fake_networks.base import Answer, FakeNetwork


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
