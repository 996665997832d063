"""Time buckets as sortable text ('YYYY-MM-DD' or 'YYYY-MM-DD HH'), the same on both backends."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

FORMATS = {"day": ("%Y-%m-%d", 10, "YYYY-MM-DD"), "hour": ("%Y-%m-%d %H", 13, "YYYY-MM-DD HH24")}


def time_bucket(session: Session, column, unit: str) -> ColumnElement:
    """SQL expression truncating a stored UTC time to ``unit`` ('day' or 'hour') as text."""
    _, length, pg_format = FORMATS[unit]
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), pg_format)
    return func.substr(column, 1, length)


def bucket_label(moment: datetime, unit: str) -> str:
    """The bucket text of a Python datetime, matching :func:`time_bucket`."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime(FORMATS[unit][0])


def parse_bucket(label: str, unit: str) -> datetime:
    """The aware UTC start of a bucket label."""
    return datetime.strptime(label, FORMATS[unit][0]).replace(tzinfo=timezone.utc)
