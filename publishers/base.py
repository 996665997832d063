"""What every network publisher does: publish a reply once, find one already published, sign in.

A publisher translates its client library's errors at the edge into the three outcomes the
outbox worker acts on (``brandpulse.core.errors``):

* :class:`ReplyRejectedError` - refused for certain, nothing posted (401/403/400/404/422, ...);
* :class:`ReplyRateLimitedError` - refused for now, nothing posted, with the reset time if known;
* :class:`ReplyUncertainError` - a timeout, a lost connection or a 5xx after the request left:
  the reply may exist, so the worker calls :meth:`Publisher.find_published` before sending again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ReplyTarget:
    """The post being answered, as the store holds it."""
    network: str
    native_id: str  # X tweet id; Reddit fullname t3_/t1_; Mastodon status id; Bluesky at:// URI
    url: str | None = None
    author_handle: str | None = None
    text: str = ""
    conversation_id: str | None = None
    in_reply_to_id: str | None = None
    raw: dict[str, Any] | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class Published:
    """A reply the network accepted: its id there and its web address."""
    id: str
    url: str | None = None


class Publisher(Protocol):
    """One reply account on one network (see brandpulse.core.settings_replies.ReplyAccount)."""

    network: str

    def may_reply(self, target: ReplyTarget) -> str | None:
        """None when the network lets this account answer ``target``; otherwise why not, in words
        an agent understands (e.g. X's rule that the author must have mentioned the account)."""

    def publish(self, target: ReplyTarget, body: str, idempotency_key: str) -> Published:
        """Post ``body`` as a public reply to ``target``; raises one of the three errors above."""

    def find_published(self, target: ReplyTarget, body: str) -> Published | None:
        """This account's reply to ``target`` if the network already has one (after an uncertain
        send), else None. Raises ReplyUncertainError when it cannot tell."""

    def verify(self) -> str:
        """Sign in and return the account's name as the network knows it (for doctor)."""
