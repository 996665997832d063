"""Console output shared by the CLI modules, and the wrapper that turns errors into one line.

Text that came from outside (posts, user names, remote error messages, file names) is printed
only through :func:`shown`: square brackets stay brackets (never rich markup), ``:name:`` stays
text (never an emoji), and control characters (terminal escape sequences, bidi overrides)
are shown as ``\\x1b``-style escapes instead of acting on the terminal.
"""

from __future__ import annotations

import functools
import unicodedata

import typer
from rich.console import Console
from rich.text import Text

from brandpulse.core.errors import BrandpulseError

console = Console()
err = Console(stderr=True)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _visible(char: str) -> str:
    if char in "\n\t" or (unicodedata.category(char) not in ("Cc", "Cs") and char not in BIDI_CONTROLS):
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(value: object) -> str:
    """``value`` as text with control characters written as escapes."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(_visible(char) for char in text)


def shown(value: object, style: str = "") -> Text:
    """Outside text as a rich Text printed literally (no markup, no emoji codes, no escapes)."""
    return Text(printable(value), style=style)


def friendly(command):
    """Print BrandpulseErrors as one clear message and exit 1 instead of a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrandpulseError as exc:
            err.print(Text.assemble(("error:", "bold red"), " ", shown(exc)), highlight=False,
                      soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper
