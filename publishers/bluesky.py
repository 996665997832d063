"""Replies on Bluesky as the brand's account: atproto ``send_post`` with a reply ref.

A reply names its parent and its thread's root by URI and CID. Both come from the stored post
(a Jetstream event's ``commit``, or a post view) when they are there, else from getPosts. One login
per publisher: createSession is rate-limited (30 per 5 minutes per account).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
from atproto import Client, models
from atproto_client import exceptions as at
from atproto_client.request import Request

from brandpulse.core.errors import ReplyRateLimitedError, ReplyRejectedError, ReplyUncertainError
from brandpulse.core.redaction import redact_secrets, remember_secret
from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import Published, ReplyTarget
from publishers.rules import reply_restriction

RECENT_POSTS = 50


def _get(value: Any, *path: str) -> Any:
    """``value.a.b`` for dicts and atproto models alike (None where a step is missing)."""
    for key in path:
        if value is None:
            return None
        value = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
    return value


def _ref(value: Any) -> dict | None:
    uri, cid = _get(value, "uri"), _get(value, "cid")
    return {"uri": uri, "cid": cid} if isinstance(uri, str) and isinstance(cid, str) and uri and cid else None


def _reason(exc: at.RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    words = [w for w in (_get(content, "error"), _get(content, "message")) if isinstance(w, str) and w]
    if words:
        return ": ".join(words)
    return f"HTTP {exc.response.status_code}" if exc.response is not None else type(exc).__name__


class BlueskyPublisher:
    """One brand account on Bluesky (its PDS at ``base_url``)."""

    network = "bluesky"

    def __init__(self, account: ReplyAccount, secrets: dict[str, str]) -> None:
        for value in secrets.values():
            remember_secret(value)
        self.account = account
        self.app_password = secrets["app_password"]
        self.client = Client(base_url=account.api_url, request=Request(timeout=account.timeout_seconds))
        self.did: str | None = None

    def may_reply(self, target: ReplyTarget) -> str | None:
        return reply_restriction("bluesky", self.account.handle, target)

    def publish(self, target: ReplyTarget, body: str, idempotency_key: str) -> Published:
        """Post ``body`` as a reply to ``target`` (an at:// URI); Bluesky has no idempotency key."""
        parent, root = self._refs(target)
        try:
            reply_to = models.AppBskyFeedPost.ReplyRef(parent=models.ComAtprotoRepoStrongRef.Main(**parent),
                                                       root=models.ComAtprotoRepoStrongRef.Main(**root))
        except pydantic.ValidationError as exc:
            raise ReplyRejectedError(f"Bluesky post {target.native_id[:120]} has no usable URI and CID "
                                     f"({exc.error_count()} problems); reply on bsky.app", network="bluesky",
                                     reason="bad reply reference") from None
        did = self._login()
        created = self._call(f"the reply to {target.native_id}", True,
                             lambda: self.client.send_post(body, profile_identify=did, reply_to=reply_to))
        if not isinstance(_get(created, "uri"), str):
            raise ReplyUncertainError(f"Bluesky accepted the reply to {target.native_id} but named no record; "
                                      "look for it before sending again", network="bluesky")
        return self._published(created.uri)

    def find_published(self, target: ReplyTarget, body: str) -> Published | None:
        """The account's recent post whose record.reply.parent is the target, if any."""
        did = self._login()
        what = f"looking for the reply to {target.native_id}"
        feed = self._call(what, False, lambda: self.client.get_author_feed(
            actor=did, filter="posts_with_replies", limit=RECENT_POSTS))
        for item in _get(feed, "feed") or []:
            post = _get(item, "post")
            if _get(post, "record", "reply", "parent", "uri") == target.native_id \
                    and _get(post, "author", "did") in (did, None):
                return self._published(_get(post, "uri"))
        return None

    def verify(self) -> str:
        """Sign in (createSession) and return the account's handle."""
        self._login(fresh=True)
        return str(_get(self.client.me, "handle") or self.account.handle)

    def _login(self, fresh: bool = False) -> str:
        if self.did is None or fresh:
            profile = self._call("signing in", False, lambda: self.client.login(self.account.handle,
                                                                                 self.app_password))
            self.did = _get(profile, "did") or _get(self.client._session, "did")
        return self.did

    def _refs(self, target: ReplyTarget) -> tuple[dict, dict]:
        """(parent, root) strong refs: from the stored post, else from getPosts."""
        raw = target.raw if isinstance(target.raw, dict) else {}
        commit = raw.get("commit") if isinstance(raw.get("commit"), dict) else None
        cid = _get(commit, "cid") if commit else raw.get("cid")
        record = _get(commit, "record") if commit else raw.get("record")
        if not isinstance(cid, str) or not cid or (_get(record, "reply") and not _ref(_get(record, "reply", "root"))):
            self._login()
            found = self._call(f"looking up {target.native_id}", False,
                               lambda: self.client.get_posts([target.native_id]))
            posts = [p for p in _get(found, "posts") or [] if _get(p, "uri") == target.native_id]
            if not posts:
                raise ReplyRejectedError(f"Bluesky has no post {target.native_id} any more (deleted, or its "
                                         "author blocks the account); mark the ticket answered elsewhere",
                                         network="bluesky", reason="post not found")
            cid, record = _get(posts[0], "cid"), _get(posts[0], "record")
        parent = {"uri": target.native_id, "cid": cid}
        return parent, _ref(_get(record, "reply", "root")) or parent

    def _published(self, uri: str) -> Published:
        return Published(id=uri, url=f"https://bsky.app/profile/{self.account.handle}/post/{uri.rsplit('/', 1)[-1]}")

    def _call(self, what: str, sends: bool, call):
        """Run one atproto call; every failure becomes one of the three publish errors."""
        who = f"@{self.account.handle} at {self.account.api_url}"
        maybe = "the reply may be posted: look for it before sending again" if sends else "retry later"
        try:
            return call()
        except at.RequestErrorBase as exc:
            status = exc.response.status_code if exc.response is not None else None
            reason = redact_secrets(_reason(exc))
            if status == 429:
                now = datetime.now(timezone.utc)
                until = exc.reset_at if isinstance(exc, at.RateLimitExceededError) else None
                until = until if until and now < until <= now + timedelta(days=2) else None
                raise ReplyRateLimitedError(f"Bluesky rate-limited {what} for {who} (HTTP 429: {reason}); nothing "
                                            "was posted, retry " + (f"after {until:%H:%M:%S} UTC" if until else
                                                                   "later"),
                                            network="bluesky", reason=reason, until=until) from None
            if status is None or status >= 500:
                cause = "timeout" if isinstance(exc, at.InvokeTimeoutError) else (
                    f"HTTP {status}" if status else "connection failed")
                raise ReplyUncertainError(f"Bluesky did not complete {what} for {who} ({cause}); {maybe}",
                                          network="bluesky", reason=reason if status else cause) from None
            advice = {400: "Bluesky refused the post (too long, or the post answered is gone): fix it and retry",
                      401: "Bluesky refused the sign-in: set a valid app password in "
                           f"{self.account.secret_names()['app_password']} and run `brandpulse doctor`",
                      403: "Bluesky does not let the account do this (blocked, or a takedown): answer elsewhere"}
            self.did = None if status == 401 else self.did
            raise ReplyRejectedError(f"Bluesky refused {what} for {who} (HTTP {status}: {reason}); "
                                     + advice.get(status, "fix what Bluesky names, then retry"),
                                     network="bluesky", reason=reason) from None
        except pydantic.ValidationError as exc:  # the post was refused by atproto's own model, before sending
            raise ReplyRejectedError(f"the reply for {what} is not a valid Bluesky post ({exc.error_count()} "
                                     "problems, e.g. too long); fix it and retry", network="bluesky",
                                     reason=redact_secrets(str(exc).splitlines()[0][:300])) from None
        except Exception as exc:  # noqa: BLE001 - atproto itself failed (an answer its models refuse)
            raise ReplyUncertainError(f"atproto failed on Bluesky's answer to {what} for {who} "
                                      f"({type(exc).__name__}); {maybe}", network="bluesky",
                                      reason=redact_secrets(str(exc)[:300])) from None
