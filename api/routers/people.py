"""/v1/people: data rights over the API — everything held on one person, or forget them (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import needs, settings_of
from brandpulse.core.records import NETWORKS
from brandpulse.core.settings import Settings
from brandpulse.services import people
from brandpulse.services.access import Actor

router = APIRouter(tags=["people"])
NETWORK_WORDS = f"the network of the handle or native id: {', '.join(NETWORKS)}"


class PersonExport(BaseModel):
    format: str = Field(description="the export's format name and version")
    exported_at: datetime
    exported_by: str
    person: dict[str, list[int]] = Field(description="the internal customer and author ids found")
    counts: dict[str, int] = Field(description="rows per table")
    tables: dict[str, list[dict[str, Any]]] = Field(description="every row the person appears in, per table")
    withheld: dict[str, int] = Field(default_factory=dict, description="other people's post texts quoted in "
                                     "those rows (topic representatives, alert evidence), withheld")


class ForgetIn(BaseModel):
    # not reversible: a misspelt field ("with_linkd") or a coerced value (customer_id: true is customer 1,
    # "1" a number) is refused with 422 instead of forgetting someone other than meant
    model_config = ConfigDict(extra="forbid", strict=True)

    network: Optional[str] = Field(default=None, description=NETWORK_WORDS, examples=["x"])
    handle: Optional[str] = Field(default=None, max_length=200, examples=["dana"])
    native_id: Optional[str] = Field(default=None, max_length=200, description="the network's own author id")
    customer_id: Optional[int] = Field(default=None, ge=1, le=2**63 - 1)
    external_id: Optional[str] = Field(default=None, max_length=200, description="your own id of a customer")
    with_linked: bool = Field(default=False, description="forgetting an author also forgets the customer it is "
                                                         "linked to and that customer's other accounts")


class ForgetOut(BaseModel):
    erasure_id: int = Field(description="the audit-log entry of this erasure")
    counts: dict[str, int] = Field(description="rows changed per table")


@router.get("/people/export", response_model=PersonExport, summary="Everything held on one person")
def export_person(
    actor: Annotated[Actor, Depends(needs("people:export"))],
    settings: Annotated[Settings, Depends(settings_of)],
    network: Annotated[Optional[str], Query(description=NETWORK_WORDS)] = None,
    handle: Annotated[Optional[str], Query(max_length=200)] = None,
    native_id: Annotated[Optional[str], Query(max_length=200)] = None,
    customer_id: Annotated[Optional[int], Query(ge=1, le=2**63 - 1)] = None,
    external_id: Annotated[Optional[str], Query(max_length=200)] = None,
) -> PersonExport:
    """A subject access request: the person's accounts, posts with their analyses, tickets, notes
    naming them, replies, customer links and events, influence scores and alerts citing them.
    Name the person by `network` with `handle` or `native_id`, or by `customer_id` or `external_id`."""
    selector = people.PersonSelector(network=network, handle=handle, native_id=native_id,
                                     customer_id=customer_id, external_id=external_id)
    return PersonExport(**people.export_person(settings, actor, selector))


@router.post("/people/forget", response_model=ForgetOut, summary="Forget one person everywhere")
def forget_person(body: ForgetIn, actor: Annotated[Actor, Depends(needs("people:forget"))],
                  settings: Annotated[Settings, Depends(settings_of)]) -> ForgetOut:
    """Erase the person's post texts, raw payloads, profiles, identities and events, scrub their
    handle from notes, drafts and alert evidence, and remember their ids so a re-collection does
    not bring them back. Counts and rollups stay. Recorded in the audit log; not reversible."""
    summary = people.forget_person(settings, actor, people.PersonSelector(**body.model_dump()))
    return ForgetOut(erasure_id=summary.erasure_id, counts=summary.counts)
