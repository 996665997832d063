"""Cached access to store queries for the dashboard (the dashboard never writes SQL)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from brandpulse.core.settings import Settings, load_settings
from store import queries
from store.alerts import which_alerts_fired
from store.brands import which_brands_are_tracked, who_are_the_rivals_of
from store.engine import session_scope
from store.overview import (
    how_do_people_feel_about_aspects,
    how_many_tickets_were_open_at,
    rollups_answer,
    what_are_the_top_terms,
)
from store.tickets import how_many_tickets_by_status
from store.users import who_works_in_care

TTL = 60


@st.cache_resource
def settings() -> Settings:
    """The settings, loaded once per dashboard process."""
    return load_settings()


def _url() -> str:
    return settings().database.url


@st.cache_data(ttl=TTL)
def brands() -> list[dict]:
    with session_scope(_url()) as session:
        return [{"id": b.id, "name": b.name, "is_competitor": b.is_competitor}
                for b in which_brands_are_tracked(session)]


@st.cache_data(ttl=TTL)
def rivals(brand_id: int) -> list[dict]:
    with session_scope(_url()) as session:
        return [{"id": b.id, "name": b.name} for b in who_are_the_rivals_of(session, brand_id)]


@st.cache_data(ttl=TTL)
def filter_choices() -> tuple[list[str], list[str]]:
    with session_scope(_url()) as session:
        return queries.which_networks_and_languages_appear(session)


@st.cache_data(ttl=TTL)
def headline(flt: queries.MentionFilter) -> dict:
    with session_scope(_url()) as session:
        figures = queries.what_are_the_headline_figures(session, flt)
        figures["open_tickets"] = queries.how_many_tickets_are_open(session, flt.brand_ids)
        return figures


@st.cache_data(ttl=TTL)
def headline_before(flt: queries.MentionFilter) -> dict:
    """The headline figures of the period of the same length just before ``flt``'s (open tickets: those
    open when ``flt``'s period began)."""
    length = flt.until - flt.since
    with session_scope(_url()) as session:
        figures = queries.what_are_the_headline_figures(
            session, replace(flt, since=flt.since - length, until=flt.since))
        figures["open_tickets"] = how_many_tickets_were_open_at(session, flt.brand_ids, flt.since)
        return figures


@st.cache_data(ttl=TTL)
def aspect_sentiment(flt: queries.MentionFilter, limit: int = 10) -> list[dict]:
    """Mentions per (aspect, sentiment) of the most mentioned aspects under the filters."""
    with session_scope(_url()) as session:
        if not rollups_answer(session, flt):
            return []
        return how_do_people_feel_about_aspects(session, flt, limit)


@st.cache_data(ttl=TTL)
def daily(flt: queries.MentionFilter) -> list[dict]:
    with session_scope(_url()) as session:
        return queries.how_many_mentions_per_day(session, flt)


@st.cache_data(ttl=TTL)
def share_of_voice(brand_ids: tuple[int, ...], flt: queries.MentionFilter) -> list[dict]:
    with session_scope(_url()) as session:
        return queries.what_is_the_share_of_voice(session, brand_ids, flt)


@st.cache_data(ttl=TTL)
def top_terms(flt: queries.MentionFilter, labels: tuple[str, ...], limit: int = 10) -> list[dict]:
    with session_scope(_url()) as session:
        if not rollups_answer(session, flt):
            return []
        return what_are_the_top_terms(session, flt, labels, limit)


@st.cache_data(ttl=TTL)
def mentions(flt: queries.MentionFilter, limit: int) -> list[dict]:
    with session_scope(_url()) as session:
        return queries.which_mentions_match(session, flt, limit)


def mention_detail(mention_id: int) -> dict | None:
    with session_scope(_url()) as session:
        return queries.what_do_we_know_about_mention(session, mention_id)


@st.cache_data(ttl=60)
def care_members() -> list[dict]:
    with session_scope(_url()) as session:
        return [{"id": u.id, "username": u.username, "team": u.team} for u in who_works_in_care(session)]


def clear_ticket_caches() -> None:
    """Forget cached ticket figures after a change."""
    tickets_by_status.clear()
    headline.clear()


@st.cache_data(ttl=15)
def tickets_by_status() -> dict[str, int]:
    with session_scope(_url()) as session:
        return how_many_tickets_by_status(session)


@st.cache_data(ttl=TTL)
def alerts() -> list[dict]:
    with session_scope(_url()) as session:
        return [a.model_dump() for a in which_alerts_fired(session)]


@st.cache_data(ttl=15)
def source_health() -> list[dict]:
    from store.collectors import which_sources_report_health

    with session_scope(_url()) as session:
        return [{"source": h.source, "brand": h.brand, "state": h.state, "last success": h.last_success_at,
                 "last error": h.last_error, "items last run": h.items_last_run, "items total": h.items_total,
                 "waits until": h.rate_limited_until, "spend today $": round(h.spend_today, 2),
                 "next run": h.next_run_at} for h in which_sources_report_health(session)]


@st.cache_data(ttl=60)
def source_gaps() -> list[dict]:
    from store.collectors import which_gaps_did_sources_have

    with session_scope(_url()) as session:
        return [{"source": g.source, "brand": g.brand, "down from": g.started_at, "until": g.ended_at,
                 "back-filled": g.backfilled_items} for g in which_gaps_did_sources_have(session)]


@st.cache_data(ttl=60)
def quarantine_counts() -> list[dict]:
    from store.collectors import how_many_records_were_quarantined

    with session_scope(_url()) as session:
        return [{"origin": o, "records": n, "a reason": r}
                for o, n, r in how_many_records_were_quarantined(session)]


@st.cache_data(ttl=300)
def influencers(brand_id: int, tiers: tuple[str, ...], since=None, until=None) -> list[dict]:
    """The leaderboard's top 100 among the authors who wrote about the brand in [since, until)."""
    from store.influence import who_leads_the_conversation

    with session_scope(_url()) as session:
        board = who_leads_the_conversation(session, brand_id, 100_000, tiers)
        if since is not None or until is not None:
            active = queries.which_authors_wrote_about(session, brand_id, since, until)
            board = [row for row in board if row["author_id"] in active]
        return board[:100]


def influencer_report(actor, brand: str, since, fmt: str) -> bytes:
    """The influencer report file (role-checked: report.export, with the role re-read)."""
    from brandpulse.services.accounts import authorize
    from brandpulse.reports.export import to_bytes
    from brandpulse.reports.influencers import build_influencer_report

    authorize(settings(), actor, "report.export")
    return to_bytes(build_influencer_report(settings(), brand, since), fmt)


@st.cache_data(ttl=TTL)
def voice(brand: str, since, until, by: str, sentiment: str | None) -> list[dict]:
    from brandpulse.services.voice import share_of_voice

    return share_of_voice(settings(), brand, since, until, by=by, sentiment=sentiment)


@st.cache_data(ttl=300)
def topics(brand_id: int) -> list[dict]:
    from store.topics import what_are_people_talking_about

    with session_scope(_url()) as session:
        return [t.model_dump() for t in what_are_people_talking_about(session, brand_id)]


@st.cache_data(ttl=TTL)
def topic_sentiment(topic_ids: tuple[int, ...], since=None, until=None) -> dict[int, dict[str, int]]:
    """Per topic, its mentions in [since, until) by sentiment."""
    from store.topics import how_do_people_feel_about_topics

    with session_scope(_url()) as session:
        return how_do_people_feel_about_topics(session, list(topic_ids), since, until)


@st.cache_data(ttl=TTL)
def mentions_behind(flt: queries.MentionFilter, sentiment: str | None = None, aspect: str | None = None,
                    limit: int = 100) -> dict:
    """The count and newest ``limit`` mentions behind a clicked bar or point (see store/drilldown.py)."""
    from store.drilldown import which_mentions_are_behind

    with session_scope(_url()) as session:
        return which_mentions_are_behind(session, flt, sentiment=sentiment, aspect=aspect, limit=limit)
