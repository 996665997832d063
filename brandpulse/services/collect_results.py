"""What a collection pass of one (source, brand) did, and how an unexpected failure is told."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from brandpulse.core.errors import CollectorError
from collectors.base import problem

log = logging.getLogger("brandpulse.services.collecting")


@dataclass
class CollectResult:
    """What one pass of one (source, brand) did.

    ``outcome``: ok (partial errors possible), waiting (rate limited, usage or spend capped, or
    leased by another process: not a failure), or failed (the pass ended on an error).
    """
    source: str
    brand: str
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    quarantined: int = 0
    rejected_by_query: int = 0
    erased: int = 0  # stored mentions whose post the network reported deleted: text erased
    suppressed: int = 0  # posts of forgotten people (erased posts or authors): dropped, never stored
    skipped: bool = False
    gap_backfilled: bool = False
    errors: list[str] = field(default_factory=list)
    outcome: str = "ok"


Progress = Callable[[CollectResult, bool], None]  # (result so far, finished?)


def every_source_failed(results: list[CollectResult]) -> bool:
    """True when some (source, brand) failed and none worked: the pass got nothing and needs a look.

    Pairs that only wait (rate limit, usage or spend cap, another process's lease) are neither.
    """
    return any(r.outcome == "failed" for r in results) and not any(r.outcome == "ok" for r in results)


def unexpected(source: str, brand: str, doing: str, exc: BaseException) -> CollectorError:
    """An exception brandpulse did not expect, as a CollectorError naming where it happened."""
    log.warning("%s / %s failed %s", source, brand, doing, exc_info=exc)
    return CollectorError(f"{source} failed for brand {brand!r} while {doing} ({problem(exc)}); the "
                          "other sources went on and this one is retried at the next run; if it "
                          f"repeats, check sources.{source} in config.yaml or report it with the "
                          "log of `brandpulse run`", source=source)
