"""Topic labels read as phrases taken from the posts ("double charge · monthly fee"), not bags of single
words; with no recurring phrase, the most central post's words (issue 20)."""

from datetime import datetime, timedelta, timezone

import numpy as np

from brandpulse.core.settings import Settings
from brandpulse.services.topics import find_topics

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
BRAND = {"nimbus", "mobile", "nimbusmobile"}
BILLING = [
    "@NimbusMobile my bill is wrong again, double charge on my card this month",
    "Nimbus Mobile charged me twice. Double charge on my card AGAIN https://t.co/x1",
    "why is my monthly fee higher? nimbus mobile billing is a mess",
    "Nimbus Mobile the monthly fee went up for no reason",
    "double charge on my card from Nimbus Mobile, need a refund asap",
    "Got a refund for the double charge, thanks Nimbus Mobile",
    "monthly fee up again #NimbusMobile, what is going on",
]
COVERAGE = [
    "Nimbus Mobile signal drops in the subway every morning",
    "no signal at my house, Nimbus Mobile fix it please",
    "signal drops in the subway again @NimbusMobile",
    "zero bars downtown with Nimbus Mobile, signal drops constantly",
    "Nimbus Mobile coverage is dead at my house",
    "mobile data vanishes outside the city, Nimbus Mobile",
]
ONE_OFFS = [  # nothing recurs: the label is the central post's words
    "@NimbusMobile my eSIM won't activate on the new iPhone https://t.co/a",
    "Nimbus Mobile roaming in Lisbon was painless",
    "the Nimbus Mobile store clerk was lovely",
]


def _embed(texts):
    """Three themes, three directions (the real encoder has its own test in tests/test_topics.py)."""
    return np.array([[1.0, 0, 0] if t in BILLING else [0, 1.0, 0] if t in COVERAGE else [0, 0, 1.0]
                     for t in texts]) + np.linspace(0, 1e-3, len(texts))[:, None]


def test_labels_are_the_clusters_key_phrases_or_the_central_post():
    posts = [{"mention_id": i, "network": "x", "text": text, "created_at": NOW - timedelta(hours=i)}
             for i, text in enumerate(BILLING + COVERAGE + ONE_OFFS)]
    topics = find_topics(posts, NOW, Settings(topics={"max_topics": 3}), BRAND, embedder=_embed)
    labels = {t["representative"][0]["text"]: t["label"] for t in topics}
    billing = next(label for text, label in labels.items() if text in BILLING)
    coverage = next(label for text, label in labels.items() if text in COVERAGE)
    one_off = next(label for text, label in labels.items() if text in ONE_OFFS)
    assert billing == "double charge · monthly fee"
    assert coverage.startswith("signal drops")
    for label in (billing, coverage):
        assert all(len(phrase.split()) >= 2 for phrase in label.split(" · "))  # phrases, not single words
        assert all(phrase.lower() in " ".join(BILLING + COVERAGE).lower() for phrase in label.split(" · "))
    assert one_off in {"my eSIM won't activate", "roaming in Lisbon was painless", "the store clerk was lovely"}
    assert all("nimbus" not in label.lower() and "@" not in label and "http" not in label
               for label in labels.values())


def test_a_phrase_never_runs_across_a_sentence_and_two_phrases_never_repeat_a_word():
    from brandpulse.services.topics import key_phrases

    speed = ["5G speeds downtown are great. Love it", "Nimbus Mobile 5G speeds downtown! Love the app",
             "5G speeds downtown are unreal, love", "finally 5G speeds downtown. Love Nimbus Mobile"]
    other = ["my bill doubled", "no signal at home"]
    [first, *rest] = key_phrases({0: speed, 1: other}, BRAND)[0]
    assert first.lower() == "5g speeds downtown"
    assert all("love" not in p.lower() or "downtown" not in p.lower() for p in [first, *rest])
    words = [set(p.lower().split()) - {"are"} for p in [first, *rest]]
    assert all(not (a & b) for i, a in enumerate(words) for b in words[i + 1:])
