"""Erased posts show "[erased]" wherever a post's text is shown (their stored text is empty).

Only rows with an empty text are looked up, so a page of ordinary posts costs no query.
"""

from __future__ import annotations

from store.engine import session_scope
from store.people import ERASED, which_mentions_are_erased, which_tickets_show_erased_posts


def _url() -> str:
    from dashboard import data

    return data.settings().database.url


def marked(rows: list[dict], key: str = "id", text: str = "text", by: str = "mention",
           only=lambda row: True) -> list[dict]:
    """``rows`` with the ``text`` of erased posts replaced by [erased]; ``key`` holds the mention
    id (``by="mention"``) or the ticket id (``by="ticket"``); rows failing ``only`` are left alone."""
    empty = [r[key] for r in rows if not r.get(text) and isinstance(r.get(key), int) and only(r)]
    if not empty:
        return rows
    with session_scope(_url()) as session:
        erased = (which_mentions_are_erased if by == "mention" else which_tickets_show_erased_posts)(session, empty)
    return [{**r, text: ERASED} if r.get(key) in erased and not r.get(text) and only(r) else r for r in rows]


def text_of(text: str, erased_at) -> str:
    """A post's text as shown: [erased] once it was erased."""
    return ERASED if erased_at is not None and not text else text
