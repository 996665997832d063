"""Replies on Mastodon as the brand's account: Mastodon.py ``status_post`` with an Idempotency-Key.

A status id is local to an instance: a post collected on (or written on) another instance is first
resolved on the account's own instance (``search_v2(url, resolve=True)``). The reply starts with
``@author`` so the author is notified, as Mastodon's own reply box does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import mastodon
from mastodon import Mastodon

from brandpulse.core.errors import ReplyRateLimitedError, ReplyRejectedError, ReplyUncertainError
from brandpulse.core.redaction import redact_secrets, remember_secret
from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import Published, ReplyTarget
from publishers.rules import reply_restriction

RECENT_STATUSES = 40  # Mastodon's largest page of an account's statuses
LOCAL_ID = re.compile(r"[0-9A-Za-z]{1,40}")


def _host(url: str | None) -> str:
    return urlsplit(url).netloc.lower() if url and "://" in url else ""


class MastodonPublisher:
    """One brand account on one Mastodon instance (``base_url``)."""

    network = "mastodon"

    def __init__(self, account: ReplyAccount, secrets: dict[str, str]) -> None:
        for value in secrets.values():
            remember_secret(value)
        self.account = account
        self.host = _host(account.api_url)
        self.client = Mastodon(access_token=secrets["access_token"], api_base_url=account.api_url,
                               request_timeout=account.timeout_seconds, ratelimit_method="throw",
                               version_check_mode="none")
        self._local_ids: dict[str, str] = {}  # target native id -> status id on this instance
        self._me: dict | None = None

    def may_reply(self, target: ReplyTarget) -> str | None:
        return reply_restriction("mastodon", self.account.handle, target)

    def publish(self, target: ReplyTarget, body: str, idempotency_key: str) -> Published:
        """Reply to ``target``; a resend with the same ``idempotency_key`` returns the same status."""
        status_id = self._local_id(target)
        text = self._with_mention(target, body)
        status = self._call(f"the reply to status {status_id}", True, lambda: self.client.status_post(
            text, in_reply_to_id=status_id, idempotency_key=idempotency_key))
        if not isinstance(status, dict) or not status.get("id"):
            raise ReplyUncertainError(f"{self.host} accepted the reply to status {status_id} but its answer names "
                                      "no status; look for it before sending again", network="mastodon")
        return Published(id=str(status["id"]), url=status.get("url") or status.get("uri"))

    def find_published(self, target: ReplyTarget, body: str) -> Published | None:
        """The account's recent status whose in_reply_to_id is the (resolved) target, if any."""
        status_id = self._local_id(target)
        what = f"looking for the reply to status {status_id}"
        me = self._account(what)
        statuses = self._call(what, False, lambda: self.client.account_statuses(me["id"], limit=RECENT_STATUSES))
        for status in statuses or []:
            if str(status.get("in_reply_to_id") or "") == status_id:
                return Published(id=str(status["id"]), url=status.get("url") or status.get("uri"))
        return None

    def verify(self) -> str:
        """Sign in (verify_credentials) and return the account's acct."""
        return str(self._account("signing in").get("acct"))

    def _account(self, what: str) -> dict:
        if self._me is None:
            self._me = self._call(what, False, self.client.account_verify_credentials)
        return self._me

    def _local_id(self, target: ReplyTarget) -> str:
        """The target's status id on the account's instance: taken from the target when it lives
        there, else resolved once through the instance's search."""
        if target.native_id in self._local_ids:
            return self._local_ids[target.native_id]
        native, raw = target.native_id, target.raw if isinstance(target.raw, dict) else {}
        local = None
        if LOCAL_ID.fullmatch(native) and (not target.url or _host(target.url) == self.host):
            local = native  # a bare id, collected on this instance
        elif _host(native) == self.host and LOCAL_ID.fullmatch(native.rstrip("/").rsplit("/", 1)[-1]):
            local = native.rstrip("/").rsplit("/", 1)[-1]  # the instance's own URI or URL of it
        elif _host(target.url) == self.host and LOCAL_ID.fullmatch(target.url.rstrip("/").rsplit("/", 1)[-1]):
            local = target.url.rstrip("/").rsplit("/", 1)[-1]
        else:
            address = target.url or (native if "://" in native else None) or raw.get("uri")
            if not address:
                raise ReplyRejectedError(f"Mastodon post {native[:80]!r} has no address {self.host} could look "
                                         "up, so it cannot be answered from there; reply on the post's own "
                                         "instance", network="mastodon", reason="no url")
            found = self._call(f"looking up {address} on {self.host}", False, lambda: self.client.search_v2(
                address, resolve=True, result_type="statuses"))
            statuses = (found or {}).get("statuses") or []
            if not statuses:
                raise ReplyRejectedError(f"{self.host} cannot find the post {address} (deleted, private, or its "
                                         "server is unreachable); reply on its own instance or mark the ticket "
                                         "answered elsewhere", network="mastodon", reason="not found by search")
            local = str(statuses[0]["id"])
        self._local_ids[target.native_id] = local
        return local

    def _author_acct(self, target: ReplyTarget) -> str | None:
        """The author as this instance names them: user@domain unless they live here."""
        raw = target.raw if isinstance(target.raw, dict) else {}
        author = raw.get("account") if isinstance(raw.get("account"), dict) else {}
        acct = (target.author_handle or author.get("acct") or "").strip().lstrip("@")
        if not acct:
            return None
        if "@" not in acct:
            domain = _host(author.get("url")) or _host(target.url)
            if domain and domain != self.host:
                acct = f"{acct}@{domain}"
        elif acct.split("@", 1)[1].lower() == self.host:
            acct = acct.split("@", 1)[0]
        return acct

    def _with_mention(self, target: ReplyTarget, body: str) -> str:
        acct = self._author_acct(target)
        if not acct or acct.lower() == self.account.handle.lower():
            return body
        if re.search(rf"(?<![\w@])@{re.escape(acct)}(?![\w@.-])", body, re.I):
            return body
        return f"@{acct} {body}"

    def _call(self, what: str, sends: bool, call):
        """Run one Mastodon.py call; every failure becomes one of the three publish errors."""
        who = f"@{self.account.handle} on {self.host}"
        maybe = "the reply may be posted: look for it before sending again" if sends else "retry later"
        self.client.ratelimit_reset = None  # read this call's X-RateLimit-Reset, not an older one
        try:
            return call()
        except mastodon.MastodonRatelimitError as exc:
            if "calculations failed" in str(exc):  # an unreadable reset header, on any answer
                raise ReplyUncertainError(f"Mastodon sent an unreadable X-RateLimit-Reset on {what} for {who}; "
                                          f"{maybe}", network="mastodon", reason=str(exc)[:300]) from None
            reset = self.client.ratelimit_reset
            now = datetime.now(timezone.utc)
            until = datetime.fromtimestamp(reset, timezone.utc) if reset else None
            until = until if until and now < until <= now + timedelta(days=2) else None
            raise ReplyRateLimitedError(f"Mastodon rate-limited {what} for {who} (HTTP 429); nothing was "
                                        "posted, retry " + (f"after {until:%H:%M:%S} UTC" if until else "later"),
                                        network="mastodon", reason="Too many requests", until=until) from None
        except mastodon.MastodonServerError as exc:
            raise ReplyUncertainError(f"Mastodon failed on {what} for {who} (HTTP {exc.args[1]}); {maybe}",
                                      network="mastodon", reason=redact_secrets(exc.args[3] or exc.args[2])) from None
        except mastodon.MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 3 and isinstance(exc.args[1], int) else None
            if status is None:  # an answer Mastodon.py could not read (e.g. not JSON)
                raise ReplyUncertainError(f"Mastodon answered {what} for {who} with something Mastodon.py "
                                          f"could not read; {maybe}", network="mastodon",
                                          reason=redact_secrets(str(exc)[:300])) from None
            reason = str(exc.args[3] or exc.args[2])
            advice = {401: "the instance refused the access token: set a valid "
                           f"{self.account.secret_names()['access_token']} (scopes read:statuses and "
                           "write:statuses) and run `brandpulse doctor`",
                      403: "the account may not do this (suspended, blocked by the author): answer elsewhere",
                      404: "the post no longer exists (deleted or not visible to the account): mark the ticket "
                           "answered elsewhere",
                      422: "the instance refused the text (too long, or invalid): fix the reply and retry"}
            raise ReplyRejectedError(f"Mastodon refused {what} for {who} (HTTP {status}: {reason}); "
                                     + advice.get(status, "fix what the instance names, then retry"),
                                     network="mastodon", reason=redact_secrets(reason)) from None
        except mastodon.MastodonNetworkError as exc:
            cause = "timeout" if "timed out" in str(exc).lower() else "connection failed"
            raise ReplyUncertainError(f"Mastodon did not answer {what} for {who} ({cause}); {maybe}",
                                      network="mastodon", reason=cause) from None
        except Exception as exc:  # noqa: BLE001 - Mastodon.py itself failed (an odd answer)
            raise ReplyUncertainError(f"Mastodon.py failed on {what} for {who} ({type(exc).__name__}); {maybe}",
                                      network="mastodon", reason=redact_secrets(str(exc)[:300])) from None
