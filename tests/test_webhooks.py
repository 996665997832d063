"""Signed webhooks reach a real local receiver that verifies every signature: from real ticket changes
and triage, in order per ticket, retried on a backoff until dead, disabled when failing, replayed,
never to private addresses unless allowed, and at least once through a kill -9 of the worker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from brandpulse.core.errors import BrandpulseError
from brandpulse.services import care, webhooks
from brandpulse.services.accounts import create_user
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.triage import triage_new
from brandpulse.services.webhook_delivery import BACKOFF_SECONDS, deliver_due
from store.engine import session_scope
from store.models import Ticket
from store.models_api import WebhookDelivery, WebhookEvent
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import NOW, post

CARE = {"teams": [{"name": "care", "auto_assign": False}], "default_team": "care"}
HOOKS = {"allow_private_hosts": ["127.0.0.1"], "timeout_seconds": 1}


class Receiver:
    """An HTTP receiver on 127.0.0.1 that verifies Standard Webhooks signatures and records arrivals."""

    def __init__(self, delay: float = 0.0):
        self.secret: str | None = None
        self.arrived: list[dict] = []  # verified messages: id, type, subject, data
        self.refused: list[str] = []  # why a request failed verification
        self.answers: list[int] = []  # status codes to answer, in turn; then 200
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                problem = receiver.verify(self.headers, body)
                time.sleep(receiver.delay)
                with receiver.lock:
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    if problem:
                        receiver.refused.append(problem)
                        code = 401
                    else:
                        message = json.loads(body)
                        receiver.arrived.append({"id": self.headers["webhook-id"], "type": message["type"],
                                                 "data": message["data"], "code": code})
                self.send_response(code)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/brandpulse"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def verify(self, headers, body: str) -> str | None:
        """The spec's check, written here independently: v1 = base64 HMAC-SHA256(id.timestamp.body)."""
        msg_id, stamp, signature = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
        if not (msg_id and stamp and signature and self.secret):
            return "missing headers"
        if abs(time.time() - int(stamp)) > 300:
            return "stale timestamp"
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.{body}".encode(), hashlib.sha256).digest())
        if not any(hmac.compare_digest(expected.decode(), s.split(",", 1)[1]) for s in signature.split(" ")
                   if s.startswith("v1,")):
            return "bad signature"
        return None

    def delivered(self) -> list[dict]:
        with self.lock:
            return [a for a in self.arrived if 200 <= a["code"] < 300]


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def start(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]
    yield start
    for one in made:
        one.server.shutdown()
        one.server.server_close()


@pytest.fixture
def desk(write_config):
    settings = write_config(care=CARE, webhooks=HOOKS)
    agent = create_user(settings, None, "ana", "secret-pass-1", "care_agent", "care")
    return settings, agent


def _subscribe(settings, hook: Receiver, events=("ticket.created", "ticket.updated")) -> int:
    secret, sub = webhooks.create_subscription(settings, None, url=hook.url, event_types=list(events))
    hook.secret = secret
    return sub["id"]


def _tickets(settings, database_url, n: int) -> list[int]:
    for i in range(n):
        post(database_url, f"t{i}", f"Nimbus Mobile charged me twice, awful service #{i}", handle=f"user{i}")
    analyze_pending(settings)
    triage_new(settings, now=NOW)
    with session_scope(database_url) as session:
        return list(session.execute(select(Ticket.id).order_by(Ticket.id)).scalars())


def _deliveries(database_url) -> list[WebhookDelivery]:
    with session_scope(database_url) as session:
        return list(session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())


def test_triage_and_ticket_changes_reach_the_receiver_signed_and_are_managed_over_the_api(
        desk, database_url, receiver, api_server):
    settings, agent = desk
    hook = receiver()
    token = token_for(settings, "root", "admin", ["webhooks:manage"])
    with client(api_server(settings), token) as http:
        refused = http.post("/webhooks", json={"url": "http://10.0.0.1/hook", "event_types": ["ticket.created"]})
        assert refused.status_code == 422 and "allow_private_hosts" in refused.json()["detail"]
        made = http.post("/webhooks", json={"url": hook.url, "description": "crm",
                                            "event_types": ["ticket.created", "ticket.updated", "mention.analysed"]})
        assert made.status_code == 201, made.text
        sub = made.json()
        assert sub["secret"].startswith("whsec_") and len(base64.b64decode(sub["secret"][6:])) == 24
        hook.secret = sub["secret"]
        [tid] = _tickets(settings, database_url, 1)
        care.set_status(settings, agent, tid, "in_progress", "looking into it")
        assert deliver_due(settings) == {"delivered": 3}
        assert hook.refused == []
        kinds = [a["type"] for a in hook.delivered()]  # sent in parallel: in order per subject (the ticket)
        assert sorted(kinds) == ["mention.analysed", "ticket.created", "ticket.updated"]
        assert kinds.index("ticket.created") < kinds.index("ticket.updated")
        analysed, created, updated = (next(a["data"] for a in hook.delivered() if a["type"] == kind)
                                      for kind in ("mention.analysed", "ticket.created", "ticket.updated"))
        assert analysed["sentiment"] and created["ticket_id"] == tid and created["status"] == "new"
        assert updated["status"] == "in_progress" and updated["version"] == created["version"] + 1
        assert updated["change"] == {"kind": "status", "from": "new", "to": "in_progress"}
        assert updated["team"] == "care"
        listed = http.get("/webhooks").json()
        assert listed[0]["deliveries"] == {"pending": 0, "delivered": 3, "dead": 0} and "secret" not in listed[0]
        page = http.get(f"/webhooks/{sub['id']}/deliveries", params={"limit": 2}).json()
        assert [d["event_type"] for d in page["items"]] == ["ticket.updated", "ticket.created"]
        rest = http.get(f"/webhooks/{sub['id']}/deliveries", params={"cursor": page["next_cursor"]}).json()
        assert [d["event_type"] for d in rest["items"]] == ["mention.analysed"] and rest["next_cursor"] is None
        [attempt] = http.get(f"/webhooks/{sub['id']}/deliveries/{page['items'][0]['id']}/attempts").json()
        assert attempt["status_code"] == 200 and attempt["error"] is None
        again = http.post(f"/webhooks/{sub['id']}/replay", json={"message_id": hook.delivered()[2]["id"]})
        assert again.status_code == 202 and again.json()["queued"] == 1
        deliver_due(settings)
        assert hook.delivered()[3]["id"] == hook.delivered()[2]["id"]  # the same webhook-id: receivers dedupe
        assert http.delete(f"/webhooks/{sub['id']}").status_code == 204
        assert http.get(f"/webhooks/{sub['id']}").status_code == 404


def test_private_addresses_are_refused_unless_listed(write_config, database_url, receiver):
    closed = write_config(webhooks={"allow_private_hosts": []})
    for url in ("http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://localhost:8080/",
                "https://127.0.0.1/x", "http://[::1]/x", "http://0.0.0.0/"):
        with pytest.raises(BrandpulseError, match="allow_private_hosts"):
            webhooks.create_subscription(closed, None, url=url, event_types=["ticket.updated"])
    with pytest.raises(BrandpulseError, match="https://"):
        webhooks.create_subscription(closed, None, url="ftp://hooks.example/x", event_types=["ticket.updated"])
    with pytest.raises(BrandpulseError, match="ticket.updated"):
        webhooks.create_subscription(closed, None, url="https://1.1.1.1/x", event_types=["ticket.deleted"])
    hook = receiver()
    opened = write_config(webhooks=HOOKS, care=CARE)
    _subscribe(opened, hook)
    [tid] = _tickets(opened, database_url, 1)
    # the address is checked again when sending: un-listing the host stops deliveries at once
    assert deliver_due(closed) == {"retrying": 1}
    [delivery] = _deliveries(database_url)
    assert "allow_private_hosts" in delivery.last_error and hook.arrived == []
    assert deliver_due(opened, now=delivery.next_attempt_at) == {"delivered": 1}


def test_a_failing_receiver_is_retried_on_the_backoff_until_dead_and_its_subscription_disabled(
        desk, database_url, receiver):
    settings, agent = desk
    hook = receiver()
    sub_id = _subscribe(settings, hook, ["ticket.updated"])
    [tid] = _tickets(settings, database_url, 1)
    hook.answers = [500] * 100
    care.set_status(settings, agent, tid, "in_progress")
    [first] = _deliveries(database_url)
    when, times = first.created_at, []
    while True:
        assert deliver_due(settings, now=when)
        [delivery] = _deliveries(database_url)
        times.append(when)
        if delivery.status != "pending":
            break
        when = delivery.next_attempt_at
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    planned = list(BACKOFF_SECONDS) + [4 * 3600] * 20
    for gap, wait in zip(gaps[:-1], planned):  # counted from the attempt's end: its own seconds come on top
        assert wait * 0.9 <= gap <= wait * 1.1 + 5
    assert gaps[-1] <= planned[len(gaps) - 1] * 1.1 + 5  # the last attempt is at the deadline itself
    assert delivery.status == "dead" and times[-1] - first.created_at >= timedelta(hours=26)
    assert len(hook.arrived) == delivery.attempts == len(times) and "HTTP 500" in delivery.last_error
    assert webhooks.list_attempts(settings, None, sub_id, delivery.id)[0]["status_code"] == 500
    assert webhooks.list_subscriptions(settings, None)[0]["state"] == "active"  # 26 h < 48 h failing
    care.set_status(settings, agent, tid, "waiting_customer")
    # sent 49 h on (past its own 26 h): it fails once more, dies, and the subscription, failing 49 h, is disabled
    assert deliver_due(settings, now=first.created_at + timedelta(hours=49)) == {"dead": 1}
    [listed] = webhooks.list_subscriptions(settings, None)
    assert listed["state"] == "disabled" and "HTTP 500" in listed["disabled_reason"]
    assert "webhooks enable" in listed["disabled_reason"]
    assert deliver_due(settings, now=first.created_at + timedelta(hours=60)) == {}  # disabled: nothing sent
    hook.answers = []
    webhooks.enable_subscription(settings, None, sub_id)
    assert webhooks.replay(settings, None, sub_id, since=first.created_at - timedelta(minutes=1)) \
        == [hook.arrived[0]["id"], hook.arrived[-1]["id"]]
    assert deliver_due(settings, now=first.created_at + timedelta(hours=61)) == {"delivered": 2}
    assert [a["data"]["change"]["to"] for a in hook.delivered()] == ["in_progress", "waiting_customer"]


def test_one_tickets_events_wait_behind_its_failed_first_one_others_go_on(desk, database_url, receiver):
    settings, agent = desk
    one_at_a_time = settings.webhooks.model_copy(update={"parallel_sends": 1})  # the first to arrive fails
    settings = settings.model_copy(update={"webhooks": one_at_a_time})
    hook = receiver()
    _subscribe(settings, hook, ["ticket.updated"])
    one, two = _tickets(settings, database_url, 2)
    care.set_status(settings, agent, one, "in_progress")
    care.add_note(settings, agent, one, "called the customer")
    care.set_status(settings, agent, two, "in_progress")
    hook.answers = [500]
    start = _deliveries(database_url)[-1].created_at  # all three due
    assert deliver_due(settings, now=start) == {"retrying": 1, "delivered": 1}
    assert deliver_due(settings, now=start + timedelta(seconds=1)) == {}  # the note waits for the status
    assert deliver_due(settings, now=start + timedelta(seconds=10)) == {"delivered": 2}  # then the note
    arrivals = [(a["data"]["ticket_id"], a["data"]["change"]["kind"], a["code"]) for a in hook.arrived]
    assert arrivals == [(one, "status", 500), (two, "status", 200), (one, "status", 200), (one, "note", 200)]


def test_a_worker_killed_mid_stream_loses_nothing_and_keeps_each_tickets_order(desk, database_url, receiver,
                                                                                tmp_path):
    settings, agent = desk
    hook = receiver(delay=0.03)
    _subscribe(settings, hook, ["ticket.updated"])
    tickets = _tickets(settings, database_url, 3)
    for round_ in range(8):
        for tid in tickets:
            care.add_note(settings, agent, tid, f"note {round_}")
    with session_scope(database_url) as session:
        written = [(mid, subject) for mid, subject in session.execute(
            select(WebhookEvent.message_id, WebhookEvent.subject).order_by(WebhookEvent.id))]
    command = [str(Path(sys.executable).parent / "brandpulse"), "webhooks", "deliver", "--loop", "--interval", "0.1"]
    worker = subprocess.Popen(command, env=dict(os.environ), cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while len(hook.delivered()) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(hook.delivered()) >= 8, "the worker never got going"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert len(hook.delivered()) < len(written), "killed too late to test anything"
    worker = subprocess.Popen(command, env=dict(os.environ), cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 40
        while {a["id"] for a in hook.delivered()} != {mid for mid, _ in written} and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    arrived = [a["id"] for a in hook.delivered()]
    assert set(arrived) == {mid for mid, _ in written} and hook.refused == []
    for subject in {s for _, s in written}:
        wanted = [mid for mid, s in written if s == subject]
        got = [mid for mid in arrived if mid in wanted]
        assert list(dict.fromkeys(got)) == wanted
        for i, mid in enumerate(got):  # a resend may repeat a message, never jump ahead of an earlier one
            assert set(wanted[:wanted.index(mid)]) <= set(got[:i])
    assert all(d.status == "delivered" for d in _deliveries(database_url))
