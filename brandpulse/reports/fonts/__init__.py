"""Fonts for text in any script in PDF reports.

DejaVu Sans (shipped with matplotlib) sets Latin, Greek, Cyrillic, Arabic and Hebrew; a character it
lacks is set in the first Noto fallback that has it: Noto Sans, Noto Sans Symbols, Noto Emoji
(monochrome), the Noto Sans faces of other scripts (package ``manimgx-fonts``) and Noto Sans CJK SC
(``NotoSansCJKsc-subset.otf`` beside this file: the regular weight, cut to GB 2312 level 1, JIS X 0208
level 1, the KS X 1001 Hangul, kana and CJK punctuation, about 8,000 characters; rebuild it with
``python -m brandpulse.reports.fonts`` after ``pip install manimgx-fonts-cjk``). A character that no
font has prints as U+FFFD (a visible mark), never as nothing.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import matplotlib

DEJAVU_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
CJK_FILE = Path(__file__).with_name("NotoSansCJKsc-subset.otf")
REPLACEMENT = "\ufffd"  # in DejaVu Sans
FIRST = ("NotoSans[wght].ttf", "NotoSansSymbols[wght].ttf", "NotoEmoji[wght].ttf")


@lru_cache(maxsize=1)
def fallback_files() -> tuple[Path, ...]:
    """The fallback font files in the order they are tried."""
    try:
        import manimgx_fonts
    except ImportError:  # pragma: no cover - a declared dependency
        noto: list[Path] = []
    else:
        root = Path(manimgx_fonts.__file__).parent
        scripts = sorted(p for p in root.glob("NotoSans?*.ttf") if p.name not in FIRST and "Italic" not in p.name)
        noto = [*(root / name for name in FIRST), *scripts]
    return tuple(p for p in (*noto[:3], CJK_FILE, *noto[3:]) if p.exists())


@lru_cache(maxsize=None)
def coverage(path: Path) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(path), lazy=True).getBestCmap())


def fallback_for(char: str) -> Path | None:
    """The first fallback font file that has ``char``; None if none has it."""
    code = ord(char)
    return next((path for path in fallback_files() if code in coverage(path)), None)


def is_invisible(char: str) -> bool:
    """Joiners, variation selectors and other format characters: nothing to print when no font has them."""
    return unicodedata.category(char) == "Cf" or 0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF


def build_cjk_subset(output: Path = CJK_FILE) -> Path:
    """Cut Noto Sans CJK SC (from ``manimgx-fonts-cjk``) to the regular weight and common characters."""
    import manimgx_fonts_cjk
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    def charset(codec: str, leads: range) -> set[str]:
        out = set()
        for lead in leads:
            for trail in range(0xA1, 0xFF):
                try:
                    out.add(bytes([lead, trail]).decode(codec))
                except UnicodeDecodeError:
                    pass
        return out

    hangul = {c for c in charset("euc_kr", range(0xB0, 0xC9)) if 0xAC00 <= ord(c) <= 0xD7A3}
    extra = {chr(c) for c in (*range(0x3000, 0x3100), *range(0x3130, 0x3190), *range(0xFF00, 0xFFF0))}
    text = charset("gb2312", range(0xB0, 0xD8)) | charset("euc_jp", range(0xB0, 0xD0)) | hangul | extra
    source = Path(manimgx_fonts_cjk.__file__).parent / "NotoSansCJK-VF.otf.ttc"
    font = TTFont(str(source), fontNumber=2)  # 2: the SC face
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, text)))
    subsetter.subset(font)
    font = instancer.instantiateVariableFont(font, {"wght": 400})  # minutes
    font.save(str(output))
    return output

