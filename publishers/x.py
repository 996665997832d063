"""Replies on X as the brand's account: tweepy.Client in OAuth 1.0a user context.

tweepy hard-codes https://api.twitter.com; the collector's RedirectAdapter sends those requests to
the account's ``base_url`` with its timeout. X has no idempotency key, so :meth:`find_published`
(the account's recent tweets answering the target) is what keeps an uncertain send from doubling.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests
import tweepy

from brandpulse.core.errors import ReplyRateLimitedError, ReplyRejectedError, ReplyUncertainError
from brandpulse.core.redaction import redact_secrets, remember_secret
from brandpulse.core.settings_replies import ReplyAccount
from collectors.x import X_HOST, RedirectAdapter
from publishers.base import Published, ReplyTarget
from publishers.rules import reply_restriction

RECENT_TWEETS = 100  # how far back find_published looks (one page of the account's timeline)
ADVICE = {
    400: "X refused the text or the request: check the reply (length, duplicate text) and retry",
    401: "X refused the account's credentials: set valid {names} and run `brandpulse doctor`",
    403: "X does not let this account answer the post (not mentioned by the author, blocked, or the "
         "post is deleted or protected): answer on x.com or by DM, then mark the ticket answered elsewhere",
    404: "the post no longer exists on X: mark the ticket answered elsewhere",
}


def _reason(exc: tweepy.HTTPException) -> str:
    """X's own words: v2's problem ``detail``/``title``, or v1-style ``errors`` messages."""
    try:
        body = exc.response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        words = [str(body[k]) for k in ("detail", "title") if isinstance(body.get(k), str)]
        if words:
            return words[0]
    return "; ".join(map(str, exc.api_messages)) or f"HTTP {exc.response.status_code} {exc.response.reason}"


def _reset(headers) -> datetime | None:
    """When X's window resets: x-rate-limit-reset (epoch seconds), or the 24-hour user cap's reset
    when that cap is what ran out. None when absent, unreadable or already past."""
    resets = [headers.get("x-rate-limit-reset")]
    if str(headers.get("x-user-limit-24hour-remaining", "")).strip() == "0":
        resets.append(headers.get("x-user-limit-24hour-reset"))
    now = datetime.now(timezone.utc)
    times = [datetime.fromtimestamp(int(r), timezone.utc) for r in resets
             if str(r or "").strip().isdigit() and len(str(r).strip()) <= 12]
    times = [t for t in times if now < t <= now + timedelta(days=2)]
    return max(times) if times else None


class XPublisher:
    """One brand account on X (``care.reply_accounts`` entry with network x)."""

    network = "x"

    def __init__(self, account: ReplyAccount, secrets: dict[str, str]) -> None:
        for value in secrets.values():
            remember_secret(value)
        self.account = account
        self.client = tweepy.Client(consumer_key=secrets["consumer_key"], consumer_secret=secrets["consumer_secret"],
                                    access_token=secrets["access_token"],
                                    access_token_secret=secrets["access_token_secret"],
                                    return_type=requests.Response, wait_on_rate_limit=False)
        self.adapter = RedirectAdapter(account.api_url, account.timeout_seconds)
        self.client.session.mount(X_HOST, self.adapter)
        self._user_id: str | None = None

    def may_reply(self, target: ReplyTarget) -> str | None:
        return reply_restriction("x", self.account.handle, target)

    def publish(self, target: ReplyTarget, body: str, idempotency_key: str) -> Published:
        """Post ``body`` in reply to tweet ``target.native_id`` (X has no use for the key)."""
        response = self._call(f"the reply to post {target.native_id}", True, lambda: self.client.create_tweet(
            text=body, in_reply_to_tweet_id=target.native_id, user_auth=True))
        data = self._json(response, f"the reply to post {target.native_id}").get("data") or {}
        if not data.get("id"):
            raise ReplyUncertainError(f"X accepted the reply to post {target.native_id} from @{self.account.handle} "
                                      "but its answer names no tweet id; look for the reply before sending again",
                                      network="x", reason=response.text[:300])
        return self._published(str(data["id"]))

    def find_published(self, target: ReplyTarget, body: str) -> Published | None:
        """The account's recent tweet whose referenced_tweets replied_to the target, if any."""
        what = f"looking for the reply to post {target.native_id}"
        user_id = self._user_id or self._me(what)["id"]
        response = self._call(what, False, lambda: self.client.get_users_tweets(
            user_id, tweet_fields=["referenced_tweets"], max_results=RECENT_TWEETS, user_auth=True))
        for tweet in self._json(response, what).get("data") or []:
            refs = tweet.get("referenced_tweets") if isinstance(tweet, dict) else None
            if any(isinstance(r, dict) and r.get("type") == "replied_to" and str(r.get("id")) == target.native_id
                   for r in refs or []):
                return self._published(str(tweet["id"]))
        return None

    def verify(self) -> str:
        """Sign in (GET /2/users/me) and return the account's @username."""
        return str(self._me("signing in")["username"])

    def _me(self, what: str) -> dict:
        data = self._json(self._call(what, False, lambda: self.client.get_me(user_auth=True)), what).get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise ReplyUncertainError(f"X's answer to GET /2/users/me for @{self.account.handle} has no user; "
                                      "retry later", network="x")
        self._user_id = str(data["id"])
        return data

    def _published(self, tweet_id: str) -> Published:
        return Published(id=tweet_id, url=f"https://x.com/{self.account.handle}/status/{tweet_id}")

    def _json(self, response: requests.Response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ReplyUncertainError(f"X answered {what} for @{self.account.handle} with a body that is not "
                                      "JSON; look for the reply before sending again", network="x",
                                      reason=redact_secrets(response.text[:300]))
        return body

    def _call(self, what: str, sends: bool, call):
        """Run one tweepy call; every failure becomes one of the three publish errors."""
        who = f"@{self.account.handle} at {self.account.api_url}"
        maybe = "the reply may be posted: look for it before sending again" if sends else "retry later"
        self.adapter.last_status = None
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            until = _reset(exc.response.headers)
            raise ReplyRateLimitedError(
                f"X rate-limited {what} for {who} (HTTP 429); nothing was posted, retry "
                + (f"after {until:%H:%M:%S} UTC" if until else "later"),
                network="x", reason=redact_secrets(_reason(exc)), until=until) from None
        except tweepy.TwitterServerError as exc:
            raise ReplyUncertainError(f"X failed on {what} for {who} (HTTP {exc.response.status_code}); {maybe}",
                                      network="x", reason=redact_secrets(_reason(exc))) from None
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            names = ", ".join(self.account.secret_names().values())
            advice = ADVICE.get(status, "fix what X names, then retry").format(names=names)
            raise ReplyRejectedError(f"X refused {what} for {who} (HTTP {status}: {_reason(exc)}); {advice}",
                                     network="x", reason=redact_secrets(_reason(exc))) from None
        except requests.RequestException as exc:
            raise ReplyUncertainError(f"X did not answer {what} for {who} ({type(exc).__name__}); {maybe}",
                                      network="x", reason=redact_secrets(type(exc).__name__)) from None
        except Exception as exc:  # noqa: BLE001 - tweepy itself failed on an odd reply
            if self.adapter.last_status == 429:
                raise ReplyRateLimitedError(f"X rate-limited {what} for {who} (HTTP 429); retry later",
                                            network="x", reason="HTTP 429",
                                            until=_reset(self.adapter.last_headers)) from None
            raise ReplyUncertainError(f"tweepy failed on X's answer to {what} for {who} ({type(exc).__name__}); "
                                      f"{maybe}", network="x", reason=redact_secrets(str(exc)[:300])) from None
