"""Stateful local fakes of the reply side of X, Reddit, Mastodon and Bluesky, for the real client libraries.

Each fake is a threaded HTTP server (as tests/fakeserver.py) that signs the brand's account in,
creates posts, lists them where the publishers' ``find_published`` looks, and keeps:

* ``created``  - every post the account really created: dicts with ``id``, ``text``, ``in_reply_to``,
  ``url`` (and ``idempotency_key`` on Mastodon), oldest first;
* ``requests`` - every request: method, path, query, headers, body, and ``data`` (parsed form/JSON);
* ``inject(kind, times=1, reason=None, reset_in=120)`` - the next ``times`` create calls fail:
  ``"429"`` (with the network's reset headers), ``"503"`` and ``"401"``/``"403"`` (nothing created),
  ``"accept_then_stall"`` (created, then the answer waits ``stall_seconds``, past the client's timeout).

Any post may be answered unless ``delete(native_id)`` removed it (on Mastodon: any remote status
address resolves, a local id must be one the instance has); ``target(text, ...)`` adds a customer's
post and returns it as the store would hold it (a ``ReplyTarget``).
``with fake_network("mastodon") as (server, account, env):`` starts one with a matching ReplyAccount
and the environment its secrets are read from. The state lives in the test process; another process
(a worker) only needs ``server.url`` through the account and ``env``.
"""

from __future__ import annotations

from contextlib import contextmanager

from tests.fake_networks.base import Answer, FakeNetwork  # noqa: F401 (the fakes' API), FAULTS
from tests.fake_networks.bluesky import FakeBluesky
from tests.fake_networks.mastodon import FakeMastodon
from tests.fake_networks.reddit import FakeReddit
from tests.fake_networks.x import FakeX

FAKES = {"x": FakeX, "reddit": FakeReddit, "mastodon": FakeMastodon, "bluesky": FakeBluesky}


@contextmanager
def fake_network(network: str, *, account_id: str | None = None, brand: str = "Nimbus Mobile",
                 timeout_seconds: float = 1.0, stall_seconds: float = 5.0, port: int = 0):
    """``(server, account, env)``: a running fake of ``network``, a ReplyAccount pointing at it and the
    environment (BRANDPULSE_REPLY_<ID>_...) holding its secrets; set ``env`` with monkeypatch or pass
    it to a worker process."""
    with FAKES[network](stall_seconds=stall_seconds, port=port) as server:
        yield server, server.account(account_id, brand, timeout_seconds), server.env(account_id)
