"""The base of every settings section: frozen, unknown keys are errors, numbers are finite."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    """Base for every settings section: unknown keys, inf/nan and NUL characters are errors.

    Every int and float field also carries an upper bound (``le``/``lt``): a test walks
    the models and fails on one without, so ``1e308`` or ``10**30`` never reaches a timer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str) and "\x00" in value:
                    raise ValueError(f"{key} contains a NUL character (\\0); remove it")
        return data
