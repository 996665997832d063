"""The outbox publishes each reply exactly once against local fakes of each network's reply side:
through a 429, a 5xx, a timeout after the network accepted, a refusal, and a kill -9 of the publisher."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from brandpulse.services import care, publishing, replying
from brandpulse.services.accounts import create_user
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import Reply, Ticket
from tests.fake_networks import fake_network

NETWORKS = ["x", "reddit", "mastodon", "bluesky"]
TEXT = "@nimbus Nimbus Mobile charged me twice this month, awful, I want a refund"


def _desk(write_config, database_url, account, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = write_config(care={"teams": [{"name": "care", "auto_assign": False}], "default_team": "care",
                                  "reply_accounts": [account.model_dump(mode="json")]})
    agent = create_user(settings, None, "ana", "secret-pass-1", "care_agent", "care")
    return settings, agent


def _ticket(settings, database_url, server) -> int:
    """A ticket on a post the fake network knows, stored as the collectors store it."""
    target = server.target(TEXT)
    record = MentionRecord(network=target.network, native_id=target.native_id, text=target.text,
                           brands=["Nimbus Mobile"], url=target.url, raw=target.raw,
                           created_at=datetime.now(timezone.utc) - timedelta(minutes=2),
                           author=AuthorRecord(target.network, f"{target.network}-{target.author_handle}",
                                               handle=target.author_handle or "alice"))
    with session_scope(database_url) as session:
        save_mentions(session, [record])
    analyze_pending(settings)
    assert triage_new(settings) == 1
    with session_scope(database_url) as session:
        return session.execute(select(Ticket.id)).scalar_one()


def _send(settings, agent, tid, body="Sorry about the double charge, a refund is on its way") -> int:
    version = replying.reply_options(settings, agent, tid)["version"]
    return replying.send_reply(settings, agent, tid, body, version)["id"]


def _reply(database_url, reply_id) -> Reply:
    with session_scope(database_url) as session:
        reply = session.get(Reply, reply_id)
        session.expunge(reply)
        return reply


@pytest.mark.parametrize("network", NETWORKS)
def test_a_reply_survives_429_5xx_and_a_timeout_after_acceptance_and_posts_once(
        network, write_config, database_url, monkeypatch):
    monkeypatch.setattr(publishing, "BACKOFF_SECONDS", 0)  # retry uncertain sends at once
    with fake_network(network, stall_seconds=3) as (server, account, env):
        settings, agent = _desk(write_config, database_url, account, monkeypatch, env)
        tid = _ticket(settings, database_url, server)
        reply_id = _send(settings, agent, tid)
        server.inject("429", reset_in=2)
        before = datetime.now(timezone.utc)
        assert publishing.publish_due(settings) == {"waiting": 1}
        waiting = _reply(database_url, reply_id)
        assert waiting.status == "queued" and waiting.next_attempt_at > before  # waits for the network's reset
        assert server.created == [] and "rate" in waiting.error.lower()
        time.sleep(max(0.0, (waiting.next_attempt_at - datetime.now(timezone.utc)).total_seconds()) + 0.05)
        server.inject("503")
        assert publishing.publish_due(settings) == {"waiting": 1}
        assert server.created == []
        server.inject("accept_then_stall")
        assert publishing.publish_due(settings) == {"waiting": 1}  # timed out: maybe posted
        assert len(server.created) == 1 and "look on" in _reply(database_url, reply_id).error
        assert publishing.publish_due(settings) == {"published": 1}  # found there, not sent again
        assert len(server.created) == 1
        published = _reply(database_url, reply_id)
        assert published.status == "published" and published.published_id == server.created[0]["id"]
        assert published.attempts == 4
    context = care.ticket_context(settings, agent, tid)
    assert context["ticket"]["first_response_at"] is not None  # the reply stopped the clock
    assert context["sla"].summary().startswith("resolve in")
    assert [e["kind"] for e in context["history"]][-2:] == ["reply", "replied"]


@pytest.mark.parametrize("network", ["x", "mastodon"])
def test_a_refusal_shows_the_networks_reason_and_retry_publishes(network, write_config, database_url,
                                                                  monkeypatch):
    with fake_network(network) as (server, account, env):
        settings, agent = _desk(write_config, database_url, account, monkeypatch, env)
        tid = _ticket(settings, database_url, server)
        reply_id = _send(settings, agent, tid)
        server.inject("403", reason="You are not allowed to reply to this post")
        assert publishing.publish_due(settings) == {"failed": 1}
        failed = replying.reply_options(settings, agent, tid)["replies"][0]
        assert failed["status"] == "failed" and "You are not allowed to reply to this post" in failed["error"]
        assert care.ticket_context(settings, agent, tid)["ticket"]["first_response_at"] is None
        replying.retry_reply(settings, agent, reply_id)
        assert publishing.publish_due(settings) == {"published": 1}
        assert len(server.created) == 1


def test_a_publisher_killed_after_the_network_accepted_does_not_post_twice(write_config, database_url,
                                                                            monkeypatch, tmp_path):
    """X has no idempotency key: after a kill -9 mid-send the next worker looks before it sends."""
    with fake_network("x", timeout_seconds=1, stall_seconds=10) as (server, account, env):
        settings, agent = _desk(write_config, database_url, account, monkeypatch, env)
        tid = _ticket(settings, database_url, server)
        reply_id = _send(settings, agent, tid)
        server.inject("accept_then_stall")
        worker = subprocess.Popen([str(Path(sys.executable).parent / "brandpulse"), "replies", "publish",
                                   "--loop", "--interval", "0.2"], env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 30
            while not server.created and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(server.created) == 1, "the worker never reached the network"
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        stranded = _reply(database_url, reply_id)
        assert stranded.status == "sending" and stranded.attempts == 1
        assert publishing.publish_due(settings) == {}  # its claim still holds
        time.sleep((stranded.claimed_until - datetime.now(timezone.utc)).total_seconds() + 0.1)
        assert publishing.publish_due(settings) == {"published": 1}
        assert len(server.created) == 1 and len(server.calls("/2/tweets", "POST")) == 1
        assert _reply(database_url, reply_id).published_id == server.created[0]["id"]
