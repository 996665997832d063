"""A pluggable sentiment stage: any Hugging Face sequence-classification model or local path."""

from __future__ import annotations

import os
from typing import Sequence

from brandpulse.core.errors import AnalysisError
from nlp.stage import Doc

CANONICAL = {"negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral",
             "positive": "positive", "pos": "positive"}


def _label_map(id2label: dict[int, str]) -> dict[int, str]:
    """Model label ids → negative / neutral / positive (LABEL_0..2 read as that order)."""
    names = {i: CANONICAL.get(str(label).lower()) for i, label in id2label.items()}
    if all(names.values()):
        return names
    if len(id2label) == 3:
        return {0: "negative", 1: "neutral", 2: "positive"}
    if len(id2label) == 2:
        return {0: "negative", 1: "positive"}
    raise AnalysisError(f"sentiment model labels {list(id2label.values())} cannot be read as "
                        "negative / neutral / positive; pick a 2- or 3-class sentiment model")


class HuggingFaceSentimentStage:
    """Replaces ``sentiment`` and ``sentiment_scores`` with the configured model's output."""

    name = "hf_sentiment"
    reads = ("text", "language_supported")
    writes = ("sentiment", "sentiment_scores")

    def __init__(self, model: str, allow_download: bool = False, batch_size: int = 32) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        local_only = not allow_download or os.environ.get("HF_HUB_OFFLINE") == "1"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_only)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                model, local_files_only=local_only).eval()
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"sentiment model {model!r} could not be loaded ({exc}); give a local "
                                "path, or set nlp.allow_download: true on a machine with internet") from exc
        self.labels = _label_map(self.model.config.id2label)
        self.batch_size = batch_size
        self.torch = torch

    def process(self, docs: Sequence[Doc]) -> None:
        live = [doc for doc in docs if not doc.skip_scoring]
        for start in range(0, len(live), self.batch_size):
            chunk = live[start:start + self.batch_size]
            batch = self.tokenizer([d.text or "." for d in chunk], padding=True, truncation=True,
                                   max_length=128, return_tensors="pt")
            with self.torch.inference_mode():
                probs = self.torch.softmax(self.model(**batch).logits, dim=-1).numpy()
            for doc, row in zip(chunk, probs):
                scores = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
                for index, value in enumerate(row):
                    scores[self.labels[index]] += float(value)
                doc.fields["sentiment_scores"] = scores
                doc.fields["sentiment"] = max(scores, key=scores.get)
