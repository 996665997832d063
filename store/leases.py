"""Leases in the store, so two `brandpulse run` processes never collect one source at once."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Lease, utcnow


def holder_process(holder: str) -> tuple[str, int | None]:
    """(host, pid) of a lease holder named ``host:pid`` or ``host:pid:thread`` (pid None if unreadable)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host, int(pid) if pid.isdigit() else None


def _holder_is_dead(holder: str) -> bool:
    """Whether ``holder`` is a process of this machine that no longer exists."""
    host, pid = holder_process(holder)
    if host != socket.gethostname() or pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


def take_lease(session: Session, name: str, holder: str, ttl_seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while someone else holds it. A lease
    whose holder was a process of this machine that is gone (killed) is free at once, not when it
    lapses."""
    now = utcnow()
    current = session.execute(select(Lease.holder).where(Lease.name == name, Lease.expires_at >= now)).scalar()
    if current is not None and current != holder and _holder_is_dead(current):
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == current))
    statement = dialect_insert(session, Lease).values(name=name, holder=holder,
                                                      expires_at=now + timedelta(seconds=ttl_seconds))
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=or_(Lease.expires_at < now, Lease.holder == holder))
    session.execute(statement)
    session.flush()
    return session.execute(select(Lease.holder).where(Lease.name == name)).scalar() == holder


def give_back_lease(session: Session, name: str, holder: str) -> None:
    """Release a lease early (only its holder can)."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def who_holds_lease(session: Session, name: str) -> tuple[str, datetime] | None:
    """(holder, expiry) of a live lease, or None."""
    row = session.execute(select(Lease.holder, Lease.expires_at).where(
        Lease.name == name, Lease.expires_at >= utcnow())).first()
    return (row[0], row[1]) if row else None


_STOPPING = threading.Event()  # set while this process shuts down


def stop_waiting_for_leases(stopping: bool = True) -> None:
    """While this process shuts down (``stopping``), a wait in :func:`exclusive` gives up at once,
    so a stop is not held up by another process's lease; ``False`` when it starts again."""
    if stopping:
        _STOPPING.set()
    else:
        _STOPPING.clear()


def take_lease_waiting(url: str, name: str, holder: str, ttl_seconds: float, wait_seconds: float) -> bool:
    """:func:`take_lease` in its own transaction, tried again until taken or ``wait_seconds`` have
    passed or this process is stopping (:func:`stop_waiting_for_leases`)."""
    from store.engine import session_scope

    deadline = time.monotonic() + wait_seconds
    while True:
        with session_scope(url) as session:
            taken = take_lease(session, name, holder, ttl_seconds)
        if taken or time.monotonic() >= deadline or _STOPPING.wait(0.2):
            return taken


@contextmanager
def exclusive(url: str, name: str, ttl_seconds: float, wait_seconds: float = 120.0) -> Iterator[bool]:
    """Hold the lease ``name`` for this thread while the block runs; yield False (and run
    nothing exclusive) when another holder keeps it past ``wait_seconds`` or this process is
    stopping (:func:`stop_waiting_for_leases`). A killed holder's lease lapses after ``ttl_seconds``."""
    from store.engine import session_scope

    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    taken = take_lease_waiting(url, name, holder, ttl_seconds, wait_seconds)
    try:
        yield taken
    finally:
        if taken:
            with session_scope(url) as session:
                give_back_lease(session, name, holder)
