"""The posts of bench/simulate_day.py: a synthetic X collector whose pages come due at a rate.

Texts are the demo generator's templates (brandpulse/demo/generate.py: intents, cities, a few
Spanish posts), each made unique (an @reply or a tail), so the analyzer's de-duplication of
identical texts does not flatter its speed; raw payloads have the shape of X API v2 tweets.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from brandpulse.core.records import AuthorRecord, MentionRecord, Page
from brandpulse.demo.generate import BRANDS, CITIES, COUNTRIES, FIRST, INTENT_MIX, LAST, SPANISH, TEMPLATES

TAILS = ["", "", " Anyone else?", " Seriously.", " #fail", " 🙄", " Thanks in advance!", " Update: still the same."]


def peak_windows(duration: float, peak_seconds: float) -> list[tuple[float, float]]:
    """Two peaks: one a quarter into the run, one at two thirds."""
    return [(duration * share, duration * share + peak_seconds) for share in (0.25, 0.65)]


class PostMaker:
    """Deterministic, varied posts about one brand from a pool of heavy-tailed authors."""

    def __init__(self, seed: int, prefix: str, authors: int = 20_000) -> None:
        self.rng, self.prefix, self.seed, self.count = random.Random(seed), prefix, seed, 0
        rng = self.rng
        self.authors = []
        for i in range(authors):
            handle = f"{rng.choice(FIRST)}{rng.choice(LAST)}{seed}{i}"
            followers = int(min(20 / (1 - rng.random()) ** (1 / 1.05), 2_000_000))
            self.authors.append(AuthorRecord(
                "x", f"{prefix}u{i}", handle=handle, name=handle.title(), followers=followers,
                following=int(rng.lognormvariate(5, 1)), post_count=int(rng.lognormvariate(6, 1.5)),
                verified=followers > 100_000 and rng.random() < 0.5, profile_url=f"https://x.com/{handle}",
                created_at=datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 2000))))

    def text(self, brand: str) -> str:
        rng, meta = self.rng, BRANDS[brand]
        intent = rng.choices(list(INTENT_MIX), weights=list(INTENT_MIX.values()))[0]
        pool = SPANISH if rng.random() < 0.02 else TEMPLATES[(meta["kind"], intent)]
        fill = {"b": rng.choice(meta["refs"]), "city": rng.choice(CITIES), "country": rng.choice(COUNTRIES),
                "n": rng.randint(5, 180)}
        body = rng.choice(pool).format(**fill)
        if rng.random() < 0.25:  # a second sentence
            other = rng.choices(list(INTENT_MIX), weights=list(INTENT_MIX.values()))[0]
            body += " " + rng.choice(TEMPLATES[(meta["kind"], other)]).format(**fill)
        if rng.random() < 0.6:  # a reply names who it answers
            body = f"@{rng.choice(self.authors).handle} {body}"
        return body + rng.choice(TAILS) + (f" #{rng.choice(CITIES)}{self.count}" if rng.random() < 0.4 else "")

    def post(self, brand: str, when: datetime) -> MentionRecord:
        self.count += 1
        rng, author = self.rng, self.rng.choice(self.authors)
        tweet_id = str(1_800_000_000_000_000_000 + self.seed * 10**12 + self.count)
        body = self.text(brand)
        metrics = {"like_count": int(rng.expovariate(1 / (1 + author.followers ** 0.5 / 8))),
                   "reply_count": int(rng.expovariate(0.6)), "retweet_count": int(rng.expovariate(1.2)),
                   "quote_count": 0, "impression_count": int(rng.expovariate(1 / (10 + author.followers)))}
        raw = {"id": tweet_id, "text": body, "author_id": author.native_id, "created_at": when.isoformat(),
               "lang": "en", "conversation_id": tweet_id, "edit_history_tweet_ids": [tweet_id],
               "public_metrics": metrics, "possibly_sensitive": False, "reply_settings": "everyone",
               "entities": {"mentions": [{"username": word[1:]} for word in body.split() if word.startswith("@")]}}
        return MentionRecord(
            network="x", native_id=tweet_id, text=body, created_at=when, source="x",
            url=f"https://x.com/{author.handle}/status/{tweet_id}", author=author,
            likes=metrics["like_count"], replies=metrics["reply_count"], reposts=metrics["retweet_count"],
            views=metrics["impression_count"], conversation_id=tweet_id, raw=raw, brands=[brand])


class SimulatedX:
    """A collector (name and network ``x``) whose next page is ready once ``page`` posts of its
    ``share`` of ``rate(t)`` have come due since :meth:`start`; after ``duration`` seconds it
    hands over what is left and says it is done (``finished``)."""

    name = "x"
    network = "x"

    def __init__(self, rate: Callable[[float], float], duration: float, page: int, share: float,
                 seed: int, prefix: str) -> None:
        self.rate, self.duration, self.page, self.share = rate, duration, page, share
        self.maker, self.finished = PostMaker(seed, prefix), False
        self.started = self.clock = 0.0
        self.due = 0.0
        self.emitted = 0
        self.last_wall = datetime.now(timezone.utc)

    def start(self, started: float) -> None:
        self.started, self.clock, self.last_wall = started, 0.0, datetime.now(timezone.utc)

    def _advance(self, until: float, step: float = 0.01) -> None:
        while self.clock < until:
            dt = min(step, until - self.clock)
            self.due += self.rate(self.clock) * self.share * dt
            self.clock += dt

    def fetch(self, brand, cursor: str | None) -> Page:
        while True:
            elapsed = min(time.monotonic() - self.started, self.duration)
            self._advance(elapsed)
            ready = int(self.due) - self.emitted
            if ready >= self.page or elapsed >= self.duration:
                break
            time.sleep(0.02)
        count = min(ready, self.page)
        now = datetime.now(timezone.utc)
        span = now - self.last_wall
        posts = [self.maker.post(brand.name, self.last_wall + span * (i + 1) / max(count, 1)) for i in range(count)]
        self.emitted += count
        self.last_wall = now
        done = elapsed >= self.duration and int(self.due) <= self.emitted
        self.finished = done
        return Page(mentions=posts, next_cursor=str(self.emitted), done=done)

    def single_page(self, brand) -> "OnePage":
        """A collector that returns one page of ``page`` posts now (the warm-up)."""
        return OnePage([self.maker.post(brand.name, datetime.now(timezone.utc)) for _ in range(self.page)])


class OnePage:
    """One page, then done."""

    name = "x"
    network = "x"

    def __init__(self, posts: list[MentionRecord]) -> None:
        self.posts = posts

    def fetch(self, brand, cursor: str | None) -> Page:
        return Page(mentions=self.posts, next_cursor=None, done=True)
