"""Who may do what: roles, the pages each may open and the actions each may take.

Every dashboard page and every service function checks here, so a refused action is
refused whether it comes from a button, the CLI or a hand-made request.

``require`` checks the role an Actor carries. An Actor read earlier may be stale (its user
demoted or deactivated since): services that take one first call
``brandpulse.services.accounts.authorize(settings, actor, action)``, which reloads the user (and the
session) from the database and returns the fresh Actor to use from there on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brandpulse.core.errors import AccessDeniedError, LoginThrottledError, SessionEndedError  # noqa: F401

from brandpulse.core.roles import ROLES  # noqa: F401  (re-exported)

# page -> roles that may open it
PAGES: dict[str, frozenset[str]] = {
    "Overview": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "Mentions": frozenset(ROLES),
    "Care inbox": frozenset({"admin", "care_agent", "care_lead"}),
    "Incidents": frozenset({"admin", "care_lead"}),
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
    "ticket.reply": frozenset({"admin", "care_agent", "care_lead"}),  # publish a reply as the brand
    "reply.approve": frozenset({"admin", "care_lead"}),  # approve or decline an agent's reply
    "ticket.move_team": frozenset({"admin", "care_lead"}),
    "incident.manage": frozenset({"admin", "care_lead"}),  # group tickets, answer and resolve them at once
    "customer.link": frozenset({"admin", "care_agent", "care_lead"}),
    "alert.acknowledge": frozenset({"admin", "marketing", "care_lead", "brand_manager"}),
    "report.export": frozenset({"admin", "brand_manager"}),
    "users.manage": frozenset({"admin"}),
    "webhooks.manage": frozenset({"admin"}),  # subscribe other systems to events, replay deliveries
    "customer.events": frozenset({"admin", "care_lead"}),  # another system's records of a customer
    "people.export": frozenset({"admin"}),  # a subject access request: everything held on one person
    "people.forget": frozenset({"admin"}),  # erase one person everywhere (audited)
    "retention.apply": frozenset({"admin"}),  # remove what is older than the retention settings
}

# how a refusal names an action whose key does not read as words
ACTION_WORDS = {"customer.events": "record customers and their events from other systems",
                "webhooks.manage": "manage webhook subscriptions", "customer.link": "link customer accounts",
                "ticket.assign_others": "assign tickets to others", "ticket.move_team": "move tickets between teams",
                "people.export": "export everything held on a person", "people.forget": "erase a person's data",
                "retention.apply": "apply data retention"}

# API token scope -> the page it reads or the action it takes. A token is refused what its
# scopes do not name, and also what its user's role may not do now: one permission system.
SCOPES: dict[str, tuple[str, str]] = {
    "mentions:read": ("page", "Mentions"),
    "analyze": ("page", "Mentions"),
    "brands:read": ("page", "Share of voice"),
    "tickets:read": ("page", "Care inbox"),
    "tickets:write": ("action", "ticket.work"),
    "alerts:read": ("page", "Alerts"),
    "alerts:write": ("action", "alert.acknowledge"),
    "influencers:read": ("page", "Influencers"),
    "reports:export": ("action", "report.export"),
    "customers:read": ("page", "Care inbox"),
    "customers:write": ("action", "customer.events"),
    "webhooks:manage": ("action", "webhooks.manage"),
    "people:export": ("action", "people.export"),
    "people:forget": ("action", "people.forget"),
}


@dataclass(frozen=True)
class Actor:
    """The logged-in person an action is taken for (never a password, never a hash).

    ``session`` is the dashboard session's token when the Actor came from signing in; it is
    checked (expiry, revocation) each time the Actor is re-authorized.
    """
    id: int
    username: str
    role: str
    team: str | None = None
    session: str | None = field(default=None, repr=False)


def least_privileged_role() -> str:
    """The role that may take the fewest actions (then open the fewest pages): the safe default."""
    return min(ROLES, key=lambda role: (sum(role in roles for roles in ACTIONS.values()),
                                        len(pages_for(role)), ROLES.index(role)))


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
        what = ACTION_WORDS.get(action, action.replace(".", " "))
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not {what}; "
                                f"that needs one of these roles: {allowed}. Ask an admin.")


def scopes_for(role: str) -> list[str]:
    """The API scopes a token of a user with ``role`` can use."""
    return [scope for scope, (kind, name) in SCOPES.items()
            if role in (PAGES[name] if kind == "page" else ACTIONS[name])]


def require_scope(actor: Actor, granted: list[str] | tuple[str, ...], scope: str) -> None:
    """Raise AccessDeniedError unless the token grants ``scope`` and its user's role allows it now."""
    if scope not in SCOPES:
        raise KeyError(f"unknown scope {scope!r}")
    if scope not in granted:
        raise AccessDeniedError(f"this API token lacks the scope {scope!r} (it has: "
                                f"{', '.join(granted) or 'none'}); create a token with it")
    kind, name = SCOPES[scope]
    (require_page if kind == "page" else require)(actor, name)


def require_page(actor: Actor, page: str) -> None:
    """Raise AccessDeniedError unless ``actor`` may open ``page``."""
    if actor.role not in PAGES.get(page, frozenset()):
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not open the {page} page; "
                                f"it is for: {', '.join(sorted(PAGES.get(page, ())))}")


# --- care reach: whose tickets and customers a care user may read and work ------------------

def may_reach_ticket(actor: Actor, team: str | None, assignee_id: int | None = None) -> bool:
    """Whether ``actor`` may read and work a ticket of ``team`` assigned to ``assignee_id``.

    The one rule of care reach, applied by every care service (inbox, ticket detail, customer
    timeline, notes, status, assignment, bulk, drafts, linking accounts):

    - admin and care_lead: every ticket of every team (leads balance work across teams);
    - care_agent: the tickets of their own team, plus any ticket assigned to them personally
      (an agent without a team: only the latter);
    - every other role: no ticket.

    A customer's history is seen only through a ticket the actor may reach, and lists only
    those of the customer's other tickets the actor may reach too. Accounts are linked only
    from a ticket the actor may reach, and only to an author none of whose customer's tickets
    lies outside the actor's reach.
    """
    if actor.role in ("admin", "care_lead"):
        return True
    if actor.role != "care_agent":
        return False
    return (actor.team is not None and team == actor.team) or \
        (assignee_id is not None and assignee_id == actor.id)
