"""Open an export as decoded text lines, whatever the user really has.

Handles gzip (by its magic bytes, whatever the name), Excel's UTF-8 byte-order mark,
invalid UTF-8 (replaced, counted per line, never silently) and a file that ends early
(a truncated download). Files that are not text at all (binary, zip, an Excel
workbook, UTF-16) are refused with one clear :class:`ImportFormatError`.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from brandpulse.errors import ImportFormatError

SNIFF = 8192
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
REPLACEMENT = "\ufffd"
_READ_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile)


@dataclass
class TextReport:
    """What reading the file noticed: lines whose bytes were replaced, an early end."""
    replaced_lines: list[int] = field(default_factory=list)
    replaced_bytes: int = 0
    truncated_after_line: int | None = None
    truncation: str | None = None


def _open_binary(path: Path, compressed: bool) -> BinaryIO:
    return gzip.open(path, "rb") if compressed else path.open("rb")


def _sniff(path: Path) -> tuple[bool, bytes]:
    """(whether the file is gzip-compressed, its first decoded bytes); refuse what is not text."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF)
    compressed = head.startswith(GZIP_MAGIC)
    if path.suffix.lower() == ".gz" and not compressed:
        raise ImportFormatError(
            f"{path} is named .gz but is not gzip-compressed (it starts with {head[:8]!r}); "
            "rename it without .gz if it is plain CSV or JSON Lines, or compress it again")
    if head.startswith(ZIP_MAGIC):
        raise ImportFormatError(
            f"{path} is a zip archive (an Excel .xlsx workbook is one), not CSV or JSON Lines; "
            "in Excel use Save As > 'CSV UTF-8', or unzip it first")
    if compressed:
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(SNIFF)
        except _READ_ERRORS as exc:
            raise ImportFormatError(f"{path} is not a readable gzip file ({exc}); "
                                    "download or compress it again") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError(f"{path} is UTF-16 text (Excel's 'Unicode Text'); "
                                "save it as 'CSV UTF-8' and import that")
    sample = head.removeprefix(b"\xef\xbb\xbf")
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13) or byte == 127)
    if sample and (controls > len(sample) // 10 or sample.count(0) > max(8, len(sample) // 100)):
        raise ImportFormatError(
            f"{path} looks binary ({controls} control bytes in its first {len(sample)}), "
            "not CSV or JSON Lines text; export the data as CSV UTF-8 or JSON Lines")
    return compressed, head


def _decode(line: bytes, number: int, report: TextReport) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", errors="replace")
        replaced = text.count(REPLACEMENT) - line.count(REPLACEMENT.encode("utf-8"))
        report.replaced_lines.append(number)
        report.replaced_bytes += max(replaced, 1)
        return text


def text_lines(path: Path, report: TextReport) -> Iterator[str]:
    """Decoded lines (with their line endings) of a text or gzip file; ``report`` fills as it goes.

    Raises ImportFormatError up front for files that are not text; a file that ends early
    (truncated gzip) stops the lines and is noted in ``report`` instead of raising.
    """
    if not path.is_file():
        raise ImportFormatError(f"import file {path} does not exist or is not a file")
    compressed, _ = _sniff(path)
    number = 0
    with _open_binary(path, compressed) as handle:
        lines = iter(handle)
        while True:
            try:
                raw = next(lines)
            except StopIteration:
                return
            except _READ_ERRORS as exc:
                report.truncated_after_line = number
                report.truncation = (f"{path.name} ends early after line {number} ({exc}); the rows "
                                     "before were read, the rest is lost: download or export it again")
                return
            number += 1
            text = _decode(raw, number, report)
            if number == 1:
                text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" byte-order mark
            yield text


def replaced_summary(path: Path, report: TextReport) -> str | None:
    """One message about replaced bytes, or None when every byte was valid UTF-8."""
    if not report.replaced_lines:
        return None
    first = ", ".join(str(n) for n in report.replaced_lines[:5])
    return (f"{path.name}: {report.replaced_bytes} invalid UTF-8 byte(s) on {len(report.replaced_lines)} "
            f"line(s) (first: {first}) were replaced with U+FFFD; re-export the file as UTF-8 "
            "to keep the original characters")
