"""The file source: CSV / JSONL files dropped in an inbox folder, one file per page."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from brandpulse.core.errors import ImportFormatError, RecordError, SourceUnavailableError
from brandpulse.core.query import parse_query
from brandpulse.core.records import Page
from brandpulse.core.settings import BrandSettings, FileSourceSettings
from collectors.base import cursor_state
from collectors.rows import BadRow, read_rows
from collectors.tabular import ColumnMap, record_from_row
from collectors.textfile import TextReport, replaced_summary

PATTERNS = ("*.csv", "*.jsonl", "*.jsonl.gz", "*.csv.gz")


def _digest(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except (OSError, RuntimeError) as exc:  # gone, no permission, a symlink loop
        return "unreadable:" + hashlib.sha256(str(exc).encode()).hexdigest()[:16]
    if not stat.S_ISREG(mode):  # a FIFO or device would block or never end: never opened
        return f"not-a-file:{mode:o}"
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:  # unreadable: a digest of the error, so a fixed file is read again
        return "unreadable:" + hashlib.sha256(str(exc).encode()).hexdigest()[:16]
    return digest.hexdigest()[:16]


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
        seen = {name: digest for name, digest in cursor_state(cursor).items() if isinstance(digest, str)}
        files = sorted(p for pattern in PATTERNS for p in self.inbox.glob(pattern))
        digests = {p: _digest(p) for p in files}
        pending = [(p, digests[p]) for p in files if seen.get(p.name) != digests[p]]
        if not pending:
            return Page(mentions=[], next_cursor=cursor, done=True)
        path, digest = pending[0]
        page = Page(mentions=[], next_cursor=None, done=len(pending) == 1)
        try:
            self._read(path, brand, page)
        except (ImportFormatError, OSError, RuntimeError) as exc:  # the file, not a row: set aside
            page.mentions.clear()
            page.quarantined[:] = [(path.name, f"file set aside: {exc}", "")]
            page.partial_errors.append(f"inbox file {path.name} was set aside: {exc}")
        page.next_cursor = json.dumps({**seen, path.name: digest}, sort_keys=True)
        return page

    def _read(self, path: Path, brand: BrandSettings, page: Page) -> None:
        query = parse_query(brand.query)
        fmt = "jsonl" if ".jsonl" in path.suffixes else "csv"
        report = TextReport()
        for number, row in read_rows(path, fmt, report):
            if isinstance(row, BadRow):
                page.quarantined.append((f"{path.name} row {number}", row.reason, row.raw))
                continue
            try:
                record = record_from_row(row, ColumnMap(), network=self.network, brand=None,
                                         source=self.name)
            except RecordError as exc:
                page.quarantined.append((f"{path.name} row {number}", exc.reason,
                                         json.dumps(row, ensure_ascii=False, default=str)))
                continue
            if query.matches(record.text):
                record.brands = [brand.name]
                page.mentions.append(record)
        if report.truncation:
            page.quarantined.append((f"{path.name} end of file", report.truncation, ""))
            page.partial_errors.append(report.truncation)
        replaced = replaced_summary(path, report)
        if replaced:
            page.partial_errors.append(replaced)
