"""Triage: complaints and questions become prioritised, routed care tickets."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from brandpulse.services.merging import GrievanceIndex
from brandpulse.core.settings import CareSettings, Settings
from brandpulse.services.sla import sla_deadlines
from brandpulse.core.tiers import at_or_above, tier_of
from store.brands import sync_brands
from store.engine import session_scope
from store.leases import exclusive
from store.models import utcnow
from store.ticket_actions import merge_into_ticket
from store.ticket_detail import which_open_tickets_may_share_a_grievance
from store.tickets import (
    TicketCandidate,
    open_tickets,
    which_mentions_need_tickets,
    which_tickets_cover,
    who_has_fewest_open_tickets,
)

WEIGHTS = {"complaint": 0.30, "negativity": 0.20, "severity": 0.10, "influence": 0.20,
           "velocity": 0.10, "recency": 0.10}
TRIAGE_LEASE, TRIAGE_LEASE_SECONDS = "triage", 300  # a killed triager frees the lease after this
SEVERITY = {None: 0.0, "no_explicit_reproach": 0.25, "disapproval": 0.5, "accusation": 0.75,
            "blame": 1.0}


def priority_components(candidate: TicketCandidate, now: datetime) -> dict[str, float]:
    """Each priority signal scaled to 0..1, so the score can be explained."""
    age_hours = max((now - candidate.created_at).total_seconds() / 3600, 0.0)
    engagement = candidate.likes + 2 * candidate.replies + 3 * candidate.reposts
    return {
        "complaint": float(candidate.complaint_score or 0.0),
        "negativity": float(candidate.sentiment_negative or 0.0),
        "severity": SEVERITY.get(candidate.severity, 0.5),
        "influence": min(1.0, math.log10((candidate.followers or 0) + 1) / 6),
        "velocity": min(1.0, math.log10(1 + engagement / max(age_hours, 1.0)) / 2),
        "recency": math.exp(-age_hours / 24),
    }


def priority_score(components: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Priority 0..100 and each component's contribution in points."""
    contributions = {name: round(100 * WEIGHTS[name] * value, 2) for name, value in components.items()}
    return round(sum(contributions.values()), 2), contributions


def route(care: CareSettings, candidate: TicketCandidate) -> str:
    """The team of the first routing rule whose every given field matches, else the default team."""
    intent = "complaint" if candidate.complaint else (candidate.primary_intent or "other")
    tier = tier_of(candidate.followers)
    for rule in care.routing:
        checks = (
            rule.brand is None or rule.brand == candidate.brand,
            rule.network is None or rule.network == candidate.network,
            rule.language is None or rule.language == (candidate.language or ""),
            rule.intent is None or rule.intent == intent,
            rule.aspect is None or rule.aspect in candidate.aspects,
            rule.influence_tier is None or at_or_above(tier, rule.influence_tier),
            rule.min_followers is None or (candidate.followers or 0) >= rule.min_followers,
        )
        if all(checks):
            return rule.team
    return care.default_team


def _grievance(candidate: TicketCandidate) -> dict:
    return {"author_id": candidate.author_id, "customer_id": candidate.customer_id,
            "handle": candidate.handle, "network": candidate.network, "conversation_id": candidate.conversation_id,
            "text": candidate.text}


def triage_new(settings: Settings, now: datetime | None = None) -> int:
    """Open tickets for analysed complaints/questions not yet ticketed; return how many opened.

    A mention repeating an open ticket's grievance (same author and thread, or near-identical
    text on any network) is merged into that ticket instead of opening another. One process
    triages at a time (a lease in the store): another waits for it, or returns 0 when it
    waited two minutes and the mentions wait for the next round.
    """
    with exclusive(settings.database.url, TRIAGE_LEASE, TRIAGE_LEASE_SECONDS) as mine:
        return _triage(settings, now) if mine else 0


def _triage(settings: Settings, now: datetime | None) -> int:
    now = now or utcnow()
    care = settings.care
    teams = {team.name: team for team in care.teams}
    since = now - timedelta(days=care.ticket_max_age_days)
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)  # competitor flags follow config.yaml
        candidates = which_mentions_need_tickets(session, care.ticket_intents, since)
        indexes: dict[int, GrievanceIndex] = {}
        fresh, merges = [], []
        for candidate in candidates:
            index = indexes.get(candidate.brand_id)
            if index is None:
                index = indexes[candidate.brand_id] = GrievanceIndex(care.merge_similarity)
                window = now - timedelta(hours=care.merge_window_hours)
                for row in which_open_tickets_may_share_a_grievance(session, candidate.brand_id, window):
                    index.add(("ticket", row["ticket_id"]), row)
            grievance = _grievance(candidate)
            hit = index.match(grievance) if care.merge_window_hours else None
            if hit:
                merges.append((hit[0], candidate.mention_id, hit[1]))
            else:
                index.add(("new", candidate.mention_id), grievance)
                fresh.append(candidate)
        created = _open(session, settings, fresh, teams, now)
        opened = which_tickets_cover(session, [m for kind, m in (ref for ref, _, _ in merges) if kind == "new"])
        for (kind, key), mention_id, reason in merges:
            merge_into_ticket(session, key if kind == "ticket" else opened[key], mention_id, reason)
    return created


def _open(session, settings: Settings, fresh: list[TicketCandidate], teams: dict, now: datetime) -> int:
    created = 0
    rows: list[dict] = []
    load: dict[str, int | None] = {}
    for candidate in fresh:
        score, explanation = priority_score(priority_components(candidate, now))
        team = route(settings.care, candidate)
        # the clock starts when the customer posted (not when triage ran), at most max-age days back
        # (a post dated in the future starts it now)
        clock_start = min(max(candidate.created_at, now - timedelta(days=settings.care.ticket_max_age_days)), now)
        first_due, resolution_due = sla_deadlines(clock_start, teams[team])
        if team not in load:
            load[team] = who_has_fewest_open_tickets(session, team) if teams[team].auto_assign else None
        rows.append({
            "mention_id": candidate.mention_id, "brand_id": candidate.brand_id,
            "author_id": candidate.author_id,
            "intent": "complaint" if candidate.complaint else candidate.primary_intent,
            "status": "assigned" if load[team] else "new", "priority": score,
            "priority_explanation": explanation, "team": team, "assignee_id": load[team],
            "first_response_due": first_due, "resolution_due": resolution_due,
            "posted_at": candidate.created_at, "created_at": now, "updated_at": now})
        if load[team]:  # spread the batch: recompute after each assignment
            created += open_tickets(session, rows)
            rows.clear()
            load.pop(team)
    return created + open_tickets(session, rows)
