"""Re-checking recent stored posts on their network, so that deletions there are honoured.

Bluesky tells of deletions as they happen (Jetstream) and Reddit items come back ``[deleted]``;
for the rest the stored posts of the last ``deletions.recheck_days`` are looked up again, at
most ``deletions.recheck_per_run`` per network per run, walking forward from where the last run
stopped: X (tweet lookup, 100 ids a call, billed like search and kept within
``sources.x.daily_cap_usd``), Reddit (``/api/info``) and Mastodon (one status a call). A post the
network answers as gone is erased (reason ``deleted``) with one audit row, in one transaction
with the spend and the resume point. The run shows in source health as the source's
"deletions re-check" row, so ``brandpulse doctor`` shows its last error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brandpulse.core.errors import CollectorError
from brandpulse.core.settings import Settings
from brandpulse.services.collect_results import unexpected
from brandpulse.services.collect_sources import enabled_collectors
from collectors.base import cursor_state
from store.collectors import (
    record_collector_degraded,
    record_collector_failure,
    record_collector_success,
    save_cursor,
    what_cursor_is_saved,
    what_did_source_spend_today,
    when_may_source_run,
)
from store.deletions import erase_deleted_posts, which_posts_to_recheck
from store.engine import session_scope
from store.spend import reserve_spend, settle_spend
from store.models import utcnow

RECHECK = "deletions re-check"  # the (source, brand) row of the re-check in health, spend and cursors


@dataclass
class RecheckResult:
    """What one network's re-check did."""
    source: str
    checked: int = 0
    erased: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)


def recheck_deletions(settings: Settings, now: datetime | None = None) -> list[RecheckResult]:
    """Re-check each enabled network that can look its posts up again (X, Reddit, Mastodon)."""
    if not settings.deletions.recheck:
        return []
    results = []
    for name, collector in enabled_collectors(settings).items():
        if callable(getattr(collector, "recheck", None)):
            try:
                results.append(_recheck(settings, name, collector, now or utcnow()))
            except Exception as exc:  # noqa: BLE001 - one network failing never stops the others
                results.append(RecheckResult(name, errors=[str(unexpected(name, RECHECK, "re-checking", exc))]))
    return results


def _budget(settings: Settings, session, name: str, collector, now: datetime) -> int | None:
    """How many posts the daily spend cap still pays for (None: not billed)."""
    price = getattr(collector, "price_per_item", 0.0)
    cap = getattr(getattr(settings.sources, name, None), "daily_cap_usd", None)
    if not price or cap is None:
        return None
    left = cap - what_did_source_spend_today(session, name, now.strftime("%Y-%m-%d"))
    return max(0, math.floor(left / price + 1e-9))


def _recheck(settings: Settings, name: str, collector, now: datetime) -> RecheckResult:
    url, rules = settings.database.url, settings.deletions
    result = RecheckResult(name)
    with session_scope(url) as session:
        until, state = when_may_source_run(session, name, RECHECK)
        budget = _budget(settings, session, name, collector, now)
        after = cursor_state(what_cursor_is_saved(session, name, RECHECK)).get("after_id")
        after = after if isinstance(after, int) and after >= 0 else 0
        limit = rules.recheck_per_run if budget is None else min(rules.recheck_per_run, budget)
        posts = which_posts_to_recheck(session, collector.network, now - timedelta(days=rules.recheck_days),
                                       after, limit) if limit else []
        price, day = float(getattr(collector, "price_per_item", 0.0) or 0.0), now.strftime("%Y-%m-%d")
        reserved = price * len(posts) if price and posts and not (until and until > now) else 0.0
        if reserved and not reserve_spend(session, name, RECHECK, reserved, day,
                                          getattr(getattr(settings.sources, name, None), "daily_cap_usd", None))[0]:
            limit, reserved = 0, 0.0  # other workers' pages took what was left of the cap meanwhile
    # the reservation is committed: other workers count it before they fetch
    if until and until > now:
        result.skipped = True
        result.errors.append(f"{name} is {state.replace('_', ' ')} until {until:%Y-%m-%d %H:%M} UTC; re-check skipped")
        return result
    if not limit:
        result.skipped = True
        result.errors.append(f"{name} reached its daily spend cap; re-check skipped until tomorrow")
        return result
    try:
        page = collector.recheck([(native_id, raw) for _, native_id, raw in posts]) if posts else None
    except CollectorError as exc:
        result.errors.append(str(exc))
        with session_scope(url) as session:
            settle_spend(session, name, RECHECK, reserved, 0.0, day)  # nothing was read: give it back
            record_collector_failure(session, name, RECHECK, str(exc))
        return result
    next_after = posts[-1][0] if len(posts) == limit else 0  # the end of the window: start over next time
    with session_scope(url) as session:
        if page is not None:
            result.erased = erase_deleted_posts(session, page.deleted, f"collector:{name}")
            read = page.items_read if page.items_read is not None else len(posts)
            if reserved:
                settle_spend(session, name, RECHECK, reserved, price * read, day)
            result.errors.extend(page.partial_errors)
        save_cursor(session, name, RECHECK, json.dumps({"after_id": next_after}))
        next_run = now + timedelta(hours=rules.interval_hours)
        if result.errors:
            record_collector_degraded(session, name, RECHECK, len(posts), "; ".join(result.errors), next_run)
        else:
            record_collector_success(session, name, RECHECK, len(posts), next_run)
    result.checked = len(posts)
    return result
