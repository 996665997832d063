"""Console output shared by the CLI modules, and the wrapper that turns errors into one line."""

from __future__ import annotations

import functools

import typer
from rich.console import Console

from brandpulse.errors import BrandpulseError
from brandpulse.redaction import redact_secrets

console = Console()
err = Console(stderr=True)


def friendly(command):
    """Print BrandpulseErrors as one clear message and exit 1 instead of a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrandpulseError as exc:
            err.print(f"[bold red]error:[/] {redact_secrets(exc)}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper
