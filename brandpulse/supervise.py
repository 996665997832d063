"""Run a server as a child that never outlives us: signals are passed on, a child that ignores
them is killed after a grace period, and the kernel ends it if we are killed with -9."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from typing import Mapping, Sequence

GRACE_SECONDS = 10.0
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_supervised(command: Sequence[str], env: Mapping[str, str] | None = None,
                   grace_seconds: float = GRACE_SECONDS) -> int:
    """Run ``command`` until it exits; return its exit code (0 when we stopped it on a signal).

    SIGTERM, SIGINT and SIGHUP sent to us are passed to the child; if it has not exited
    ``grace_seconds`` later it is killed, so stopping brandpulse always stops the server.
    """
    child = subprocess.Popen(list(command), env=dict(env) if env is not None else None,
                             preexec_fn=_die_with_parent)
    asked_at: list[float] = []  # when we were asked to stop (empty: not asked)

    def forward(signum, _frame) -> None:
        asked_at.append(time.monotonic())
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if asked_at and time.monotonic() - asked_at[0] >= grace_seconds:  # ignored us
                    child.kill()
                    child.wait()
                    code = 0
                    break
    finally:
        if child.poll() is None:  # we are leaving for another reason (an exception): no orphan
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if asked_at and code in (0, -signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP) else code


def start_children(command: Sequence[str], count: int, env: Mapping[str, str] | None = None
                   ) -> list[subprocess.Popen]:
    """Start ``count`` copies of ``command``; each dies with us, even when we are killed with -9."""
    return [subprocess.Popen(list(command), env=dict(env) if env is not None else None,
                             preexec_fn=_die_with_parent) for _ in range(count)]


def stop_children(children: Sequence[subprocess.Popen], grace_seconds: float = GRACE_SECONDS) -> None:
    """Ask each child to stop (SIGTERM: it finishes its current job), kill whichever is still up
    ``grace_seconds`` later, and reap them all."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
