"""One grievance, one ticket: spot a new mention that repeats an open ticket's grievance.

Both rules need the same person: the same author, the same linked customer, or the same
handle on another network. Then either the same thread, or near-identical text on any
network (word-set Jaccard at or above ``care.merge_similarity``, at least 5 words). Two
different people posting the same words stay two tickets: each needs an answer.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, Hashable

URL = re.compile(r"https?://\S+|www\.\S+")
HANDLE = re.compile(r"(?<!\w)@\w+")
WORD = re.compile(r"[^\W_]+", re.UNICODE)
MIN_WORDS = 5


def words_of(text: str) -> frozenset[str]:
    """The set of lower-cased words of a post, without links and @handles."""
    text = HANDLE.sub(" ", URL.sub(" ", text.lower()))
    return frozenset(w for w in WORD.findall(text) if len(w) > 1)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 0.0


class GrievanceIndex:
    """Open grievances, searchable by person + thread and by near-identical wording."""

    def __init__(self, similarity: float) -> None:
        self.similarity = similarity
        self._threads: dict[tuple, Hashable] = {}
        self._words: dict[Hashable, frozenset[str]] = {}
        self._owners: dict[Hashable, set[tuple]] = {}
        self._postings: dict[str, list[Hashable]] = defaultdict(list)

    @staticmethod
    def _people(item: dict[str, Any]) -> list[tuple]:
        people = [("author", item["author_id"])] if item.get("author_id") else []
        if item.get("customer_id"):
            people.append(("customer", item["customer_id"]))
        if item.get("handle"):
            people.append(("handle", item["handle"].lower().lstrip("@")))
        return people

    def add(self, ref: Hashable, item: dict[str, Any]) -> None:
        """Index one grievance: keys author_id, customer_id, handle, network, conversation_id, text."""
        if item.get("conversation_id"):
            for person in self._people(item):
                self._threads.setdefault((person, item["network"], item["conversation_id"]), ref)
        words = words_of(item.get("text") or "")
        self._owners[ref] = set(self._people(item))
        if len(words) >= MIN_WORDS:
            self._words[ref] = words
            for word in words:
                self._postings[word].append(ref)

    def match(self, item: dict[str, Any]) -> tuple[Hashable, str] | None:
        """The indexed grievance ``item`` repeats and why, else None."""
        if item.get("conversation_id"):
            for person in self._people(item):
                ref = self._threads.get((person, item["network"], item["conversation_id"]))
                if ref is not None:
                    return ref, "same author and thread"
        words = words_of(item.get("text") or "")
        people = set(self._people(item))
        if len(words) < MIN_WORDS or not people:
            return None
        shared = Counter(ref for word in words for ref in self._postings.get(word, ())
                         if self._owners[ref] & people)
        best, best_score = None, 0.0
        for ref, overlap in shared.most_common(20):
            other = self._words[ref]
            score = overlap / (len(words) + len(other) - overlap)
            if score > best_score:
                best, best_score = ref, score
        if best is not None and best_score >= self.similarity:
            return best, f"near-identical text (word overlap {best_score:.0%})"
        return None
