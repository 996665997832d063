"""One pipeline-stage protocol over batches, and the runner that isolates failures.

A stage declares the fields it ``reads`` and ``writes`` on each :class:`Doc` (as
spaCy components do), and processes a whole batch at once. When a stage fails on
a batch, the runner retries it one doc at a time so only the bad doc is marked
failed (with its reason) and the rest of the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable


@dataclass
class Doc:
    """One text going through analysis, with the fields stages have written so far."""
    key: Any
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skip_scoring: bool = False


@runtime_checkable
class Stage(Protocol):
    name: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    def process(self, docs: Sequence[Doc]) -> None:
        """Write this stage's fields on every doc of the batch."""


def run_stages(stages: Sequence[Stage], docs: Sequence[Doc]) -> list[Doc]:
    """Run each stage over the live docs; a doc that fails keeps its error and drops out."""
    for stage in stages:
        live = [doc for doc in docs if doc.error is None]
        if not live:
            break
        try:
            stage.process(live)
        except Exception:  # isolate the failing doc(s)
            for doc in live:
                try:
                    stage.process([doc])
                except Exception as exc:  # noqa: BLE001 - recorded, never fatal for the batch
                    doc.error = f"{stage.name} failed: {type(exc).__name__}: {exc}"[:2000]
    return list(docs)
