"""Generate the bundled SYNTHETIC demo dataset (deterministic; no real people or posts).

    python -m brandpulse.demo.generate   # rewrites brandpulse/demo/mentions.jsonl.gz

Times are written relative to ANCHOR; the demo shifts them so the newest post is
"now". Two own brands and three competitors, five networks, authors with a
heavy-tailed follower distribution, threads, reposts and an outage spike.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

ANCHOR = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
OUTPUT = Path(__file__).with_name("mentions.jsonl.gz")
NETWORKS = {"x": 0.45, "reddit": 0.2, "bluesky": 0.15, "mastodon": 0.12, "rss": 0.08}
BRANDS = {
    "Nimbus Mobile": {"refs": ["Nimbus Mobile", "@NimbusMobile", "#NimbusMobile", "the Nimbus Mobile app"],
                      "kind": "telecom", "weight": 0.38},
    "Vertex Telecom": {"refs": ["Vertex Telecom", "@VertexTelecom", "#VertexTelecom"],
                       "kind": "telecom", "weight": 0.17},
    "Orbit Wireless": {"refs": ["Orbit Wireless", "@OrbitWireless"], "kind": "telecom", "weight": 0.10},
    "Brewhaven": {"refs": ["Brewhaven", "@Brewhaven", "#Brewhaven"], "kind": "coffee", "weight": 0.23},
    "Grindhouse Coffee": {"refs": ["Grindhouse Coffee", "@GrindhouseCoffee"], "kind": "coffee",
                          "weight": 0.12},
}
TEMPLATES = {
    ("telecom", "complaint"): [
        "{b} charged me twice this month and I still have no refund. Three calls, no answer.",
        "No signal in {city} since this morning. {b} what is going on??",
        "Spent {n} minutes on hold with {b} support and got disconnected. Unacceptable.",
        "My bill from {b} went up again without any notice. Cancelling.",
        "{b} keeps dropping my calls in {city}. Worst network I have ever had.",
        "Ordered a SIM from {b} two weeks ago, still waiting for delivery. Ridiculous.",
        "The {b} roaming fee in {country} is a rip-off, nobody told me about it.",
        "{b} your app crashes every time I try to pay my bill. Fix it please.",
    ],
    ("telecom", "question"): [
        "Does {b} support eSIM on the new phones?",
        "How do I move my number over to {b}?",
        "Anyone know if {b} roaming works in {country}?",
        "What time does the {b} store in {city} open on Sundays?",
        "Is there a student discount at {b}?",
    ],
    ("telecom", "suggestion"): [
        "{b} should add a family plan with shared data.",
        "Would be great if {b} showed data usage per day in the app.",
        "I wish {b} offered a cheaper plan without the streaming bundle.",
        "Please add Wi-Fi calling to older phones, {b}.",
    ],
    ("telecom", "praise"): [
        "Switched to {b} last month and the coverage in {city} is amazing.",
        "Shout out to {b} support, fixed my issue in five minutes. Thank you!",
        "Really impressed with {b} 5G speeds downtown. Love it.",
        "{b} just refunded me without any hassle. Great service.",
    ],
    ("telecom", "neutral"): [
        "{b} announces new 5G plans starting next week.",
        "Reading the {b} quarterly report today.",
        "{b} opens a new store in {city}.",
        "Comparing {b} and other carriers for my parents.",
    ],
    ("coffee", "complaint"): [
        "Waited {n} minutes for a latte at {b} in {city}. Never again.",
        "{b} got my order wrong for the third time this week.",
        "The {b} app charged me but the order never arrived. Where is my refund?",
        "{b} raised prices again and the cups are smaller. Disappointed.",
        "Cold coffee and a rude barista at {b} this morning. Terrible.",
    ],
    ("coffee", "question"): [
        "Does {b} have oat milk at every location?",
        "When does the {b} winter menu start?",
        "Can I use my {b} gift card in the app?",
    ],
    ("coffee", "suggestion"): [
        "{b} should bring back the hazelnut cold brew.",
        "Would be nice if {b} had more plant-based food options.",
        "Please add a reusable cup discount, {b}.",
    ],
    ("coffee", "praise"): [
        "The new {b} espresso blend is fantastic.",
        "Best flat white in {city} is at {b}, thank you!",
        "Love the staff at the {b} on Main Street. Always friendly.",
    ],
    ("coffee", "neutral"): [
        "{b} is opening three new cafes in {city}.",
        "Meeting a friend at {b} later.",
        "{b} announces its seasonal menu.",
    ],
}
OUTAGE = [
    "Is {b} down? No service at all in {city}.",
    "{b} outage again?? No calls, no data, nothing.",
    "Still no signal from {b} in {city}. This is the second outage this month.",
    "{b} my whole family has no service. When will this be fixed?",
    "Can't call anyone. Thanks a lot {b}. Terrible.",
]
SPANISH = ["{b} me cobró dos veces este mes y nadie responde.", "Me encanta el café de {b}, el mejor."]
INTENT_MIX = {"complaint": 0.3, "question": 0.15, "suggestion": 0.1, "praise": 0.2, "neutral": 0.25}
CITIES = ["Leeds", "Austin", "Denver", "Porto", "Dublin", "Toronto", "Glasgow", "Lyon"]
COUNTRIES = ["Spain", "Japan", "Mexico", "Canada", "Italy"]
FIRST = ["alex", "sam", "jo", "maria", "li", "omar", "nina", "tom", "priya", "ken", "eva", "raj"]
LAST = ["smith", "ng", "garcia", "okafor", "kim", "rossi", "patel", "muller", "silva", "brown"]


def _authors(rng: random.Random, count: int) -> list[dict]:
    authors = []
    for i in range(count):
        network = rng.choices(list(NETWORKS), weights=list(NETWORKS.values()))[0]
        handle = f"{rng.choice(FIRST)}{rng.choice(LAST)}{i}"
        followers = int(min(20 / (1 - rng.random()) ** (1 / 1.05), 400_000))
        authors.append({"author_id": f"{network}-u{i}", "network": network, "author_handle": handle,
                        "author_name": handle.title(), "author_followers": followers,
                        "author_following": int(rng.lognormvariate(5, 1)),
                        "author_post_count": int(rng.lognormvariate(6, 1.5)),
                        "author_verified": followers > 100_000 and rng.random() < 0.5,
                        "author_created_at": (ANCHOR - timedelta(days=rng.randint(30, 4000))).isoformat()})
    for i, (name, followers) in enumerate([("dailytechnews", 2_400_000), ("citytimes", 850_000),
                                           ("gadgetguru", 310_000)]):
        authors.append({"author_id": f"x-big{i}", "network": "x", "author_handle": name,
                        "author_name": name.title(), "author_followers": followers,
                        "author_following": 300, "author_post_count": 40_000, "author_verified": True,
                        "author_created_at": (ANCHOR - timedelta(days=3000)).isoformat()})
    return authors


def _when(rng: random.Random) -> datetime:
    while True:  # daytime-heavy, a little quieter at weekends
        moment = ANCHOR - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
        weight = 0.25 + (0.75 if 8 <= moment.hour <= 22 else 0) - (0.2 if moment.weekday() >= 5 else 0)
        if rng.random() < weight:
            return moment


def _post(rng, index, author, brand, text, when) -> dict:
    network = author["network"]
    native = f"{network}-{index:06d}"
    return {"native_id": native, "network": network, "text": text, "created_at": when.isoformat(),
            "url": f"https://demo.brandpulse.invalid/{network}/{native}",
            "likes": int(rng.expovariate(1 / (1 + author["author_followers"] ** 0.5 / 8))),
            "replies": int(rng.expovariate(0.6)), "reposts": int(rng.expovariate(1.2)), "quotes": 0,
            "conversation_id": native, "synthetic": True, "demo_brand": brand,
            **{k: v for k, v in author.items() if k != "network"}}


def generate(seed: int = 7, posts: int = 5200) -> list[dict]:
    """The demo posts, oldest first; deterministic for a seed."""
    rng = random.Random(seed)
    authors = _authors(rng, 1600)
    rows: list[dict] = []
    for index in range(posts):
        author = rng.choice(authors)
        brand = rng.choices(list(BRANDS), weights=[b["weight"] for b in BRANDS.values()])[0]
        meta = BRANDS[brand]
        intent = rng.choices(list(INTENT_MIX), weights=list(INTENT_MIX.values()))[0]
        template = rng.choice(SPANISH if rng.random() < 0.02 else TEMPLATES[(meta["kind"], intent)])
        text = template.format(b=rng.choice(meta["refs"]), city=rng.choice(CITIES),
                               country=rng.choice(COUNTRIES), n=rng.randint(20, 95))
        if rng.random() < 0.06:  # a post naming a brand and a rival
            rival = "Vertex Telecom" if meta["kind"] == "telecom" and brand != "Vertex Telecom" else None
            rival = rival or ("Brewhaven" if brand == "Grindhouse Coffee" else None)
            if rival:
                text += f" Thinking about switching to {rival}."
        rows.append(_post(rng, index, author, brand, text, _when(rng)))
    for index in range(posts, posts + 420):  # outage spike, 3-9 hours before the end
        author = rng.choice(authors)
        text = rng.choice(OUTAGE).format(b=rng.choice(BRANDS["Nimbus Mobile"]["refs"]),
                                         city=rng.choice(CITIES))
        when = ANCHOR - timedelta(hours=rng.uniform(3, 9))
        rows.append(_post(rng, index, author, "Nimbus Mobile", text, when))
    rows.sort(key=lambda row: row["created_at"])
    originals = [row for row in rows if row["network"] in ("x", "bluesky", "mastodon")]
    extra = []
    for index, parent in enumerate(rng.sample(originals, 350)):  # replies in threads, and reposts
        author = rng.choice(authors)
        when = datetime.fromisoformat(parent["created_at"]) + timedelta(minutes=rng.uniform(1, 600))
        if when > ANCHOR:
            continue
        child = _post(rng, 900_000 + index, {**author, "network": parent["network"]},
                      parent["demo_brand"], "", when)
        if index % 2:
            child["text"] = f"RT @{parent['author_handle']}: {parent['text']}"
            child["reposted_id"] = parent["native_id"]
        else:
            child["text"] = rng.choice(["Same here with {b}, exactly the same problem.",
                                        "Agreed, {b} needs to sort this out.",
                                        "Had the opposite experience with {b} honestly."]
                                       ).format(b=BRANDS[parent["demo_brand"]]["refs"][0])
            child["in_reply_to_id"] = parent["native_id"]
        child["conversation_id"] = parent["conversation_id"]
        extra.append(child)
    rows = sorted(rows + extra, key=lambda row: row["created_at"])
    rows.append({**rows[-1], "native_id": "x-script", "network": "x", "created_at": ANCHOR.isoformat(),
                 "text": "<script>alert('hi')</script> **@NimbusMobile** [click](javascript:x) "
                         "my bill is wrong <b>again</b>"})
    return rows


def main() -> None:
    rows = generate()
    with gzip.open(OUTPUT, "wt", encoding="utf-8") as handle:
        for row in rows:
            row.pop("demo_brand", None)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} synthetic posts to {OUTPUT}")


if __name__ == "__main__":
    main()
