"""One pipeline-stage protocol over batches, and the runner that isolates failures.

A stage declares the fields it ``reads`` and ``writes`` on each :class:`Doc` (as
spaCy components do), and processes a whole batch at once. The runner uses those
declarations to run neighbouring stages that do not depend on each other at the same
time, each on its own thread (the transformer and spaCy release the GIL in their
native code, so two cores are both kept busy). When a stage fails on a batch, the
runner retries it one doc at a time so only the bad doc is marked failed (with its
reason) and the rest of the batch goes on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
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


def independent(stage: Stage, group: Sequence[Stage]) -> bool:
    """True when ``stage`` neither reads nor writes what ``group`` writes, nor writes what it reads."""
    written = {name for other in group for name in other.writes}
    read = {name for other in group for name in other.reads}
    return not (written & (set(stage.reads) | set(stage.writes)) or read & set(stage.writes))


def concurrent_groups(stages: Sequence[Stage]) -> list[list[Stage]]:
    """Consecutive stages grouped so that the stages of a group can run at the same time."""
    groups: list[list[Stage]] = []
    for stage in stages:
        if groups and independent(stage, groups[-1]):
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


@lru_cache(maxsize=1)
def _workers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="brandpulse-stage")


def run_isolated(stage: Stage, docs: Sequence[Doc]) -> None:
    """Run one stage over a batch; on failure retry doc by doc and record each failure."""
    try:
        stage.process(docs)
    except Exception:  # isolate the failing doc(s)
        for doc in docs:
            try:
                stage.process([doc])
            except Exception as exc:  # noqa: BLE001 - recorded, never fatal for the batch
                doc.error = f"{stage.name} failed: {type(exc).__name__}: {exc}"[:2000]


def run_stages(stages: Sequence[Stage], docs: Sequence[Doc]) -> list[Doc]:
    """Run the stages over the live docs; a doc that fails keeps its error and drops out."""
    for group in concurrent_groups(stages):
        live = [doc for doc in docs if doc.error is None]
        if not live:
            break
        others = [_workers().submit(run_isolated, stage, live) for stage in group[1:]]
        run_isolated(group[0], live)
        for future in others:
            future.result()
    return list(docs)
