"""Triage: complaints and questions become prioritised, routed care tickets."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from brandpulse.settings import CareSettings, Settings
from store.brands import sync_brands
from store.engine import session_scope
from store.models import utcnow
from store.tickets import (TicketCandidate, open_tickets, sla_deadlines,
                           which_mentions_need_tickets, who_has_fewest_open_tickets)

WEIGHTS = {"complaint": 0.30, "negativity": 0.20, "severity": 0.10, "influence": 0.20,
           "velocity": 0.10, "recency": 0.10}
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
    """The team of the first routing rule that matches, else the default team."""
    intent = "complaint" if candidate.complaint else (candidate.primary_intent or "other")
    for rule in care.routing:
        if rule.brand and rule.brand != candidate.brand:
            continue
        if rule.network and rule.network != candidate.network:
            continue
        if rule.language and rule.language != (candidate.language or ""):
            continue
        if rule.intent and rule.intent != intent:
            continue
        if rule.min_followers is not None and (candidate.followers or 0) < rule.min_followers:
            continue
        return rule.team
    return care.default_team


def triage_new(settings: Settings, now: datetime | None = None) -> int:
    """Open tickets for analysed complaints/questions not yet ticketed; return how many."""
    now = now or utcnow()
    care = settings.care
    teams = {team.name: team for team in care.teams}
    since = now - timedelta(days=care.ticket_max_age_days)
    created = 0
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)  # competitor flags follow config.yaml
        candidates = which_mentions_need_tickets(session, care.ticket_intents, since)
        rows = []
        load: dict[str, int | None] = {}
        for candidate in candidates:
            score, explanation = priority_score(priority_components(candidate, now))
            team = route(care, candidate)
            first_due, resolution_due = sla_deadlines(now, teams[team].first_response_minutes,
                                                      teams[team].resolution_hours)
            if team not in load:
                load[team] = who_has_fewest_open_tickets(session, team)
            rows.append({
                "mention_id": candidate.mention_id, "brand_id": candidate.brand_id,
                "author_id": candidate.author_id,
                "intent": "complaint" if candidate.complaint else candidate.primary_intent,
                "status": "assigned" if load[team] else "new", "priority": score,
                "priority_explanation": explanation, "team": team, "assignee_id": load[team],
                "first_response_due": first_due, "resolution_due": resolution_due,
                "created_at": now, "updated_at": now})
            if load[team]:  # spread the batch: recompute after each assignment
                created += open_tickets(session, rows)
                rows.clear()
                load.pop(team)
        created += open_tickets(session, rows)
    return created
