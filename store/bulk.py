"""Bulk upsert: executemany on SQLite, COPY into a temporary table then one INSERT on PostgreSQL."""

from __future__ import annotations

from typing import Any, Sequence

from psycopg.types.json import Json
from sqlalchemy import JSON, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

CHUNK = 500


def dialect_insert(session: Session, model):
    """INSERT with ON CONFLICT support for the session's database."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


def upsert_rows(session: Session, model, rows: Sequence[dict[str, Any]], conflict: Sequence[str],
                update: Sequence[str] = (), keep_known: Sequence[str] = ()) -> None:
    """Insert ``rows``; on a ``conflict`` key clash update ``update`` columns (or do nothing).

    Columns in ``keep_known`` keep their stored value when the new one is NULL (unknown is not
    a reason to forget what we knew).
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_upsert(session, model.__table__, rows, conflict, update, keep_known)
        return
    table = model.__table__
    for start in range(0, len(rows), CHUNK):
        statement = dialect_insert(session, model)
        if update:
            statement = statement.on_conflict_do_update(
                index_elements=list(conflict),
                set_={c: func.coalesce(statement.excluded[c], table.c[c]) if c in keep_known
                      else statement.excluded[c] for c in update})
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        session.execute(statement, list(rows[start:start + CHUNK]))


def _copy_upsert(session: Session, table, rows, conflict, update, keep_known=()) -> None:
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    quoted = ", ".join(f'"{c}"' for c in columns)
    temp = f"_bulk_{table.name}"
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    cursor.execute(f'CREATE TEMP TABLE {temp} ON COMMIT DROP AS '
                   f'SELECT {quoted} FROM "{table.name}" WITH NO DATA')
    with cursor.copy(f"COPY {temp} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in json_columns and row[c] is not None else row[c]
                            for c in columns])
    assignments = [f'"{c}" = COALESCE(EXCLUDED."{c}", "{table.name}"."{c}")' if c in keep_known
                   else f'"{c}" = EXCLUDED."{c}"' for c in update]
    action = "DO UPDATE SET " + ", ".join(assignments) if update else "DO NOTHING"
    cursor.execute(f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM {temp} '
                   f'ON CONFLICT ({", ".join(conflict)}) {action}')
