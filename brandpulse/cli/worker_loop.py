"""One worker loop for the CLI's outbox workers (`replies publish`, `webhooks deliver`)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping

from brandpulse.cli.console import console
from brandpulse.core.redaction import configure_logging


def run_rounds(step: Callable[[], Mapping[str, int]], *, loop: bool, interval: float, idle_text: str,
               rest_when_busy: bool = True) -> None:
    """Run ``step`` once, or with ``loop`` until SIGTERM / Ctrl-C, printing what each busy round did.

    Between rounds it waits ``interval`` seconds; with ``rest_when_busy`` False it goes straight on
    while a round found work, and waits only when one found none.
    """
    configure_logging()
    stop = threading.Event()
    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    while True:
        outcome = step()
        if outcome or not loop:
            console.print(", ".join(f"{n} {state}" for state, n in sorted(outcome.items())) or idle_text,
                          markup=False)
        if not loop or stop.is_set():
            break
        if (outcome and not rest_when_busy) or not stop.wait(interval):
            continue
        break
