"""Benchmark: 100k posts served by a local fake X API through the X collector into the store.

    python bench/collect.py [--posts 100000] [--postgres URL]

The fake server pages through synthetic tweets shaped like the recorded X v2 responses
(100 per page, next_token paging, includes.users). Prints posts/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def page_body(total: int, page: int, size: int = 100) -> bytes:
    first = page * size
    tweets, users = [], {}
    for i in range(first, min(first + size, total)):
        author = str(1000 + i % 5000)
        tweets.append({"id": str(10**18 + total - i), "text": f"@NimbusMobile post {i} about my bill and signal",
                       "created_at": (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                       "author_id": author, "lang": "en", "conversation_id": str(10**18 + total - i),
                       "public_metrics": {"retweet_count": i % 7, "reply_count": i % 3, "like_count": i % 50,
                                          "quote_count": 0}})
        users[author] = {"id": author, "username": f"user{author}", "name": f"User {author}",
                         "created_at": "2015-01-01T00:00:00.000Z", "verified": False,
                         "public_metrics": {"followers_count": int(author) * 3, "following_count": 100,
                                            "tweet_count": 500, "listed_count": 1}}
    meta = {"result_count": len(tweets), "newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]}
    if first + size < total:
        meta["next_token"] = f"page{page + 1}"
    return json.dumps({"data": tweets, "includes": {"users": list(users.values())}, "meta": meta}).encode()


def serve(total: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            query = parse_qs(urlsplit(self.path).query)
            token = query.get("next_token", ["page0"])[0]
            body = page_body(total, int(token[4:])) if "since_id" not in query else b'{"meta":{"result_count":0}}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    server = serve(args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        config = {"brands": [{"name": "Nimbus Mobile", "query": "nimbusmobile"}], "database": {"url": url},
                  "sources": {"x": {"enabled": True, "base_url": f"http://127.0.0.1:{server.server_port}",
                                    "price_per_post": 0.0}}}
        (Path(tmp) / "config.yaml").write_text(yaml.safe_dump(config))
        os.environ["BRANDPULSE_X_BEARER_TOKEN"] = "bench"
        from brandpulse.services.collecting import collect_all
        from brandpulse.core.settings import load_settings
        from store.engine import migrate

        settings = load_settings(Path(tmp) / "config.yaml")
        migrate(url)
        started = time.perf_counter()
        (result,) = collect_all(settings, source="x")
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"x -> {url.split(':')[0]}: {result.stored:,} posts in {result.pages} pages, {elapsed:.1f}s = "
              f"{result.stored / elapsed:,.0f} posts/s (peak RSS {peak:,.0f} MB)")
    server.shutdown()


if __name__ == "__main__":
    main()
