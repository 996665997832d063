"""What each network allows a reply to be, known without asking it: length, and who may be answered."""

from __future__ import annotations

import re

from publishers.base import ReplyTarget

MAX_REPLY_CHARS = {"x": 280, "mastodon": 500, "bluesky": 300, "reddit": 10_000}


def _mentions(target: ReplyTarget) -> set[str]:
    """Handles the post names: @words in its text and X's entities.mentions in the stored payload."""
    found = {m.lower() for m in re.findall(r"(?<![\w@])@(\w{1,50})", target.text or "")}
    raw = target.raw if isinstance(target.raw, dict) else {}
    entities = raw.get("entities") if isinstance(raw.get("entities"), dict) else {}
    for item in entities.get("mentions") or ():
        if isinstance(item, dict) and isinstance(item.get("username"), str):
            found.add(item["username"].lower())
    return found


def reply_restriction(network: str, account_handle: str, target: ReplyTarget) -> str | None:
    """None when ``account_handle`` may answer ``target`` on ``network``; otherwise why not, for an agent.

    X lets the API reply only to posts whose author mentioned (or quoted) the replying account.
    """
    if network == "x" and account_handle.lower().lstrip("@") not in _mentions(target):
        return (f"X lets the API reply only to posts that mention @{account_handle.lstrip('@')}; this post "
                f"does not, so X would refuse the reply. Answer by DM or on x.com, then mark the ticket "
                "as answered elsewhere.")
    return None


def reply_length_problem(network: str, body: str) -> str | None:
    """None when ``body`` fits the network's limit, else what is wrong and by how much."""
    limit = MAX_REPLY_CHARS.get(network)
    if limit is not None and len(body) > limit:
        return f"the reply has {len(body)} characters; {network} allows {limit}: shorten it by {len(body) - limit}"
    return None
