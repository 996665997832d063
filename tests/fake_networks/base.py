"""The common part of the network fakes: a threaded HTTP server with state, faults and a request log."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from brandpulse.core.settings_replies import ReplyAccount

from tests.fakeserver import write_reply


FAULTS = ("429", "503", "401", "403", "accept_then_stall")


@dataclass
class Answer:
    status: int = 200
    body: object = None  # JSON-encoded unless str
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False


def iso(ts: float | None = None) -> str:
    """An ISO-8601 UTC time with milliseconds, as Mastodon and Bluesky write them."""
    moment = datetime.fromtimestamp(ts if ts is not None else time.time(), timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeNetwork:
    """Common machinery; each network's fake fills ``handle_call`` and ``error``."""

    network = ""
    secrets: dict[str, str] = {}

    def __init__(self, handle: str = "nimbus", stall_seconds: float = 5.0, port: int = 0) -> None:
        self.handle, self.stall_seconds = handle, stall_seconds
        self.created: list[dict] = []
        self.requests: list[dict] = []
        self.deleted: set[str] = set()
        self.faults: list[tuple[str, str | None, float]] = []
        self.lock = threading.RLock()
        self.released = threading.Event()  # set on close: stalled answers end at once
        self.ids = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                kind = self.headers.get("content-type") or ""
                data = json.loads(raw) if raw and "json" in kind else {
                    k: v[0] for k, v in parse_qs(raw).items()}
                call = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw, "data": data}
                with server.lock:
                    server.requests.append(call)
                    answer = server.handle_call(call)
                if answer.stall:
                    server.released.wait(server.stall_seconds)
                body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                write_reply(self, answer.status, {"Content-Type": "application/json; charset=utf-8",
                                                  **answer.headers}, body.encode())

            do_GET = do_POST = _serve  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.host = f"127.0.0.1:{self.httpd.server_port}"

    def inject(self, kind: str, times: int = 1, reason: str | None = None, reset_in: float = 120) -> None:
        """The next ``times`` create calls fail as ``kind`` (one of FAULTS)."""
        if kind not in FAULTS:
            raise ValueError(f"fault {kind!r} is not one of {FAULTS}")
        with self.lock:
            self.faults += [(kind, reason, reset_in)] * times

    def delete(self, native_id: str) -> None:
        with self.lock:
            self.deleted.add(native_id)

    def replies_to(self, native_id: str) -> list[dict]:
        with self.lock:
            return [post for post in self.created if post["in_reply_to"] == native_id]

    def calls(self, path_part: str, method: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if path_part in r["path"] and method in (None, r["method"])]

    def create(self, make) -> Answer:
        """A create call, with the next injected fault applied."""
        kind, reason, reset_in = self.faults.pop(0) if self.faults else (None, None, 0)
        if kind and kind != "accept_then_stall":
            return self.error(int(kind), reason, reset_at=time.time() + reset_in)
        answer = make()
        answer.stall = kind == "accept_then_stall"
        return answer

    def record(self, **post) -> dict:
        self.created.append(post)
        return post

    def account(self, account_id: str | None = None, brand: str = "Nimbus Mobile",
                timeout_seconds: float = 1.0, **extra) -> ReplyAccount:
        return ReplyAccount(id=account_id or f"fake_{self.network}", brand=brand, network=self.network,
                            handle=self.handle, base_url=self.url, timeout_seconds=timeout_seconds, **extra)

    def env(self, account_id: str | None = None, **wrong) -> dict[str, str]:
        """The environment variables the account's secrets are read from (``wrong`` overrides some)."""
        names = self.account(account_id).secret_names()
        return {names[name]: wrong.get(name, value) for name, value in self.secrets.items()}

    def handle_call(self, call: dict) -> Answer:
        raise NotImplementedError

    def error(self, status: int, reason: str | None, reset_at: float = 0) -> Answer:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _bearer(call: dict) -> str:
    return re.sub(r"^(?i:bearer)\s+", "", call["headers"].get("authorization", ""))


