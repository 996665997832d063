"""Data-rights tables: the erasure audit log and the suppression list.

Neither holds personal data: the audit log names internal ids and counts, and the suppression
list keeps only a sha256 digest of a network's own id for an erased author or post, so that a
re-collection or re-import can recognise and drop it without the store remembering who it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from store.models import utcnow


class Erasure(SQLModel, table=True):
    """One erasure run: a person forgotten, posts deleted on their network, or retention applied."""
    __tablename__ = "erasures"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # forget | network_delete | retention
    actor: str = Field(max_length=100)  # the admin's username, "scheduler", or "collector:<network>"
    scope: str = Field(default="", max_length=300)  # internal ids and settings only, never a handle
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="running", max_length=20)  # running | done
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: Optional[datetime] = None


class Suppression(SQLModel, table=True):
    """A network id that must never be stored again: ``kind`` is author or post."""
    __tablename__ = "suppressions"
    network: str = Field(max_length=20, primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    digest: str = Field(max_length=64, primary_key=True)  # sha256 hex of "network:kind:native_id"
    erasure_id: Optional[int] = Field(default=None, foreign_key="erasures.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
