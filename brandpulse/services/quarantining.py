"""Quarantined records as a service: list them and hand their original rows back for fixing."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Iterator

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings
from store.engine import session_scope
from store.quarantine import (
    QuarantinedRecord,
    forget_quarantined,
    how_many_records_are_quarantined,
    which_records_are_quarantined,
)

PAGE = 1000


def list_quarantined(settings: Settings, origin: str | None = None,
                     limit: int = 50) -> tuple[int, list[QuarantinedRecord]]:
    """(how many are quarantined, the oldest ``limit`` of them), of origins containing ``origin``."""
    with session_scope(settings.database.url) as session:
        return (how_many_records_are_quarantined(session, origin),
                which_records_are_quarantined(session, origin, limit))


def _all(settings: Settings, origin: str | None) -> Iterator[QuarantinedRecord]:
    after = 0
    while True:
        with session_scope(settings.database.url) as session:
            rows = which_records_are_quarantined(session, origin, PAGE, after)
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def _as_object(payload: str) -> dict | None:
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def export_quarantined(settings: Settings, output: Path, origin: str | None = None,
                       forget: bool = False) -> int:
    """Write the original rows to ``output`` (.jsonl, .csv, optionally .gz) to fix and import
    again; rows that were never valid JSON go out as their original text (JSONL) or in a
    ``raw`` column (CSV). ``forget`` deletes what was written. Return how many were written."""
    suffixes = [s.lower() for s in output.suffixes]
    fmt = "csv" if ".csv" in suffixes else "jsonl" if ".jsonl" in suffixes or ".json" in suffixes else None
    if fmt is None:
        raise BrandpulseError(f"--output {output} must end in .jsonl or .csv (optionally .gz)")
    records = [r for r in _all(settings, origin) if r.payload]  # a file-level note is not a row
    opener = gzip.open if suffixes and suffixes[-1] == ".gz" else open
    try:
        _write(opener, output, fmt, records)
    except OSError as exc:
        raise BrandpulseError(f"cannot write {output}: {exc.strerror or exc}; pick a folder you may "
                              "write to, with room left") from None
    if forget:
        with session_scope(settings.database.url) as session:
            forget_quarantined(session, [r.id for r in records])
    return len(records)


def _write(opener, output: Path, fmt: str, records: list[QuarantinedRecord]) -> None:
    with opener(output, "wt", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        if fmt == "jsonl":
            for record in records:
                handle.write(record.payload.rstrip("\r\n") + "\n")
        else:
            rows = [_as_object(r.payload) or {"raw": r.payload} for r in records]
            header = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(handle, fieldnames=header or ["raw"])
            writer.writeheader()
            for row in rows:
                writer.writerow({k: v if isinstance(v, str) or v is None else json.dumps(v)
                                 for k, v in row.items()})
