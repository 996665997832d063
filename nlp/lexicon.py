"""The lexicon fallback analyzer: VADER sentiment plus transparent intent rules.

This is a clearly named stand-in behind the same stage interface as the
transformer model; it scores sentiment, complaint and intents, and leaves
emotion and offensiveness unscored (None) rather than inventing them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from nlp.stage import Doc

MODEL_NAME = "lexicon-fallback"
MODEL_VERSION = "vader-3.3.2+rules-1"

QUESTION = re.compile(
    r"\?|^\s*(?:@\w+\s+)*(?:how|what|when|where|why|who|which|can|could|does|do|is|are|will|"
    r"should|anyone|any idea)\b", re.IGNORECASE)
SUGGESTION = re.compile(
    r"\b(?:you should|should (?:add|have|let|make|offer|bring)|please (?:add|bring|make|consider|"
    r"allow|let)|would be (?:great|nice|awesome|cool) if|i wish|wish (?:you|there)|suggest|"
    r"suggestion|feature request|it'?d be (?:great|nice)|why not (?:add|offer)|consider adding)\b",
    re.IGNORECASE)
COMPLAINT_CUES = re.compile(
    r"\b(?:refund|charged|overcharg\w*|broken|broke|still waiting|waiting for|no response|"
    r"not working|doesn'?t work|isn'?t working|won'?t|can'?t|cannot|never|worst|terrible|awful|"
    r"horrible|useless|disappointed|disappointing|ridiculous|unacceptable|cancel\w*|outage|down again|"
    r"delay\w*|late|lost|missing|scam|rip[- ]?off|fix (?:this|it|your)|fail\w*|error|crash\w*|"
    r"hold for|on hold|complain\w*|fed up|joke|rude|stuck|wrong|twice|dropped|no signal|"
    r"bill(?:ed|ing)?|fee|fees)\b", re.IGNORECASE)
PRAISE_CUES = re.compile(
    r"\b(?:love|loving|thank(?:s| you)|great|amazing|awesome|excellent|best|fantastic|brilliant|"
    r"kudos|shout ?out|impressed|perfect|smooth|quick|helpful|recommend|5 stars|well done)\b",
    re.IGNORECASE)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


class LexiconSentimentStage:
    """VADER polarity → negative / neutral / positive with normalised proportions."""

    name = "lexicon_sentiment"
    reads = ("text", "language_supported")
    writes = ("sentiment", "sentiment_scores", "compound")

    def process(self, docs: Sequence[Doc]) -> None:
        vader = _vader()
        for doc in docs:
            if doc.skip_scoring:
                continue
            scores = vader.polarity_scores(doc.text[:5000])
            total = scores["neg"] + scores["neu"] + scores["pos"] or 1.0
            doc.fields["sentiment_scores"] = {
                "negative": scores["neg"] / total, "neutral": scores["neu"] / total,
                "positive": scores["pos"] / total}
            compound = scores["compound"]
            doc.fields["sentiment"] = ("positive" if compound >= 0.05 else
                                       "negative" if compound <= -0.05 else "neutral")
            doc.fields["compound"] = compound


class IntentRulesStage:
    """Complaint probability and intents (complaint, question, suggestion, praise) by rules."""

    name = "intent_rules"
    reads = ("text", "language_supported", "sentiment", "compound")
    writes = ("complaint", "complaint_score", "intents", "primary_intent")

    def __init__(self, complaint_threshold: float = 0.5) -> None:
        self.threshold = complaint_threshold

    def process(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            if doc.skip_scoring:
                continue
            text = doc.text[:5000]
            compound = doc.fields.get("compound", 0.0)
            cues = len(COMPLAINT_CUES.findall(text))
            score = min(1.0, 0.25 * min(cues, 3) + max(0.0, -compound) * 0.6)
            if compound > 0.5 and cues <= 1:
                score *= 0.3
            intents = []
            if score >= self.threshold:
                intents.append("complaint")
            if QUESTION.search(text):
                intents.append("question")
            if SUGGESTION.search(text):
                intents.append("suggestion")
            if compound >= 0.3 and PRAISE_CUES.search(text) and "complaint" not in intents:
                intents.append("praise")
            doc.fields["complaint_score"] = round(score, 4)
            doc.fields["complaint"] = score >= self.threshold
            doc.fields["intents"] = intents
            doc.fields["primary_intent"] = intents[0] if intents else "other"
