"""Brands and their competitors, kept in step with config.yaml."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from brandpulse.core.errors import BrandpulseError
from store.bulk import dialect_insert
from store.models import Brand, BrandRival, utcnow


def sync_brands(session: Session, brands) -> dict[str, int]:
    """Create or update the configured brands, competitors and rivalries; return ids by name."""
    ids: dict[str, int] = {}
    own_names = {b.name for b in brands}

    def upsert(name: str, query: str, is_competitor: bool) -> int:
        # insert-or-ignore first, so two processes starting together never clash on the name
        session.execute(dialect_insert(session, Brand).on_conflict_do_nothing(index_elements=["name"]),
                        [{"name": name, "query": query, "is_competitor": is_competitor, "created_at": utcnow()}])
        brand = session.exec(select(Brand).where(Brand.name == name)).one()
        brand.query = query
        brand.is_competitor = is_competitor and name not in own_names
        session.flush()
        return brand.id

    for brand in brands:
        ids[brand.name] = upsert(brand.name, brand.query, False)
    for brand in brands:
        for rival in brand.competitors:
            if rival.name not in ids:
                ids[rival.name] = upsert(rival.name, rival.query, True)
            session.execute(dialect_insert(session, BrandRival).on_conflict_do_nothing(),
                            [{"brand_id": ids[brand.name], "rival_id": ids[rival.name]}])
    return ids


def which_brands_are_tracked(session: Session, include_competitors: bool = True) -> list[Brand]:
    """All brands, own first then competitors, by name."""
    statement = select(Brand).order_by(Brand.is_competitor, Brand.name)
    if not include_competitors:
        statement = statement.where(Brand.is_competitor == False)  # noqa: E712
    return list(session.exec(statement))


def who_are_the_rivals_of(session: Session, brand_id: int) -> list[Brand]:
    """The competitors configured for a brand."""
    statement = (select(Brand).join(BrandRival, BrandRival.rival_id == Brand.id)
                 .where(BrandRival.brand_id == brand_id).order_by(Brand.name))
    return list(session.exec(statement))


def brand_named(session: Session, name: str) -> Brand | None:
    """The brand with this name (case-insensitive), if tracked."""
    return session.exec(select(Brand).where(func.lower(Brand.name) == name.lower())).first()


def the_brand_named(session: Session, name: str) -> Brand:
    """The tracked brand with this name, or an error naming the brands that are tracked."""
    brand = brand_named(session, name)
    if brand is None:
        known = ", ".join(b.name for b in which_brands_are_tracked(session)) or "none yet"
        raise BrandpulseError(f"brand {name!r} is not tracked (tracked: {known}); check the name in config.yaml")
    return brand
