"""Import CSV / JSONL exports into the store, quarantining malformed rows.

Every row ends stored or quarantined with its reason and its whole original text;
nothing a row holds can fail the rest of the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from brandpulse.core.errors import ImportFormatError, RecordError
from brandpulse.core.query import parse_query
from brandpulse.core.records import NETWORKS, MentionRecord
from brandpulse.core.settings import Settings, tracked_brands
from collectors.rows import BadRow, read_rows
from collectors.tabular import ColumnMap, record_from_row
from collectors.textfile import TextReport, regular_file, replaced_summary
from store.brands import sync_brands
from store.engine import session_scope
from store.fitness import text_problem
from store.mentions import quarantine, save_mentions
from store.models import Mention

BATCH = 2000
SHOWN = 10  # quarantined rows an import reports by row number
SOURCE_LENGTH = Mention.__table__.c.source.type.length


@dataclass
class ImportResult:
    """What an import did; ``quarantined`` rows are kept in the store with their reason,
    ``suppressed`` rows (of people who were forgotten) are dropped and only counted."""
    path: str
    rows: int = 0
    inserted: int = 0
    existing: int = 0
    repeated: int = 0
    quarantined: int = 0
    suppressed: int = 0  # rows of forgotten people (erased posts or authors): dropped, never stored
    unmatched: int = 0
    seconds: float = 0.0
    first_quarantined: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class BrandMatcher:
    """Names each record's brands: a configured brand named in the row (any letter case), or
    every configured query that matches; a brand not in config.yaml is refused."""

    def __init__(self, settings: Settings) -> None:
        tracked = tracked_brands(settings)
        self.queries = [(b.name, parse_query(b.query)) for b in tracked]
        self.names = {b.name.casefold(): b.name for b in tracked}

    def resolve(self, name: str) -> str:
        """The configured spelling of ``name``; RecordError when config.yaml has no such brand."""
        found = self.names.get(name.strip().casefold())
        if found is None:
            raise RecordError(f"brand {name[:80]!r} is not in config.yaml (configured: "
                              f"{', '.join(sorted(self.names.values()))}); add it under brands: or "
                              "fix the brand column", "brand")
        return found

    def assign(self, record: MentionRecord) -> bool:
        """Fill ``record.brands`` from the queries when empty; False when nothing matches."""
        if record.brands:
            record.brands = sorted({self.resolve(name) for name in record.brands})
        else:
            record.brands = sorted({name for name, query in self.queries if query.matches(record.text)})
        return bool(record.brands)


def source_label(prefix: str, name: str, limit: int = SOURCE_LENGTH) -> str:
    """``prefix:name`` cut to the source column's length, a short digest keeping it distinct."""
    label = f"{prefix}:{name}"
    if len(label) <= limit:
        return label
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{label[:limit - 7]}~{digest}"


def row_payload(row: dict[str, Any] | BadRow) -> str:
    """The whole original row as text: a bad line as it was, a parsed row as JSON (with \\u
    escapes where it holds a lone surrogate, so the text stays valid UTF-8 as the file was)."""
    if isinstance(row, BadRow):
        return row.raw
    text = json.dumps(row, ensure_ascii=False, default=str)
    return text if text_problem(text) is None else json.dumps(row, default=str)


def file_origin(path: Path) -> str:
    """The quarantine origin of an import: the file and its version (size, modification time),
    so importing a changed file under the same name keeps the earlier file's bad rows."""
    regular_file(path)
    info = path.stat()
    stamp = datetime.fromtimestamp(info.st_mtime, timezone.utc)
    return f"import:{os.path.abspath(path)} ({info.st_size} bytes, {stamp:%Y-%m-%d %H:%M:%S} UTC)"


def import_file(settings: Settings, path: Path | str, fmt: str | None = None, *,
                network: str | None = None, brand: str | None = None,
                mappings: list[str] | None = None,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Load a CSV or JSONL file (plain or gzip); bad rows are quarantined and the rest goes on.

    Re-importing the same file adds nothing (mentions are upserted on network +
    native id). ``progress`` is called with the number of rows read so far.
    """
    path = Path(path)
    fmt = fmt or ("jsonl" if ".jsonl" in path.suffixes or ".json" in path.suffixes else "csv")
    if network is not None and network not in NETWORKS:
        raise ImportFormatError(f"--network {network!r} is not one of {', '.join(NETWORKS)}")
    columns = ColumnMap.parse(mappings or [])
    matcher = BrandMatcher(settings)
    if brand is not None:
        try:
            brand = matcher.resolve(brand)
        except RecordError as exc:
            raise ImportFormatError(f"--brand: {exc.reason}") from None
    result = ImportResult(path=str(path))
    origin = file_origin(path)
    source = source_label("import", path.name)
    started = time.perf_counter()
    url = settings.database.url
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
    batch: list[MentionRecord] = []
    bad: list[tuple[str, str, str]] = []
    where: dict[int, tuple[str, str]] = {}  # id(record) -> (location, payload)

    def set_aside(location: str, reason: str, payload: str) -> None:
        bad.append((location, reason, payload))
        result.quarantined += 1
        if len(result.first_quarantined) < SHOWN:
            result.first_quarantined.append((location, reason))

    def flush() -> None:
        with session_scope(url) as session:
            saved = save_mentions(session, batch)
            for record, reason in saved.rejected:
                location, payload = where[id(record)]
                set_aside(location, reason, payload)
            for location, reason, payload in bad:
                quarantine(session, origin, location, reason, payload)
        result.inserted += saved.inserted
        result.existing += saved.existing
        result.repeated += saved.repeated
        result.suppressed += saved.suppressed
        batch.clear()
        bad.clear()
        where.clear()

    report = TextReport()
    for number, row in read_rows(path, fmt, report):
        result.rows += 1
        location = f"row {number}"
        if isinstance(row, BadRow):
            set_aside(location, row.reason, row.raw)
        else:
            try:
                record = record_from_row(row, columns, network=network, brand=brand, source=source)
                matched = matcher.assign(record)
            except RecordError as exc:
                set_aside(location, exc.reason, row_payload(row))
            except (ValueError, TypeError, OverflowError, RecursionError) as exc:
                set_aside(location, f"unreadable row ({exc.__class__.__name__}: {str(exc)[:200]})",
                          row_payload(row))
            else:
                result.unmatched += not matched
                where[id(record)] = (location, row_payload(row))
                batch.append(record)
        if len(batch) + len(bad) >= BATCH:
            flush()
            if progress:
                progress(result.rows)
    if report.truncation:  # kept with the file's bad rows, but it is a note, not a row
        bad.append(("end of file", report.truncation, ""))
        result.first_quarantined.append(("end of file", report.truncation))
        result.warnings.append(report.truncation)
    flush()
    replaced = replaced_summary(path, report)
    if replaced:
        result.warnings.append(replaced)
    if progress:
        progress(result.rows)
    result.seconds = time.perf_counter() - started
    return result

