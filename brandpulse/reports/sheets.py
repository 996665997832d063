"""Spreadsheet tables as a reader expects them, for every XLSX the reports write.

A sheet holds one table: a bold header row that stays in view (frozen) with filters over the
data, columns as wide as their content (within limits), numbers, percentages and dates with
number formats, web links clickable. Text is always a text cell: a post that starts with ``=``,
``+``, ``-`` or ``@`` is shown exactly as written (no apostrophe in front) and never runs as a
formula, because the cell's type is set to string and Excel's quote-prefix flag keeps it text
when someone edits it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

INTEGER, DECIMAL, PERCENT = "#,##0", "#,##0.00", "0%"
DAY, MOMENT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 60
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WEB_LINK = re.compile(r"https?://[^\s\"<>]+\Z", re.IGNORECASE)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
LONGEST_LINK = 2000  # Excel refuses longer link targets


def sheet_value(value: Any) -> Any:
    """A value as a cell should hold it: aware times as naive UTC, ISO days as dates, text without
    the control characters a workbook cannot store."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, str):
        if ISO_DAY.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    return value


def _shown_length(value: Any, number_format: str) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, (int, float)):
        if number_format == PERCENT:
            return len(f"{value:.0%}")
        return len(f"{value:,.2f}" if "." in number_format or isinstance(value, float) else f"{value:,}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _format_cell(cell, number_format: str | None) -> str:
    """Give ``cell`` its type, number format and link; return the number format used."""
    value = cell.value
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula or an error code, whatever it starts with
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
        elif WEB_LINK.match(value) and len(value) <= LONGEST_LINK:
            cell.hyperlink = value
            cell.style = "Hyperlink"
        if len(value) > MAX_WIDTH:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return ""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, datetime):
        cell.number_format = number_format or MOMENT
    elif isinstance(value, date):
        cell.number_format = number_format or DAY
    elif isinstance(value, (int, float)):
        cell.number_format = number_format or (INTEGER if isinstance(value, int) else DECIMAL)
    return cell.number_format


def format_sheet(sheet: Worksheet, formats: Mapping[str, str] | None = None, header_row: int = 1) -> None:
    """Format a sheet whose table starts with a header at ``header_row``: bold frozen header,
    filters, widths, number and date formats (``formats`` maps a header to a number format),
    links, text cells."""
    formats = formats or {}
    header = [cell.value for cell in sheet[header_row]]
    widths: dict[int, int] = {}
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        if isinstance(cell.value, str):
            cell.data_type = "s"
        widths[cell.column] = len(str(cell.value or "")) + 3  # room for the filter button
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            if cell.value is None:
                continue
            name = header[cell.column - 1] if cell.column <= len(header) else None
            used = _format_cell(cell, formats.get(name))
            widths[cell.column] = max(widths.get(cell.column, 0), _shown_length(cell.value, used))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    sheet.freeze_panes = sheet.cell(header_row + 1, 1).coordinate
    last = get_column_letter(max(sheet.max_column, 1))
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row)}"


def add_table(book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
              formats: Mapping[str, str] | None = None) -> Worksheet:
    """A new sheet named ``title`` holding ``header`` and ``rows``, formatted."""
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([sheet_value(value) for value in row])
    format_sheet(sheet, formats)
    return sheet
