"""Which scheduled reports were produced (each period's report once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import ReportRun, utcnow


def has_report_been_made(session: Session, brand_id: int, cadence: str, period_end: datetime) -> bool:
    """Whether the report of this brand, cadence and period exists."""
    return session.execute(select(ReportRun.id).where(ReportRun.brand_id == brand_id, ReportRun.cadence == cadence,
                                                      ReportRun.period_end == period_end)).first() is not None


def record_report(session: Session, brand_id: int, cadence: str, period_end: datetime, path: str,
                  error: str | None) -> None:
    """Remember a produced (or failed) report."""
    session.execute(dialect_insert(session, ReportRun).on_conflict_do_nothing(), [{
        "brand_id": brand_id, "cadence": cadence, "period_end": period_end, "path": path,
        "delivered": error is None, "error": error, "created_at": utcnow()}])


def which_reports_were_made(session: Session, limit: int = 50) -> list[ReportRun]:
    """Produced reports, newest first."""
    return list(session.execute(select(ReportRun).order_by(ReportRun.period_end.desc(), ReportRun.id.desc())
                                .limit(limit)).scalars())
