"""Influence tiers by audience size (followers, or the network's equivalent such as karma)."""

from __future__ import annotations

from typing import Literal

Tier = Literal["nano", "micro", "mid", "macro", "mega"]
# (tier, lower bound inclusive), smallest first
TIERS: tuple[tuple[Tier, int], ...] = (("nano", 0), ("micro", 10_000), ("mid", 100_000),
                                       ("macro", 500_000), ("mega", 1_000_000))
TIER_ORDER = {name: rank for rank, (name, _) in enumerate(TIERS)}


def tier_of(audience: int | None) -> Tier:
    """The tier of an audience size: nano < 10k ≤ micro < 100k ≤ mid < 500k ≤ macro < 1M ≤ mega."""
    audience = audience or 0
    found: Tier = "nano"
    for name, lower in TIERS:
        if audience >= lower:
            found = name
    return found


def at_or_above(tier: str, minimum: str) -> bool:
    """Whether ``tier`` ranks at or above ``minimum``."""
    return TIER_ORDER[tier] >= TIER_ORDER[minimum]
