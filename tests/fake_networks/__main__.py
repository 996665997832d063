"""python -m tests.fake_networks mastodon: serve one fake until killed, printing its URL, account and env."""

import json
import sys
import threading

from tests.fake_networks import fake_network

with fake_network(sys.argv[1] if len(sys.argv) > 1 else "mastodon") as (fake, reply_account, environment):
    print(json.dumps({"url": fake.url, "account": reply_account.model_dump(), "env": environment}), flush=True)
    threading.Event().wait()
