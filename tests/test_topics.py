"""Topics on the real MiniLM encoder: three themes come out labelled, the new one flagged emerging."""

from datetime import datetime, timedelta, timezone

from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.topics import refresh_topics
from store.engine import session_scope
from store.mentions import save_mentions
from store.topics import what_are_people_talking_about

NOW = datetime.now(timezone.utc).replace(microsecond=0)
THEMES = {  # subjects x situations: varied posts, three clear themes
    "billing": (["my bill", "the invoice", "a double charge on my card", "the monthly fee", "my billing statement"],
                ["is wrong again", "went up for no reason", "shows a charge I never agreed to", "needs a refund"]),
    "coverage": (["the signal", "network coverage", "reception", "mobile data"],
                 ["drops in the subway", "is dead at my house", "vanishes outside the city", "has zero bars downtown",
                  "keeps cutting my calls"]),
    "esim": (["the eSIM", "eSIM activation", "the eSIM QR code", "moving my eSIM to a new phone"],
             ["does not work", "fails every time", "needs a how-to", "was easy, thanks", "on a tablet?"]),
}
OPENERS = ["Nimbus Mobile:", "@NimbusMobile", "hey Nimbus Mobile,", "Nimbus Mobile why", "so Nimbus Mobile"]


def test_topics_are_found_labelled_and_the_new_one_is_emerging(write_config, database_url):
    settings = write_config()
    records = []
    for theme, texts in THEMES.items():
        for i in range(24):
            age = timedelta(hours=2 + i) if theme == "esim" else timedelta(days=2 + i % 10, hours=i)
            records.append(MentionRecord(
                network="x", native_id=f"{theme}{i}", created_at=NOW - age,
                text=f"{OPENERS[i % 5]} {texts[0][i % len(texts[0])]} {texts[1][(i // 2) % len(texts[1])]}",
                brands=["Nimbus Mobile"], author=AuthorRecord("x", f"{theme}{i}", handle=f"u{theme}{i}")))
    with session_scope(database_url) as session:
        save_mentions(session, records)
    analyze_pending(settings)
    assert refresh_topics(settings, now=NOW) == {"Nimbus Mobile": 3}
    with session_scope(database_url) as session:
        topics = what_are_people_talking_about(session, 1)
    words = {theme: next(t for t in topics if any(w in " ".join(t.terms) for w in keys))
             for theme, keys in {"billing": ("bill", "invoice", "charge"), "coverage": ("signal", "coverage", "bars"),
                                 "esim": ("esim",)}.items()}
    assert len({t.id for t in words.values()}) == 3 and all(t.size == 24 for t in topics)
    assert words["esim"].emerging and not words["billing"].emerging and not words["coverage"].emerging
    assert all("nimbus" not in term for t in topics for term in t.terms)
    assert len(words["esim"].representative) == 3 and "eSIM" in words["esim"].representative[0]["text"]
    assert all(len(phrase.split()) >= 2 for t in topics for phrase in t.label.split(" · "))  # phrases
    assert sum(words["billing"].trend.values()) == 24
