"""The README's API examples run as written: the curl session against a real server on a copy of
the demo database, and the signature check a receiver copies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from brandpulse.core.settings import DatabaseSettings
from brandpulse.services.access import scopes_for
from brandpulse.services.accounts import list_users
from brandpulse.services.tokens import create_token
from brandpulse.services.webhook_delivery import sign
from tests.api_client import api_server  # noqa: F401

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(language: str, after: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_session_runs_against_the_demo(demo, tmp_path, api_server):
    copy = tmp_path / "demo.db"
    shutil.copy(demo.settings.database.url.removeprefix("sqlite:///"), copy)
    settings = demo.settings.model_copy(update={"database": DatabaseSettings(url=f"sqlite:///{copy}")})
    admin = next(u for u in list_users(settings, None) if u["role"] == "admin")
    token, _ = create_token(settings, None, name="readme", scopes=scopes_for("admin"), user_id=admin["id"])
    script = "\n".join(line for line in _block("sh", "With `make demo` running").splitlines()
                       if not line.startswith("export API="))
    # every curl fails the script on an HTTP error, and prints its answer on a line of its own
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    done = subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "API": api_server(settings), "TOKEN": token})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert answers[0]["items"] and all(m["sentiment"] == "negative" for m in answers[0]["items"])
    assert answers[1]["items"] and answers[1]["next_cursor"]
    assert any(e["kind"] == "note" for e in answers[2]["history"])
    assert answers[3]["external_id"] == "crm-881"
    assert answers[4]["results"][0]["status"] == "accepted"
    assert [i["kind"] for i in answers[5]["items"]] == ["event"]
    assert [p["sentiment"] for p in answers[6]["items"]][0] == "negative"
    assert answers[7]["secret"].startswith("whsec_")


def test_the_readme_signature_check_accepts_our_deliveries_and_nothing_else():
    namespace: dict = {}
    exec(_block("python", "A receiver checks each delivery"), namespace)
    verify = namespace["verify"]
    secret, body, stamp = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b'{"type":"ticket.updated"}', int(time.time())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp),
               "webhook-signature": sign(secret, "msg_1", stamp, body.decode())}
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"updated", b"created"))
    assert not verify(secret, {**headers, "webhook-timestamp": str(stamp - 3600)}, body)
    assert not verify("whsec_" + "A" * 32, headers, body)
