"""Claim work rows (analysis, replies, webhook deliveries) for one worker, at most a batch of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, update
from sqlalchemy.engine import Result
from sqlmodel import Session


def update_chosen(session: Session, model, chosen: Select, values: dict[str, Any], returning: tuple) -> Result:
    """Update the rows whose ids ``chosen`` selects (at most its LIMIT) and return ``returning``.

    PostgreSQL picks them once, in a materialized CTE, with FOR UPDATE SKIP LOCKED so workers
    never take one row twice: written as ``id IN (subquery ... LIMIT n)``, the planner may run the
    subquery again per row and update more than ``n`` rows (seen: 30 claimed for a batch of 10).
    SQLite runs one writer at a time, so its UPDATE is atomic by itself.
    """
    if session.get_bind().dialect.name == "postgresql":
        picked = chosen.with_for_update(of=model, skip_locked=True).cte("chosen").prefix_with("MATERIALIZED")
        statement = update(model).where(model.id == picked.c.id)
    else:
        statement = update(model).where(model.id.in_(chosen.scalar_subquery()))
    return session.execute(statement.values(**values).returning(*returning)
                           .execution_options(synchronize_session=False))
