"""Replies on Reddit as the brand's account: praw with a script app (username + password).

prawcore retries a request that timed out or got a 5xx, up to three times, POSTs included: for a
comment that is a second copy when the first was accepted. The publisher turns that retry off and
lets the outbox worker decide (after :meth:`RedditPublisher.find_published`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import praw
import prawcore
import requests
from requests.adapters import HTTPAdapter
from praw.exceptions import RedditAPIException
from prawcore.sessions import FiniteRetryStrategy

from brandpulse.core.errors import ReplyRateLimitedError, ReplyRejectedError, ReplyUncertainError
from brandpulse.core.redaction import redact_secrets, remember_secret
from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import Published, ReplyTarget
from publishers.rules import reply_restriction

RECENT_COMMENTS = 100
WAIT = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)", re.I)
UNIT_SECONDS = {"millisecond": 0.001, "second": 1, "minute": 60, "hour": 3600}


class _TimeoutAdapter(HTTPAdapter):
    """praw ignores its ``timeout`` setting (prawcore sends its own 16 s on every API call): the
    account's timeout is applied here, on the transport."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(self, request, **kwargs):  # noqa: D401 - requests' transport method
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class _OneAttempt(FiniteRetryStrategy):
    """prawcore's retry strategy, allowing one attempt and no sleep: the worker retries, after looking."""

    def __init__(self, retries: int = 1) -> None:
        super().__init__(retries=1)

    def _sleep_seconds(self) -> float | None:
        return None


def _body(exc: prawcore.ResponseException) -> str:
    """Reddit's own words from an error reply: its JSON ``message``/``reason`` or the text."""
    try:
        data = exc.response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        words = [str(data[k]) for k in ("explanation", "reason", "message") if isinstance(data.get(k), str)]
        if words:
            return words[0]
    return f"HTTP {exc.response.status_code} {exc.response.reason}"


def _until_from_seconds(seconds: object) -> datetime | None:
    try:
        value = float(str(seconds).strip())
    except ValueError:
        return None
    return datetime.now(timezone.utc) + timedelta(seconds=value) if 0 < value <= 2 * 86400 else None


class RedditPublisher:
    """One brand account on Reddit; targets are fullnames (t3_ submission, t1_ comment)."""

    network = "reddit"

    def __init__(self, account: ReplyAccount, secrets: dict[str, str]) -> None:
        for value in secrets.values():
            remember_secret(value)
        self.account = account
        session = requests.Session()
        for prefix in ("http://", "https://"):
            session.mount(prefix, _TimeoutAdapter(account.timeout_seconds))
        self.reddit = praw.Reddit(client_id=secrets["client_id"], client_secret=secrets["client_secret"],
                                  username=account.handle, password=secrets["password"],
                                  user_agent=secrets["user_agent"], oauth_url=account.api_url,
                                  reddit_url=account.reddit_url.rstrip("/"), ratelimit_seconds=0,
                                  requestor_kwargs={"session": session},
                                  check_for_async=False, check_for_updates=False)
        for core in {self.reddit._core, self.reddit._authorized_core, self.reddit._read_only_core} - {None}:
            core._retry_strategy_class = _OneAttempt

    def may_reply(self, target: ReplyTarget) -> str | None:
        return reply_restriction("reddit", self.account.handle, target)

    def publish(self, target: ReplyTarget, body: str, idempotency_key: str) -> Published:
        """Comment ``body`` under ``target`` (Reddit has no idempotency key)."""
        kind, _, short_id = target.native_id.partition("_")
        if kind not in ("t1", "t3") or not short_id.isalnum():
            raise ReplyRejectedError(f"Reddit post {target.native_id[:60]!r} is not a comment (t1_) or submission "
                                     "(t3_) fullname, so it cannot be answered; reply on reddit.com",
                                     network="reddit", reason="not a fullname")
        thing = self.reddit.comment(id=short_id) if kind == "t1" else self.reddit.submission(id=short_id)
        what = f"the reply to {target.native_id}"
        comment = self._call(what, True, lambda: thing.reply(body))
        if comment is None:  # Reddit created it but did not say (quarantined subreddits)
            raise ReplyUncertainError(f"Reddit answered {what} from u/{self.account.handle} without the new "
                                      "comment; look for it before sending again", network="reddit",
                                      reason="no comment in the answer")
        return self._published(comment)

    def find_published(self, target: ReplyTarget, body: str) -> Published | None:
        """The account's newest comment whose parent is the target, if any."""
        what = f"looking for the reply to {target.native_id}"

        def newest():
            return list(self.reddit.redditor(self.account.handle).comments.new(limit=RECENT_COMMENTS))

        for comment in self._call(what, False, newest):
            if getattr(comment, "parent_id", None) == target.native_id:
                return self._published(comment)
        return None

    def verify(self) -> str:
        """Sign in (token, then /api/v1/me) and return the account's user name."""
        me = self._call("signing in", False, lambda: self.reddit.user.me(use_cache=False))
        return str(me.name)

    def _published(self, comment) -> Published:
        permalink = getattr(comment, "__dict__", {}).get("permalink") or ""
        url = "https://www.reddit.com" + permalink if str(permalink).startswith("/") else None
        return Published(id=f"t1_{comment.id}", url=url)

    def _rejected(self, what: str, status: int | str, reason: str) -> ReplyRejectedError:
        advice = {401: "Reddit refused the account's credentials: set valid "
                       f"{', '.join(self.account.secret_names().values())} and run `brandpulse doctor`",
                  403: "the account may not comment there (banned, locked thread, private subreddit): reply "
                       "on reddit.com, then mark the ticket answered elsewhere",
                  404: "the post no longer exists: mark the ticket answered elsewhere"}
        return ReplyRejectedError(
            f"Reddit refused {what} for u/{self.account.handle} ({status}: {reason}); "
            + advice.get(status, "fix what Reddit names, then retry"), network="reddit", reason=redact_secrets(reason))

    def _call(self, what: str, sends: bool, call):
        """Run one praw call; every failure becomes one of the three publish errors. A 401 on the call
        (an access token Reddit no longer takes; prawcore has dropped it) is tried once more with a
        fresh token: a 401 means nothing was done."""
        try:
            return self._call_once(what, sends, call)
        except _TokenExpired:
            try:
                return self._call_once(what, sends, call)
            except _TokenExpired:
                raise self._rejected(what, 401, "invalid_token") from None

    def _call_once(self, what: str, sends: bool, call):
        maybe = "the reply may be posted: look for it before sending again" if sends else "retry later"
        who = f"u/{self.account.handle}"
        try:
            return call()
        except RedditAPIException as exc:
            reasons = "; ".join(f"{i.error_type}: {i.message}" for i in exc.items)
            if any(i.error_type == "RATELIMIT" for i in exc.items):
                found = WAIT.search(reasons)
                seconds = int(found.group(1)) * UNIT_SECONDS[found.group(2).lower()] if found else None
                until = _until_from_seconds(seconds) if seconds else None
                raise ReplyRateLimitedError(f"Reddit asked {who} to wait before {what} ({reasons}); nothing was "
                                            "posted", network="reddit", reason=redact_secrets(reasons),
                                            until=until) from None
            deleted = any(i.error_type.startswith("DELETED") for i in exc.items)
            raise self._rejected(what, 404 if deleted else "refused", reasons) from None
        except prawcore.TooManyRequests as exc:
            until = _until_from_seconds(exc.response.headers.get("x-ratelimit-reset")
                                        or exc.response.headers.get("retry-after"))
            self.reddit._core._rate_limiter.next_request_timestamp = None  # the worker waits, not praw
            raise ReplyRateLimitedError(
                f"Reddit rate-limited {what} for {who} (HTTP 429); nothing was posted, retry "
                + (f"after {until:%H:%M:%S} UTC" if until else "later"),
                network="reddit", reason=redact_secrets(_body(exc)), until=until) from None
        except prawcore.InvalidToken:
            raise _TokenExpired() from None
        except prawcore.OAuthException as exc:
            raise self._rejected("signing in", 401, f"{exc.error} {exc.description or ''}".strip()) from None
        except prawcore.ServerError as exc:
            raise ReplyUncertainError(f"Reddit failed on {what} for {who} (HTTP {exc.response.status_code}); "
                                      f"{maybe}", network="reddit", reason=redact_secrets(_body(exc))) from None
        except prawcore.ResponseException as exc:
            status = exc.response.status_code
            if status >= 500:
                raise ReplyUncertainError(f"Reddit failed on {what} for {who} (HTTP {status}); {maybe}",
                                          network="reddit", reason=redact_secrets(_body(exc))) from None
            raise self._rejected(what, status, _body(exc)) from None
        except prawcore.RequestException as exc:
            cause = type(exc.original_exception).__name__
            raise ReplyUncertainError(f"Reddit did not answer {what} for {who} ({cause}); {maybe}",
                                      network="reddit", reason=cause) from None
        except Exception as exc:  # noqa: BLE001 - praw itself failed on an odd answer
            raise ReplyUncertainError(f"praw failed on Reddit's answer to {what} for {who} ({type(exc).__name__}); "
                                      f"{maybe}", network="reddit", reason=redact_secrets(str(exc)[:300])) from None


class _TokenExpired(Exception):
    """A 401 on an API call: the access token was cleared, one fresh attempt is safe (nothing posted)."""
