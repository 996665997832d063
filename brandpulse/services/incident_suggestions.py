"""Which open complaints share a cause in a burst: the groups a care lead may turn into incidents.

Three sources, each over open complaint tickets that are in no open incident:

* **alert**: a volume_spike or negative_share alert's window (touching or overlapping windows of
  one brand are one episode): the brand's complaints posted inside it;
* **topic**: complaints whose text carries a stored topic's terms (the words and word pairs the
  topic was labelled with, tokenised as brandpulse.services.topics labels them; the best-matching topic
  of the brand wins), in the densest ``window`` of posts;
* **similar text**: near-identical wording across at least two authors (word-set Jaccard of
  brandpulse.services.merging, at or above ``similarity``), in the densest ``window`` of posts.

A group needs ``min_size`` tickets. Groups are ranked by size; one mostly (90%) inside a bigger
group is not listed again, its cause is added to that group's ``also``. ``suggest_incidents``
reads the rows, alerts and topics; the rest are pure functions on them: deterministic, no model.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from brandpulse.services.access import Actor, may_reach_ticket
from brandpulse.services.accounts import authorize
from brandpulse.core.errors import WorkflowError
from brandpulse.services.merging import MIN_WORDS, jaccard, words_of
from brandpulse.core.settings import Settings
from store.brands import the_brand_named
from store.engine import session_scope
from store.incidents import which_burst_alerts_ended_since, which_complaints_could_join_an_incident
from store.models import utcnow
from store.topics import what_are_people_talking_about

Row = dict[str, Any]  # store.incidents.which_complaints_could_join_an_incident rows
SOURCES = ("alert", "topic", "similar text")
CONTAINED = 0.9  # a group with this share of its tickets inside a bigger one is that group again
RULE_NAMES = {"volume_spike": "volume spike", "negative_share": "negative share"}
ALERT_RULES = tuple(RULE_NAMES)
MIN_GROUP = 5  # tickets a suggestion needs
BURST_HOURS = 6  # topic and similar-text groups: posts within this many hours
LOOKBACK_HOURS = 72  # only complaints (and alert windows) this recent are suggested
SIMILARITY = 0.6  # word-set Jaccard across authors (templated complaints vary a city or a brand spelling)


def suggest_incidents(settings: Settings, actor: Actor, brand: str | None = None, min_size: int = MIN_GROUP, *,
                      window_hours: float = BURST_HOURS, lookback_hours: float = LOOKBACK_HOURS,
                      similarity: float = SIMILARITY, now: datetime | None = None) -> list[dict[str, Any]]:
    """Groups of open complaint tickets (in no open incident, within the actor's reach) that share a
    cause in a burst, biggest first: source, cause, title, brand, ticket_ids, count, authors,
    first/last_posted_at, samples, also (other sources that found the same group), number and key."""
    actor = authorize(settings, actor, "incident.manage")
    if min_size < 2:
        raise WorkflowError(f"an incident groups at least 2 tickets; a minimum of {min_size} is too small")
    since = (now or utcnow()) - timedelta(hours=lookback_hours)
    with session_scope(settings.database.url) as session:
        brand_id = the_brand_named(session, brand).id if brand else None
        rows = [r for r in which_complaints_could_join_an_incident(session, since, brand_id)
                if may_reach_ticket(actor, r["team"], r["assignee_id"])]
        alerts = which_burst_alerts_ended_since(session, since, ALERT_RULES, brand_id)
        topics = [t for b in sorted({r["brand_id"] for r in rows if r["brand_id"]})
                  for t in what_are_people_talking_about(session, b)]
    return suggest(rows, alerts, topics, min_size=min_size, window=timedelta(hours=window_hours),
                   similarity=similarity)


def densest_bursts(rows: list[Row], window: timedelta, min_size: int,
                   accept: Callable[[list[Row]], bool] = lambda group: True) -> list[list[Row]]:
    """The rows (sorted by post time) of the densest ``window``, then the densest of the rest, ...
    while a window holds ``min_size`` rows that ``accept`` takes."""
    left, bursts = list(rows), []
    while len(left) >= min_size:
        best, start = (0, 0), 0
        for end in range(len(left)):
            while left[end]["posted_at"] - left[start]["posted_at"] > window:
                start += 1
            if end - start + 1 > best[1] - best[0]:
                best = (start, end + 1)
        group = left[best[0]:best[1]]
        if len(group) < min_size or not accept(group):
            break
        bursts.append(group)
        left = left[:best[0]] + left[best[1]:]
    return bursts


def _authors(group: Iterable[Row]) -> int:
    return len({(r["author_id"] or f"ticket {r['id']}") for r in group})


def _suggestion(source: str, cause: str, title: str, group: list[Row]) -> dict[str, Any]:
    group = sorted(group, key=lambda r: (r["posted_at"], r["id"]))
    samples = [text[:200] for text, _ in Counter(r["text"] for r in group).most_common(3)]
    return {"source": source, "cause": cause[:300], "title": title[:300], "brand_id": group[0]["brand_id"],
            "brand": group[0]["brand"], "ticket_ids": [r["id"] for r in group], "count": len(group),
            "authors": _authors(group), "first_posted_at": group[0]["posted_at"],
            "last_posted_at": group[-1]["posted_at"], "samples": samples, "also": []}


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def alert_groups(rows: list[Row], alerts: list[Any], min_size: int) -> list[dict[str, Any]]:
    """Complaints posted inside each brand's alert episodes (alerts ordered by brand and start)."""
    episodes: list[list[Any]] = []
    for alert in alerts:
        last = episodes[-1] if episodes else None
        if last and last[0].brand_id == alert.brand_id and alert.window_start <= max(a.window_end for a in last):
            last.append(alert)
        else:
            episodes.append([alert])
    out = []
    for episode in episodes:
        start, end = episode[0].window_start, max(a.window_end for a in episode)
        group = [r for r in rows if r["brand_id"] == episode[0].brand_id and start <= r["posted_at"] < end]
        if len(group) < min_size:
            continue
        ids = ", ".join(f"#{a.id}" for a in episode)
        rules = ", ".join(dict.fromkeys(RULE_NAMES.get(a.rule, a.rule) for a in episode))
        cause = f"alert{'s' if len(episode) > 1 else ''} {ids}: {rules} {_hours(end - start)}"
        title = f"{group[0]['brand']}: complaints {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC ({rules})"
        out.append(_suggestion("alert", cause, title, group))
    return out


def _topic_analyzer() -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import CountVectorizer

    # the same tokens brandpulse.services.topics.label_terms labels topics with
    return CountVectorizer(stop_words="english", ngram_range=(1, 2),
                           token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b").build_analyzer()


def topic_groups(rows: list[Row], topics: list[Any], window: timedelta, min_size: int) -> list[dict[str, Any]]:
    """Complaints grouped by the brand's best-matching topic, in bursts of ``window``."""
    if not topics or not rows:
        return []
    analyzer, members = _topic_analyzer(), defaultdict(list)
    by_brand = defaultdict(list)
    for topic in topics:  # biggest first: a tie goes to the bigger topic
        by_brand[topic.brand_id].append(topic)
    for row in rows:
        grams = set(analyzer(row["text"]))
        hits = [(sum(term in grams for term in topic.terms), -index, topic)
                for index, topic in enumerate(by_brand.get(row["brand_id"], ()))]
        best = max(hits, key=lambda h: h[:2], default=None)
        if best and best[0] > 0:
            members[best[2].id].append(row)
    labels = {t.id: t.label for t in topics}
    return [_suggestion("topic", f"topic: {labels[topic_id]}", f"{group[0]['brand']}: {labels[topic_id]}", group)
            for topic_id in sorted(members)
            for group in densest_bursts(members[topic_id], window, min_size)]


def _similar_components(word_sets: list[frozenset[str]], similarity: float) -> list[int]:
    """A component label per word set: sets linked by Jaccard >= ``similarity`` (prefix-filtered)."""
    parent = list(range(len(word_sets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    frequency = Counter(word for words in word_sets for word in words)
    index: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(word_sets):
        tokens = sorted(words, key=lambda w: (frequency[w], w))  # rare words first
        prefix = tokens[:len(tokens) - math.ceil(similarity * len(tokens) - 1e-9) + 1]
        for j in sorted({j for word in prefix for j in index[word]}):
            if root(i) != root(j) and jaccard(words, word_sets[j]) >= similarity:
                parent[root(i)] = root(j)
        for word in prefix:
            index[word].append(i)
    return [root(i) for i in range(len(word_sets))]


def similar_text_groups(rows: list[Row], similarity: float, window: timedelta,
                        min_size: int) -> list[dict[str, Any]]:
    """Near-identical complaints of one brand across different authors, in bursts of ``window``."""
    by_words: dict[tuple[int | None, frozenset[str]], list[Row]] = defaultdict(list)
    for row in rows:
        words = words_of(row["text"])
        if len(words) >= MIN_WORDS:
            by_words[(row["brand_id"], words)].append(row)
    keys = list(by_words)
    components: dict[tuple, list[Row]] = defaultdict(list)
    for brand_id in sorted({k[0] for k in keys}, key=lambda b: (b is None, b)):
        mine = [k for k in keys if k[0] == brand_id]
        for key, label in zip(mine, _similar_components([k[1] for k in mine], similarity)):
            components[(brand_id, label)].extend(by_words[key])
    out = []
    for members in components.values():
        if len(members) < min_size or _authors(members) < 2:
            continue
        members.sort(key=lambda r: (r["posted_at"], r["id"]))
        for group in densest_bursts(members, window, min_size, accept=lambda g: _authors(g) >= 2):
            sample = Counter(r["text"] for r in group).most_common(1)[0][0]
            out.append(_suggestion("similar text", f"similar text ({_authors(group)} authors)",
                                   f"{group[0]['brand']}: \"{sample[:80]}\"", group))
    return out


def rank(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Biggest first; a group mostly inside a bigger one is folded into it (its cause in ``also``).
    Each kept group gets its ``number`` (1, 2, ...) and a ``key`` naming its source."""
    ordered = sorted(candidates, key=lambda s: (-s["count"], SOURCES.index(s["source"]), s["first_posted_at"],
                                                s["ticket_ids"][0]))
    kept: list[dict[str, Any]] = []
    for candidate in ordered:
        ids = set(candidate["ticket_ids"])
        home = next((k for k in kept if len(ids & k["_ids"]) >= CONTAINED * len(ids)), None)
        if home is not None:
            home["also"].append(f"{candidate['cause']}: {candidate['count']} tickets")
        else:
            kept.append({**candidate, "_ids": ids})
    for number, suggestion in enumerate(kept, start=1):
        del suggestion["_ids"]
        suggestion["number"] = number
        suggestion["key"] = f"{suggestion['source']}:{suggestion['brand_id']}:{suggestion['ticket_ids'][0]}"
    return kept


def suggest(rows: list[Row], alerts: list[Any], topics: list[Any], *, min_size: int, window: timedelta,
            similarity: float) -> list[dict[str, Any]]:
    """Every source's groups over ``rows``, ranked (see the module docstring)."""
    return rank(alert_groups(rows, alerts, min_size) + topic_groups(rows, topics, window, min_size)
                + similar_text_groups(rows, similarity, window, min_size))

