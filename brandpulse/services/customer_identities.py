"""Taking an identity away from a customer: the partner's CRM says an address or handle is no
longer theirs (or never was), and the accounts it linked stop being the customer's."""

from __future__ import annotations

from typing import Any

from brandpulse.core.errors import BrandpulseError, NotFoundError
from brandpulse.core.records import NETWORKS
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.accounts import authorize
from brandpulse.services.customers import authors_matching_handle, customer_called, describe_customer, normalise_identity
from store import customer_records as records
from store.engine import session_scope
from store.models import utcnow
from store.webhooks import enqueue_event


def remove_identity(settings: Settings, actor: Actor, external_id: str, kind: str, value: str) -> dict[str, Any]:
    """Remove identity (kind, value) from the customer called ``external_id`` and unlink the
    accounts it linked (a handle's author of that network); return the customer as it is now.

    NotFoundError when the customer does not hold that identity; nothing else is touched then.
    """
    actor = authorize(settings, actor, "customer.events")
    try:
        value = normalise_identity(kind, value)
    except ValueError as exc:
        raise BrandpulseError(f"identity value: {exc}") from None
    with session_scope(settings.database.url) as session:
        customer = customer_called(session, external_id)
        removed = records.remove_identity(session, customer.id, kind, value)
        if removed is None:
            raise NotFoundError(f"customer {external_id[:200]!r} has no {kind} identity {value!r}; "
                                f"GET /v1/customers/{external_id[:200]} lists the ones it has")
        linked = {a.id for a in authors_matching_handle(session, kind, value)} if kind in NETWORKS else set()
        if removed.author_id:
            linked.add(removed.author_id)
        unlinked = sorted(a.id for a in records.which_authors_are_this_customer(session, customer.id) if a.id in linked)
        records.unlink_authors_from_customer(session, customer.id, unlinked)
        customer.updated_at = utcnow()
        session.flush()
        session.expire_all()
        described = describe_customer(session, customer_called(session, external_id))
        enqueue_event(session, "customer.updated", f"customer:{customer.id}", {
            "customer": {**described, "created_at": described["created_at"].isoformat(),
                         "updated_at": described["updated_at"].isoformat()},
            "removed_identity": {"kind": kind, "value": value}, "unlinked_authors": unlinked, "by": actor.username})
        return described
