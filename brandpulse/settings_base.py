"""The base of every settings section: frozen, and unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base for every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
