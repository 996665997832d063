"""Who may do what: roles, the pages each may open and the actions each may take.

Every dashboard page and every service function checks here, so a refused action is
refused whether it comes from a button, the CLI or a hand-made request.
"""

from __future__ import annotations

from dataclasses import dataclass

from brandpulse.errors import AccessDeniedError

ROLES = ("admin", "marketing", "care_agent", "care_lead", "brand_manager")

# page -> roles that may open it
PAGES: dict[str, frozenset[str]] = {
    "Overview": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "Mentions": frozenset(ROLES),
    "Care inbox": frozenset({"admin", "care_agent", "care_lead"}),
    "Share of voice": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "Topics": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "Influencers": frozenset({"admin", "marketing", "brand_manager"}),
    "Alerts": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "Sources": frozenset({"admin", "marketing", "care_lead"}),
    "Users": frozenset({"admin"}),
}

# action -> roles that may take it
ACTIONS: dict[str, frozenset[str]] = {
    "ticket.work": frozenset({"admin", "care_agent", "care_lead"}),  # claim, status, notes, drafts
    "ticket.assign_others": frozenset({"admin", "care_lead"}),
    "ticket.bulk": frozenset({"admin", "care_lead"}),
    "customer.link": frozenset({"admin", "care_agent", "care_lead"}),
    "alert.acknowledge": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "report.export": frozenset({"admin", "brand_manager"}),
    "users.manage": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Actor:
    """The logged-in person an action is taken for (never a password, never a hash)."""
    id: int
    username: str
    role: str
    team: str | None = None


def pages_for(role: str) -> list[str]:
    """The pages ``role`` may open, in menu order."""
    return [page for page, roles in PAGES.items() if role in roles]


def may(actor: Actor, action: str) -> bool:
    """Whether ``actor`` may take ``action``."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    return actor.role in ACTIONS[action]


def require(actor: Actor, action: str) -> None:
    """Raise AccessDeniedError unless ``actor`` may take ``action``."""
    if not may(actor, action):
        allowed = ", ".join(sorted(ACTIONS[action]))
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not {action.replace('.', ' ')}; "
                                f"that needs one of these roles: {allowed}. Ask an admin.")


def require_page(actor: Actor, page: str) -> None:
    """Raise AccessDeniedError unless ``actor`` may open ``page``."""
    if actor.role not in PAGES.get(page, frozenset()):
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not open the {page} page; "
                                f"it is for: {', '.join(sorted(PAGES.get(page, ())))}")
