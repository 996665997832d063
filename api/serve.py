"""Serve the API with uvicorn: in the foreground (`brandpulse api`) or beside other work in a thread."""

from __future__ import annotations

import threading
import time

import uvicorn

from api.app import create_app
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings


def server_for(settings: Settings, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    """A uvicorn server of the API over ``settings`` (default host and port: ``api.host``/``api.port``)."""
    config = uvicorn.Config(create_app(settings), host=host or settings.api.host,
                            port=settings.api.port if port is None else port,
                            log_level="warning", access_log=False, server_header=False,
                            timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


def serve_in_thread(settings: Settings, host: str | None = None, port: int | None = None,
                    wait_s: float = 90) -> tuple[uvicorn.Server, threading.Thread]:
    """Start the API in a daemon thread and return once it accepts connections (a taken port
    fails at once; a start slowed by a busy machine is waited for up to ``wait_s``)."""
    server = server_for(settings, host, port)
    thread = threading.Thread(target=server.run, name="brandpulse-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise BrandpulseError(f"the API could not start on {server.config.host}:{server.config.port} "
                                  "(is the port taken?); set api.port to a free port")
        time.sleep(0.05)
    return server, thread


def base_url(server: uvicorn.Server) -> str:
    """The http:// address a started server answers on (its real port when 0 was asked for)."""
    sockets = [s for srv in getattr(server, "servers", []) for s in srv.sockets]
    port = sockets[0].getsockname()[1] if sockets else server.config.port
    host = server.config.host
    host = "127.0.0.1" if host in ("0.0.0.0", "localhost") else (f"[{host}]" if ":" in host else host)
    return f"http://{host}:{port}"
