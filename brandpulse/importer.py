"""Import CSV / JSONL exports into the store, quarantining malformed rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from brandpulse.errors import RecordError
from brandpulse.query import parse_query
from brandpulse.records import MentionRecord
from brandpulse.settings import Settings, tracked_brands
from collectors.tabular import BadRow, ColumnMap, read_rows, record_from_row
from store.brands import sync_brands
from store.engine import session_scope
from store.mentions import quarantine, save_mentions

BATCH = 2000


@dataclass
class ImportResult:
    """What an import did; ``quarantined`` rows are kept in the store with their reason."""
    path: str
    rows: int = 0
    inserted: int = 0
    existing: int = 0
    repeated: int = 0
    quarantined: int = 0
    unmatched: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class BrandMatcher:
    """Assigns brands to records that name none, by each configured query."""

    def __init__(self, settings: Settings) -> None:
        self.queries = [(b.name, parse_query(b.query)) for b in tracked_brands(settings)]

    def assign(self, record: MentionRecord) -> bool:
        """Fill ``record.brands`` from the queries when empty; False when nothing matches."""
        if not record.brands:
            record.brands = sorted({name for name, query in self.queries if query.matches(record.text)})
        return bool(record.brands)


def import_file(settings: Settings, path: Path | str, fmt: str | None = None, *,
                network: str | None = None, brand: str | None = None,
                mappings: list[str] | None = None,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Load a CSV or JSONL file; bad rows are quarantined and the rest goes on.

    Re-importing the same file adds nothing (mentions are upserted on network +
    native id). ``progress`` is called with the number of rows read so far.
    """
    path = Path(path)
    fmt = fmt or ("jsonl" if ".jsonl" in path.suffixes or ".json" in path.suffixes else "csv")
    columns = ColumnMap.parse(mappings or [])
    matcher = BrandMatcher(settings)
    result = ImportResult(path=str(path))
    origin = f"import:{path.resolve()}"
    started = time.perf_counter()
    url = settings.database.url
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
    batch: list[MentionRecord] = []
    bad: list[tuple[str, str, str]] = []

    def flush() -> None:
        with session_scope(url) as session:
            saved = save_mentions(session, batch)
            for location, reason, payload in bad:
                quarantine(session, origin, location, reason, payload)
        result.inserted += saved.inserted
        result.existing += saved.existing
        result.repeated += saved.repeated
        batch.clear()
        bad.clear()

    for number, row in read_rows(path, fmt):
        result.rows += 1
        if isinstance(row, BadRow):
            bad.append((f"row {number}", row.reason, row.raw))
            result.quarantined += 1
        else:
            try:
                record = record_from_row(row, columns, network=network, brand=brand,
                                         source=f"import:{path.name}")
            except RecordError as exc:
                bad.append((f"row {number}", exc.reason, str(row)))
                result.quarantined += 1
            else:
                if not matcher.assign(record):
                    result.unmatched += 1
                batch.append(record)
        if len(batch) + len(bad) >= BATCH:
            flush()
            if progress:
                progress(result.rows)
    flush()
    if progress:
        progress(result.rows)
    result.seconds = time.perf_counter() - started
    return result
