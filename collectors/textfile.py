"""Open an export as decoded text lines, whatever the user really has.

Handles gzip (by its magic bytes, whatever the name; concatenated members too), Excel's
UTF-8 byte-order mark, invalid UTF-8 (replaced, counted per line, never silently) and a
file that ends early (a truncated download: every line before the cut is kept). Files
that are not text at all (binary, zip, an Excel workbook, UTF-16) and paths that are not
regular files (a FIFO, a device) are refused with one clear :class:`ImportFormatError`.
"""

from __future__ import annotations

import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from brandpulse.core.errors import ImportFormatError

SNIFF = 8192
CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
REPLACEMENT = "\ufffd"


@dataclass
class TextReport:
    """What reading the file noticed: lines whose bytes were replaced, an early end."""
    replaced_lines: list[int] = field(default_factory=list)
    replaced_bytes: int = 0
    truncated_after_line: int | None = None
    truncation: str | None = None


def regular_file(path: Path) -> None:
    """Refuse anything but a readable regular file (a FIFO or device would block or never end)."""
    try:
        mode = path.stat().st_mode
    except (OSError, RuntimeError) as exc:  # missing, permission, a symlink loop
        raise ImportFormatError(f"import file {path} does not exist or cannot be read "
                                f"({getattr(exc, 'strerror', None) or exc}); check the path") from None
    if not stat.S_ISREG(mode):
        raise ImportFormatError(f"import file {path} is not a regular file (a folder, pipe or device); "
                                "point at the export file itself")


def _raw_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


def _gunzip(chunks: Iterator[bytes], report: TextReport) -> Iterator[bytes]:
    """The decompressed bytes of (possibly concatenated) gzip members, as far as they go: data
    cut short yields everything before the cut and notes it in ``report`` instead of raising."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for chunk in chunks:
        while chunk:
            try:
                out = inflater.decompress(chunk)
            except zlib.error as exc:
                report.truncation = f"its gzip data is damaged ({exc})"
                return
            if out:
                yield out
            chunk = b""
            if inflater.eof:  # a member ended; another may follow (cat a.gz b.gz)
                rest = inflater.unused_data
                if rest.strip(b"\x00"):
                    inflater, chunk = zlib.decompressobj(16 + zlib.MAX_WBITS), rest
    if not inflater.eof:
        report.truncation = "it ends in the middle of its gzip data (a cut download?)"


def _sniff(path: Path) -> bool:
    """Whether the file is gzip-compressed; refuse what is not text."""
    regular_file(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF)
    compressed = head.startswith(GZIP_MAGIC)
    if path.suffix.lower() == ".gz" and not compressed and head:
        raise ImportFormatError(
            f"{path} is named .gz but is not gzip-compressed (it starts with {head[:8]!r}); "
            "rename it without .gz if it is plain CSV or JSON Lines, or compress it again")
    if head.startswith(ZIP_MAGIC):
        raise ImportFormatError(
            f"{path} is a zip archive (an Excel .xlsx workbook is one), not CSV or JSON Lines; "
            "in Excel use Save As > 'CSV UTF-8', or unzip it first")
    if compressed:
        probe = TextReport()
        head = b"".join(_gunzip(iter([head]), probe))[:SNIFF]
        if not head and probe.truncation and "damaged" in probe.truncation:
            raise ImportFormatError(f"{path} is not a readable gzip file ({probe.truncation}); "
                                    "download or compress it again")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError(f"{path} is UTF-16 text (Excel's 'Unicode Text'); "
                                "save it as 'CSV UTF-8' and import that")
    sample = head.removeprefix(b"\xef\xbb\xbf")
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13) or byte == 127)
    if sample and (controls > len(sample) // 10 or sample.count(0) > max(8, len(sample) // 100)):
        raise ImportFormatError(
            f"{path} looks binary ({controls} control bytes in its first {len(sample)}), "
            "not CSV or JSON Lines text; export the data as CSV UTF-8 or JSON Lines")
    return compressed


def _lines(blocks: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(line with its ending, complete?) from blocks of bytes (a long line is joined once)."""
    parts: list[bytes] = []
    for block in blocks:
        start = 0
        while True:
            end = block.find(b"\n", start)
            if end < 0:
                if start < len(block):
                    parts.append(block[start:])
                break
            parts.append(block[start:end + 1])
            yield b"".join(parts), True
            parts, start = [], end + 1
    if parts:
        yield b"".join(parts), False


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

    Raises ImportFormatError up front for paths that are not text files; a file that ends
    early stops the lines there (its last, partial line dropped) and is noted in ``report``.
    """
    compressed = _sniff(path)
    cut = TextReport()
    blocks = _gunzip(_raw_chunks(path), cut) if compressed else _raw_chunks(path)
    number = 0
    for raw, complete in _lines(blocks):
        if not complete and cut.truncation:
            break  # the half line a cut left: not a row
        number += 1
        text = _decode(raw, number, report)
        if number == 1:
            text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" byte-order mark
        yield text
    if cut.truncation:
        report.truncated_after_line = number
        report.truncation = (f"{path.name} ends early after line {number}: {cut.truncation}; the rows "
                             "before were read, the rest is lost: download or export it again")


def replaced_summary(path: Path, report: TextReport) -> str | None:
    """One message about replaced bytes, or None when every byte was valid UTF-8."""
    if not report.replaced_lines:
        return None
    first = ", ".join(str(n) for n in report.replaced_lines[:5])
    return (f"{path.name}: {report.replaced_bytes} invalid UTF-8 byte(s) on {len(report.replaced_lines)} "
            f"line(s) (first: {first}) were replaced with U+FFFD; re-export the file as UTF-8 "
            "to keep the original characters")
