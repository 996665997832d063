"""Mentions as the Mentions page and the API read them: filtered, paged by key, one in full."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brandpulse.core.errors import NotFoundError
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor, may_reach_ticket, require_page
from brandpulse.services.accounts import authorize
from store.engine import session_scope
from store.mention_pages import which_mentions_come_after
from store.brands import brand_named
from store.queries import MentionFilter, what_do_we_know_about_mention


def brand_filter_ids(settings: Settings, names: list[str]) -> tuple[int, ...]:
    """The stored ids of brands named (own or rival); NotFoundError naming the brands there are."""
    if not names:
        return ()
    with session_scope(settings.database.url) as session:
        found = {n: b.id for n in names if (b := brand_named(session, n)) is not None}
    missing = [n for n in names if n not in found]
    if missing:
        known = sorted({b.name for b in settings.brands} | {c.name for b in settings.brands for c in b.competitors})
        raise NotFoundError(f"brand(s) {', '.join(map(repr, missing))} are not tracked; use one of: "
                            f"{', '.join(known)}")
    return tuple(found[n] for n in names)


def mentions_after(settings: Settings, actor: Actor, flt: MentionFilter, after: tuple[datetime, int] | None,
                   limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` mentions under the filters, newest first, after the key (created_at, id)."""
    actor = authorize(settings, actor)
    require_page(actor, "Mentions")
    with session_scope(settings.database.url) as session:
        return which_mentions_come_after(session, flt, after, limit)


def mention(settings: Settings, actor: Actor, mention_id: int) -> dict[str, Any]:
    """One mention with its author, brands, analysis (and the model version that made it) and its ticket
    (only when the actor may reach that ticket: others do not learn it exists)."""
    actor = authorize(settings, actor)
    require_page(actor, "Mentions")
    with session_scope(settings.database.url) as session:
        found = what_do_we_know_about_mention(session, mention_id)
        if found is None:
            raise NotFoundError(f"mention #{mention_id} does not exist (or was forgotten)")
        analysis, author, ticket = found["analysis"], found["author"], found["ticket"]
        m = found["mention"]
        return {"id": m.id, "network": m.network, "native_id": m.native_id, "url": m.url, "text": m.text,
                "language": m.language, "created_at": m.created_at, "collected_at": m.collected_at,
                "likes": m.likes, "replies": m.replies, "reposts": m.reposts, "quotes": m.quotes,
                "views": m.views, "in_reply_to_id": m.in_reply_to_id, "brands": found["brands"],
                "author": author.model_dump(exclude={"customer_id", "updated_at"}) if author else None,
                "analysis": analysis.model_dump(exclude={"id", "mention_id"}) if analysis else None,
                "analysis_status": m.analysis_status,
                "ticket_id": ticket.id if ticket and may_reach_ticket(actor, ticket.team, ticket.assignee_id) else None}
