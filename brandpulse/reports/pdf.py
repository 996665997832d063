"""A small PDF writer for reports (fpdf2 with a Unicode font) and matplotlib charts as PNG."""

from __future__ import annotations

import functools
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render to memory
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from fpdf import FPDF  # noqa: E402

from brandpulse.core.errors import BrandpulseError  # noqa: E402
from brandpulse.reports import fonts  # noqa: E402

FONT_DIR = fonts.DEJAVU_DIR  # DejaVu ships with matplotlib
LOG = logging.getLogger(__name__)


def check_output(path: Path) -> Path:
    """``path`` if a report file can be written there; otherwise a BrandpulseError saying why
    (a folder, a folder that does not exist, no permission to write)."""
    path = Path(path).expanduser()
    folder = path.parent
    if path.is_dir():
        raise BrandpulseError(f"cannot write the report to {path}: it is a folder; "
                              f"name a file in it, e.g. {path / ('report' + (path.suffix or '.pdf'))}")
    if not folder.exists():
        raise BrandpulseError(f"cannot write the report to {path}: the folder {folder} does not exist; "
                              "create it first or choose another path")
    if not folder.is_dir():
        raise BrandpulseError(f"cannot write the report to {path}: {folder} is a file, not a folder; "
                              "choose another path")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BrandpulseError(f"cannot write the report to {path}: cannot create files in {folder} "
                              f"({exc.strerror}); choose a writable path") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise BrandpulseError(f"cannot write the report to {path}: the file is read-only; choose another path")
    return path


class ReportPdf(FPDF):
    """A4 portrait, page numbers in the footer; text in any script: DejaVu Sans, then Noto fallbacks
    (CJK, emoji, other scripts; see :mod:`brandpulse.reports.fonts`), shaped by HarfBuzz (Arabic joins)."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_text_shaping(True)
        self.fallbacks: dict[Path, str] = {}  # font file -> family, added when a text first needs it
        self.missing_glyphs: set[str] = set()  # characters no font has, printed as U+FFFD
        self.set_title(title)
        self.set_author("brandpulse")
        self.set_auto_page_break(True, margin=15)
        self.add_page()

    def normalize_text(self, text: str) -> str:
        """``text`` ready to print: the fallback fonts it needs are loaded; a character that no font has
        becomes U+FFFD (and is logged), an invisible one (a joiner, a variation selector) is left out."""
        if self.is_ttf_font and not text.isascii():
            text = "".join(self._printable(char) for char in text)
        # fpdf2 2.8 may set the font of a line that starts in a fallback font inside a q..Q that resets it,
        # and skip it on the next line (which then prints in the fallback font, invisibly): set it again
        self.current_font_is_set_on_page = False
        return super().normalize_text(text)

    def _printable(self, char: str) -> str:
        if ord(char) in self.current_font.cmap or ord(char) in self.fonts["dejavu"].cmap or char in "\n\r\t":
            return char
        path = fonts.fallback_for(char)
        if path is None:
            if fonts.is_invisible(char):
                return ""
            if char not in self.missing_glyphs:
                LOG.warning("no font has %r (U+%04X); it prints as U+FFFD", char, ord(char))
                self.missing_glyphs.add(char)
            return fonts.REPLACEMENT
        if path not in self.fallbacks:
            self.fallbacks[path] = family = f"fallback{len(self.fallbacks)}"
            self.add_font(family, "", str(path))
            self.set_fallback_fonts(list(self.fallbacks.values()), exact_match=False)
        return char

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 8, f"brandpulse · page {self.page_no()}", align="C")

    def heading(self, text: str) -> None:
        self.set_font("DejaVu", "B", 15)
        self.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def para(self, text: str, bold: bool = False, size: int = 10) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
              size: int = 9) -> None:
        self.set_font("DejaVu", "B", size)
        for title, width in zip(header, widths):
            self.cell(width, 6, str(title), border=1)
        self.ln()
        self.set_font("DejaVu", "", size)
        for row in rows:
            for value, width in zip(row, widths):
                text = str(value)
                while text and self.get_string_width(text) > width - 1:
                    text = text[:-1]
                self.cell(width, 5.5, text, border=1)
            self.ln()
        self.ln(3)

    def chart(self, png: bytes, width: float = 180) -> None:
        """Place a PNG chart across the page."""
        self.image(io.BytesIO(png), w=width)
        self.ln(2)


@functools.lru_cache(maxsize=1)
def chart_fonts() -> tuple[str, ...]:
    """Font families for chart text, in the order matplotlib falls back through them glyph by glyph:
    DejaVu Sans, then the Noto fallbacks of the PDF text (CJK, emoji, symbols, other scripts),
    registered with matplotlib once."""
    names = ["DejaVu Sans"]
    for path in fonts.fallback_files():
        font_manager.fontManager.addfont(str(path))
        name = font_manager.FontProperties(fname=str(path)).get_name()
        if name not in names:
            names.append(name)
    return tuple(names)


def in_chart_fonts(draw):
    """Run a chart function with :func:`chart_fonts` as the font family: text is laid out both when a
    figure is built and when it is saved (tick labels), so both steps need it."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with plt.rc_context({"font.family": list(chart_fonts())}):
            return draw(*args, **kwargs)
    return drawn


@in_chart_fonts
def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=130)
    plt.close(figure)
    return buffer.getvalue()


@in_chart_fonts
def bar_chart(labels: Sequence[str], values: Sequence[float], title: str) -> bytes:
    """A horizontal bar chart, largest on top."""
    figure, axis = plt.subplots(figsize=(7, 3.6))
    axis.barh(list(reversed(labels)), list(reversed(values)), color="#1f77b4")
    axis.set_title(title)
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)


@in_chart_fonts
def line_chart(labels: Sequence[str], values: Sequence[float], title: str) -> bytes:
    """A line over categories (weeks, days)."""
    figure, axis = plt.subplots(figsize=(7, 3))
    axis.plot(list(labels), list(values), marker="o", color="#d62728")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    return _png(figure)


@in_chart_fonts
def value_bar_figure(labels: Sequence[str], values: Sequence[float], title: str, *, unit: str = "",
                     axis_title: str = ""):
    """A horizontal bar chart in the given order (first on top), each bar labelled with its value
    (``unit`` appended), the value axis starting at 0; the matplotlib Figure (see ``png``)."""
    figure, axis = plt.subplots(figsize=(7, 0.9 + 0.45 * max(len(labels), 2)))
    bars = axis.barh(list(reversed(labels)), list(reversed(values)), color="#1f77b4")
    axis.bar_label(bars, labels=[f"{v:g}{unit}" for v in reversed(values)], padding=3, fontsize=8)
    axis.set_xlim(0, max([*values, 0]) * 1.15 or 1)
    axis.set_title(title)
    axis.set_xlabel(axis_title)
    axis.grid(axis="x", alpha=0.3)
    return figure


@in_chart_fonts
def trend_figure(labels: Sequence[str], values: Sequence[float], title: str, *, axis_title: str = "",
                 marks: Sequence[tuple[int, str]] = (), span: tuple[int, int] | None = None):
    """A line over categories with the y axis from 0; each (index, text) of ``marks`` circles that point
    and writes the text beside it (an alert on its spike); ``span`` (first, last index) is shaded (the
    report's period); the matplotlib Figure (see ``png``)."""
    figure, axis = plt.subplots(figsize=(7, 3.2))
    if span is not None:
        axis.axvspan(span[0] - 0.5, span[1] + 0.5, color="#1f77b4", alpha=0.08, label="this period")
        axis.legend(loc="upper left", fontsize=7, frameon=False)
    axis.plot(list(labels), list(values), marker="o", markersize=3, color="#d62728")
    top = max([*values, 0]) or 1
    axis.set_ylim(0, top * 1.3)
    for index, text in marks:
        axis.plot([labels[index]], [values[index]], marker="o", markersize=11, markerfacecolor="none",
                  markeredgecolor="black")
        axis.annotate(text, (index, values[index]), xytext=(0, 12), textcoords="offset points", fontsize=7,
                      ha="right" if index >= len(labels) / 2 else "left",
                      arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.6})
    axis.set_title(title)
    axis.set_ylabel(axis_title)
    axis.grid(alpha=0.3)
    axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    return figure


def png(figure) -> bytes:
    """A matplotlib Figure as PNG bytes (the figure is closed)."""
    return _png(figure)
