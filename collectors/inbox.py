"""The file source: CSV / JSONL files dropped in an inbox folder, one file per page."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from brandpulse.errors import RecordError, SourceUnavailableError
from brandpulse.query import parse_query
from brandpulse.records import Page
from brandpulse.settings import BrandSettings, FileSourceSettings
from collectors.tabular import BadRow, ColumnMap, read_rows, record_from_row

PATTERNS = ("*.csv", "*.jsonl", "*.jsonl.gz", "*.csv.gz")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class InboxCollector:
    """Reads each new or changed file of the inbox once; the cursor lists file digests."""

    name = "file"

    def __init__(self, settings: FileSourceSettings) -> None:
        self.inbox = Path(settings.inbox)
        self.network = settings.network

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        if not self.inbox.is_dir():
            raise SourceUnavailableError(f"inbox folder {self.inbox} does not exist; create it or "
                                         "set sources.file.inbox in config.yaml", source=self.name)
        seen: dict[str, str] = json.loads(cursor) if cursor else {}
        files = sorted(p for pattern in PATTERNS for p in self.inbox.glob(pattern))
        pending = [(p, _digest(p)) for p in files if seen.get(p.name) != _digest(p)]
        if not pending:
            return Page(mentions=[], next_cursor=cursor, done=True)
        path, digest = pending[0]
        query = parse_query(brand.query)
        fmt = "jsonl" if ".jsonl" in path.suffixes else "csv"
        page = Page(mentions=[], next_cursor=None, done=len(pending) == 1)
        for number, row in read_rows(path, fmt):
            if isinstance(row, BadRow):
                page.quarantined.append((f"{path.name} row {number}", row.reason, row.raw))
                continue
            try:
                record = record_from_row(row, ColumnMap(), network=self.network, brand=None,
                                         source=self.name)
            except RecordError as exc:
                page.quarantined.append((f"{path.name} row {number}", exc.reason, str(row)))
                continue
            if query.matches(record.text):
                record.brands = [brand.name]
                page.mentions.append(record)
        page.next_cursor = json.dumps({**seen, path.name: digest}, sort_keys=True)
        return page
