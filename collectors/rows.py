"""CSV and JSON Lines files as numbered rows; a row that cannot be parsed comes as a BadRow.

Rows keep what the user had: a CSV row as its column → cell mapping (header order),
a JSONL row as the parsed object, a bad JSONL line as its text. Problems of the file
as a whole (replaced bytes, an early end) are collected in a :class:`TextReport`.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from brandpulse.core.errors import ImportFormatError
from collectors.textfile import TextReport, text_lines

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class BadRow:
    """A row that could not even be parsed: its original text and why."""
    raw: str
    reason: str


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (write null or a finite number)")


def parse_json_line(line: str) -> dict[str, Any] | str:
    """The object on one JSON line, or the reason it is not a usable one."""
    try:
        obj = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return f"invalid JSON ({exc.msg}, column {exc.colno})"
    except RecursionError:
        return "JSON nested too deeply to parse"
    except ValueError as exc:  # NaN/Infinity, integers of thousands of digits
        return f"invalid JSON: {exc}"
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    return obj


class _Lines:
    """The file's lines for the CSV reader, remembering what each row took; lines can be put back."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.source, self.back, self.taken = lines, [], []

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.back.pop() if self.back else next(self.source)
        self.taken.append(line)
        return line

    def put_back(self, lines: list[str]) -> None:
        self.back.extend(reversed(lines))


def _delimiter(header_line: str) -> str:
    """Comma, or the semicolon (European Excel) or tab that splits the header into more columns."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _csv_rows(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    feed = _Lines(lines)
    first = next(feed, "")
    feed.put_back([first])
    reader = csv.reader(feed, delimiter=_delimiter(first))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFormatError(f"{path} has an unreadable header row ({exc}); "
                                "CSV imports need a header") from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportFormatError(f"{path} has no header row; CSV imports need one")
    twice = sorted({name for name in header if header.count(name) > 1 and name.strip()})
    if twice:
        raise ImportFormatError(f"{path} has the column(s) {', '.join(map(repr, twice))} more than once; "
                                "rename or delete the copies so each column means one thing")
    number = 1
    while True:
        number += 1
        feed.taken = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield number, BadRow(feed.taken[0].rstrip("\r\n") if feed.taken else "", f"unreadable CSV: {exc}")
            feed.put_back(feed.taken[1:])
            continue
        if not cells:
            continue
        if len(feed.taken) > 1 and len(cells) != len(header):
            # a quote opened and never closed swallowed the lines after it: set the first line
            # aside and read the others again on their own
            yield number, BadRow(feed.taken[0].rstrip("\r\n"),
                                 "a quoted cell is never closed (an unbalanced \" in this line); "
                                 "the rows after it were read on their own")
            feed.put_back(feed.taken[1:])
            continue
        row = dict(zip(header, cells))
        if len(cells) > len(header):
            yield number, BadRow(json.dumps(cells, ensure_ascii=False),
                                 f"{len(cells) - len(header)} more cell(s) than header columns")
            continue
        for column in header[len(cells):]:
            row.setdefault(column, None)
        yield number, row


def read_rows(path: Path, fmt: str,
              report: TextReport | None = None) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Yield (row number, row) pairs; unparseable rows come as :class:`BadRow`.

    CSV row numbers count the header as row 1 (as a spreadsheet does); JSONL rows are
    line numbers. ``report`` collects replaced bytes and an early end of the file.
    """
    if fmt not in ("csv", "jsonl"):
        raise ImportFormatError(f"format {fmt!r} is not supported; use csv or jsonl")
    report = report if report is not None else TextReport()
    lines = text_lines(Path(path), report)
    if fmt == "csv":
        yield from _csv_rows(Path(path), lines)
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed = parse_json_line(line)
        yield number, (parsed if isinstance(parsed, dict) else BadRow(line.rstrip("\r\n"), parsed))
