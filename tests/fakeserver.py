"""A local HTTP server that replays recorded API responses (tests/fixtures/recordings).

Routes match on method + path; each route serves its replies in order and repeats
the last one. Faults are plain replies: a 429 with headers, a 503, a malformed body,
a delay longer than the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"
HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding",
               "date", "server"}  # the local server sends its own Date and Server


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0


def recorded(path: str, index: int = 0, **overrides) -> Reply:
    """Reply ``index`` of a recording file, e.g. ``recorded("x/search_recent_basic.json")``."""
    interaction = json.loads((RECORDINGS / path).read_text())["interactions"][index]
    response = interaction["response"]
    headers = {k: v for k, v in response["headers"].items() if k.lower() not in HOP_HEADERS}
    reply = Reply(status=response["status"], body=response["body"], headers=headers)
    for key, value in overrides.items():
        setattr(reply, key, value)
    return reply


def body_of(path: str, index: int = 0) -> dict:
    """The decoded JSON body of a recorded reply (to build variations from)."""
    return json.loads(recorded(path, index).body)


def write_reply(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
    """Send one HTTP reply; a client that already hung up (it timed out) is not an error."""
    try:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass


class FakeServer:
    """``with FakeServer() as server: server.route("GET", "/2/...", reply1, reply2)``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.served: dict[tuple[str, str], int] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                reply = server._next(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                if reply.delay:
                    time.sleep(reply.delay)
                write_reply(self, reply.status, reply.headers, reply.body.encode())

            do_GET = do_POST = _serve  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def route(self, method: str, path: str, *replies: Reply) -> "FakeServer":
        self.routes[(method, path)] = list(replies)
        self.served[(method, path)] = 0
        return self

    def _next(self, method: str, path: str, query: dict, headers: dict, body: str) -> Reply:
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "headers": headers,
                                  "body": body})
            replies = self.routes.get((method, path))
            if not replies:
                return Reply(404, json.dumps({"error": f"no route for {method} {path}"}))
            index = self.served[(method, path)]
            self.served[(method, path)] = index + 1
            return replies[min(index, len(replies) - 1)]

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def __enter__(self) -> "FakeServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
