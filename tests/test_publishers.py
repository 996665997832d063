"""Publishers: the real client libraries (tweepy, praw, Mastodon.py, atproto) against stateful local
fakes of each network's reply side (tests/fake_networks/). No database."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from brandpulse.core.errors import (
    MissingSecretError,
    ReplyRateLimitedError,
    ReplyRejectedError,
    ReplyUncertainError,
)
from publishers.registry import publisher_for
from tests.fake_networks import fake_network

NETWORKS = ["x", "reddit", "mastodon", "bluesky"]
BODY = "Sorry about that! We have sent you a DM to sort it out."
WRONG = {"x": "access_token", "reddit": "password", "mastodon": "access_token", "bluesky": "app_password"}


@pytest.fixture(params=NETWORKS)
def net(request, monkeypatch):
    """(server, publisher, target): a fake network, a publisher signed in as the brand's account
    there, and a customer's post mentioning the account."""
    with fake_network(request.param, timeout_seconds=1.0) as (server, account, env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield server, publisher_for(account), server.target(f"@{server.handle} my phone died again")


def local_id(server, target) -> str:
    """What the reply must name as its parent: the target's own id, or on Mastodon its status id
    on the account's instance."""
    if server.network != "mastodon":
        return target.native_id
    return next(s["id"] for s in server.statuses.values() if target.native_id in (s["uri"], s["url"]))


def sent_text(server, body: str) -> str:
    return f"@alice {body}" if server.network == "mastodon" else body


def test_publish_creates_exactly_one_reply_to_the_target(net):
    server, publisher, target = net
    published = publisher.publish(target, BODY, "key-1")
    (post,) = server.created
    assert (post["in_reply_to"], post["text"]) == (local_id(server, target), sent_text(server, BODY))
    assert (published.id, published.url) == (post["id"], post["url"])
    assert publisher.find_published(target, BODY) == published
    assert publisher.verify() == server.handle


def test_rate_limit_says_until_when_and_posts_nothing(net):
    server, publisher, target = net
    server.inject("429", reset_in=300)
    with pytest.raises(ReplyRateLimitedError) as caught:
        publisher.publish(target, BODY, "key-1")
    expected = datetime.now(timezone.utc) + timedelta(seconds=300)
    assert abs(caught.value.until - expected) < timedelta(seconds=5)
    assert caught.value.network == server.network and "nothing was posted" in str(caught.value)
    assert server.created == []


def test_server_error_is_uncertain_posts_nothing_and_nothing_is_found(net):
    server, publisher, target = net
    server.inject("503")
    with pytest.raises(ReplyUncertainError, match="look for it before sending again"):
        publisher.publish(target, BODY, "key-1")
    assert server.created == [] and publisher.find_published(target, BODY) is None


def test_accepted_then_timed_out_is_uncertain_and_then_found(net):
    server, publisher, target = net
    server.inject("accept_then_stall")
    started = time.monotonic()
    with pytest.raises(ReplyUncertainError):
        publisher.publish(target, BODY, "key-1")
    assert time.monotonic() - started < 3  # the client's timeout, not prawcore's retries or the stall
    (post,) = server.created
    found = publisher.find_published(target, BODY)
    assert found is not None and (found.id, found.url) == (post["id"], post["url"])
    assert len(server.created) == 1


def test_bad_credentials_are_refused_with_the_networks_reason_and_no_secret(net, monkeypatch):
    server, _, target = net
    wrong = "not-the-right-secret-42"
    for name, value in server.env(**{WRONG[server.network]: wrong}).items():
        monkeypatch.setenv(name, value)
    publisher = publisher_for(server.account())
    with pytest.raises(ReplyRejectedError) as caught:
        publisher.publish(target, BODY, "key-1")
    reasons = {"x": "Unauthorized", "reddit": "invalid_grant", "mastodon": "The access token is invalid",
               "bluesky": "Invalid identifier or password"}
    assert reasons[server.network] in caught.value.reason and reasons[server.network] in str(caught.value)
    assert "doctor" in str(caught.value) and wrong not in str(caught.value)
    assert server.created == []


def test_forbidden_carries_the_networks_reason_with_secrets_masked(net):
    server, publisher, target = net
    secret = next(iter(server.secrets.values()))
    server.inject("403", reason=f"account suspended (token {secret})")
    with pytest.raises(ReplyRejectedError) as caught:
        publisher.publish(target, BODY, "key-1")
    assert "account suspended" in caught.value.reason and "account suspended" in str(caught.value)
    assert secret not in str(caught.value) and secret not in caught.value.reason
    assert server.created == []


def test_a_deleted_post_is_refused_for_certain(net):
    server, publisher, target = net
    server.delete(target.native_id)
    if server.network == "bluesky":
        target = server.target("@nimbus.bsky.social hello", shape="bare")  # its CID must be looked up
        server.delete(target.native_id)
    with pytest.raises(ReplyRejectedError):
        publisher.publish(target, BODY, "key-1")
    assert server.created == []


def test_mastodon_resend_with_the_same_key_creates_no_second_post():
    with fake_network("mastodon", timeout_seconds=1.0) as (server, account, env):
        first = publisher_for_env(account, env)
        target = server.target("@nimbus where is my order?")
        server.inject("accept_then_stall")
        with pytest.raises(ReplyUncertainError):
            first.publish(target, BODY, "key-1")
        again = first.publish(target, BODY, "key-1")
        assert [p["id"] for p in server.created] == [again.id]
        assert first.publish(target, BODY, "key-2").id != again.id and len(server.created) == 2
        assert [c["headers"].get("idempotency-key") for c in server.calls("/api/v1/statuses", "POST")] == [
            "key-1", "key-1", "key-2"]


def publisher_for_env(account, env):
    """publisher_for with ``env`` set only for the call."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return publisher_for(account)


def test_mastodon_resolves_a_post_from_another_instance_and_mentions_its_author():
    with fake_network("mastodon") as (server, account, env):
        target = server.target("@nimbus@127.0.0.1 billing is wrong", author="bob", remote="other.example")
        published = publisher_for_env(account, env).publish(target, BODY, "key-1")
        (search,) = server.calls("/api/v2/search")
        assert search["query"]["q"] == [target.url] and search["query"]["resolve"] == ["1"]
        (post,) = server.created
        resolved = server.statuses[post["in_reply_to"]]
        assert resolved["url"] == target.url and post["in_reply_to"] != target.raw["id"]
        assert post["text"] == f"@bob@other.example {BODY}"
        again = publisher_for_env(account, env)  # a new worker resolves the same post to the same id
        assert again.find_published(target, BODY) == published
        mentioned = publisher_for_env(account, env).publish(target, f"@bob@other.example {BODY}", "key-2")
        assert server.created[-1]["text"] == f"@bob@other.example {BODY}" and mentioned.id != published.id


def test_bluesky_reply_keeps_the_thread_root_and_looks_up_a_missing_cid():
    with fake_network("bluesky") as (server, account, env):
        publisher = publisher_for_env(account, env)
        root = server.target("my phone died")
        answer = server.target("@nimbus.bsky.social any news?", shape="jetstream", reply_to=root)
        publisher.publish(answer, BODY, "key-1")
        reply = server.created[0]["reply"]
        assert (reply["root"]["uri"], reply["root"]["cid"]) == (root.native_id, root.raw["cid"])
        assert reply["parent"]["uri"] == answer.native_id and reply["parent"]["cid"] == answer.raw["commit"]["cid"]
        assert not server.calls("getPosts")
        bare = server.target("@nimbus.bsky.social hello?", shape="bare")
        publisher.publish(bare, BODY, "key-2")
        assert len(server.calls("getPosts")) == 1
        assert server.created[1]["reply"]["parent"]["cid"] == server.posts[bare.native_id]["cid"]


def test_reddit_take_a_break_answer_is_a_rate_limit():
    with fake_network("reddit") as (server, account, env):
        server.busy_minutes = 3
        target = server.target("u/nimbus my bill doubled")
        with pytest.raises(ReplyRateLimitedError, match="Take a break for 3 minutes") as caught:
            publisher_for_env(account, env).publish(target, BODY, "key-1")
        expected = datetime.now(timezone.utc) + timedelta(minutes=3)
        assert abs(caught.value.until - expected) < timedelta(seconds=5) and server.created == []


def test_x_may_reply_only_to_posts_that_mention_the_account():
    with fake_network("x") as (server, account, env):
        publisher = publisher_for_env(account, env)
        refused = publisher.may_reply(server.target("nimbus mobile is down again"))
        assert refused and "@nimbus" in refused
        assert publisher.may_reply(server.target("@Nimbus is down again")) is None


def test_missing_secrets_are_named(monkeypatch):
    with fake_network("reddit") as (server, account, env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv(account.secret_names()["password"])
        with pytest.raises(MissingSecretError, match="BRANDPULSE_REPLY_FAKE_REDDIT_PASSWORD"):
            publisher_for(account)
