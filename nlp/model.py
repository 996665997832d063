"""The transformer analysis stage: one shared encoder pass per text feeding every head.

Loaded once per process, LoRA merged into the base weights, optionally int8
dynamically quantized; texts are de-duplicated (reposts are scored once) and
batched sorted by length.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from brandpulse.errors import AnalysisError
from nlp.datasets import LABELS, normalize
from nlp.lexicon import QUESTION
from nlp.stage import Doc

DEFAULT_MODEL = Path(__file__).parent / "models" / "brandpulse-minilm-multitask"
MAX_LENGTH = 128
SEVERITY = LABELS["severity"]


def configure_threads(threads: int | None = None) -> int:
    """Use every core the process may run on (intra-op), one inter-op thread."""
    import torch

    count = threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(count)
    return count


def quantize_encoder(encoder):
    """int8 dynamic quantization, per-channel weights, of the inner transformer layers.

    The first and last layers and the tiny heads stay fp32: on the dev splits that
    halves the quality loss of quantizing everything, for most of the speed-up.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    last = encoder.config.num_hidden_layers - 1
    kept = ("encoder.layer.0.", f"encoder.layer.{last}.")
    spec = {name: per_channel_dynamic_qconfig for name, module in encoder.named_modules()
            if isinstance(module, torch.nn.Linear) and not name.startswith(kept)}
    with warnings.catch_warnings():  # torch.ao is deprecated upstream but works in 2.13
        warnings.simplefilter("ignore")
        return quantize_dynamic(encoder, spec, dtype=torch.qint8)


@dataclass
class Scores:
    """Per-task probabilities for a batch, each of shape (n, classes)."""
    probabilities: dict[str, np.ndarray]


class MultiTaskScorer:
    """Loads the committed model and scores texts; the same code path as the pipeline."""

    def __init__(self, path: Path | str = DEFAULT_MODEL, quantize: bool = True,
                 batch_size: int = 64) -> None:
        import torch
        from transformers import AutoTokenizer

        from nlp.multitask import base_model_dir, load_artifacts

        path = Path(path)
        if not (path / "heads.safetensors").exists():
            raise AnalysisError(f"no trained model at {path}; run `brandpulse nlp train --data "
                                f"../shared/data --output {path}` or set nlp.analyzer: lexicon")
        configure_threads()
        self.meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        self.name, self.version = self.meta["name"], self.meta["version"]
        self.tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
        model = load_artifacts(path)
        if quantize:
            model.encoder = quantize_encoder(model.encoder)
            self.version += "+int8"
        self.model = model.eval()
        self.batch_size = batch_size
        self.torch = torch

    def score(self, texts: Sequence[str]) -> Scores:
        """Probabilities for every task; identical texts are scored once."""
        cleaned = [normalize(t)[:4000] or "." for t in texts]
        unique = list(dict.fromkeys(cleaned))
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
        tasks = list(self.model.heads) + ["complaint"]
        out = {t: np.zeros((len(unique), self.model.heads[t].out_features if t in self.model.heads
                            else 2), dtype=np.float32) for t in tasks}
        with self.torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self.tokenizer([unique[i] for i in idx], padding=True, truncation=True,
                                       max_length=MAX_LENGTH, return_tensors="pt")
                logits = self.model(batch["input_ids"], batch["attention_mask"], tasks=tasks)
                for task, value in logits.items():
                    out[task][idx] = self.torch.softmax(value, dim=-1).numpy()
        position = {text: i for i, text in enumerate(unique)}
        rows = [position[t] for t in cleaned]
        return Scores({task: probs[rows] for task, probs in out.items()})


@lru_cache(maxsize=4)
def load_scorer(path: str = str(DEFAULT_MODEL), quantize: bool = True) -> MultiTaskScorer:
    """One scorer per (model, quantization) per process."""
    return MultiTaskScorer(path, quantize=quantize)


class TransformerStage:
    """Sentiment, emotion, complaint (+severity), offensive, suggestion; intents from the heads."""

    name = "transformer"
    reads = ("text", "language_supported")
    writes = ("sentiment", "sentiment_scores", "emotion", "emotion_scores", "complaint",
              "complaint_score", "severity", "offensive", "offensive_score", "intents", "primary_intent")

    def __init__(self, scorer: MultiTaskScorer, complaint_threshold: float = 0.5) -> None:
        self.scorer = scorer
        self.threshold = complaint_threshold

    def process(self, docs: Sequence[Doc]) -> None:
        live = [doc for doc in docs if not doc.skip_scoring]
        if not live:
            return
        probs = self.scorer.score([doc.text for doc in live]).probabilities
        for i, doc in enumerate(live):
            sentiment = dict(zip(LABELS["sentiment"], map(float, probs["sentiment"][i])))
            emotion = dict(zip(LABELS["emotion"], map(float, probs["emotion"][i])))
            complaint = float(probs["complaint"][i][1])
            suggestion = float(probs["suggestion"][i][1])
            offensive = float(probs["offensive"][i][1])
            label = max(sentiment, key=sentiment.get)
            is_complaint = complaint >= self.threshold
            intents = ["complaint"] if is_complaint else []
            if QUESTION.search(doc.text or ""):
                intents.append("question")
            if suggestion >= 0.5:
                intents.append("suggestion")
            if label == "positive" and not is_complaint and sentiment["positive"] >= 0.6:
                intents.append("praise")
            severity = SEVERITY[int(np.argmax(probs["severity"][i][1:])) + 1] if is_complaint else None
            doc.fields.update({
                "sentiment": label, "sentiment_scores": sentiment,
                "emotion": max(emotion, key=emotion.get), "emotion_scores": emotion,
                "complaint": is_complaint, "complaint_score": round(complaint, 4),
                "severity": severity, "offensive": offensive >= 0.5,
                "offensive_score": round(offensive, 4), "suggestion_score": round(suggestion, 4),
                "intents": intents, "primary_intent": intents[0] if intents else "other"})
