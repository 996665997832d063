"""The transformer analysis stage: one shared encoder pass per text feeding every head.

Loaded once per process. The default runtime is the int8 model under ONNX Runtime
(nlp.onnx_runtime); ``quantize=False`` runs the fp32 PyTorch model, the reference the
int8 one is measured against. Texts are de-duplicated (reposts are scored once),
tokenized once, and batched sorted by token count so padding is minimal.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from brandpulse.core.errors import AnalysisError
from nlp.datasets import LABELS, normalize
from nlp.lexicon import QUESTION
from nlp.stage import Doc

DEFAULT_MODEL = Path(__file__).parent / "models" / "brandpulse-minilm-multitask"
MAX_LENGTH = 128
MAX_CHARS = 4000
EMBEDDING = "embedding"  # the pooled embedding's name beside the task outputs of a backend
SEVERITY = LABELS["severity"]
INT8_BATCH = 8  # small batches stay in cache: fastest for int8 on two cores (bench/)
FP32_BATCH = 64


def available_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass
class Scores:
    """Per-task probabilities for a batch, each of shape (n, classes), and pooled embeddings."""
    probabilities: dict[str, np.ndarray]
    embeddings: np.ndarray


class TorchMultiTask:
    """The fp32 PyTorch model (LoRA merged): ids and mask in, {task: probabilities} out."""

    def __init__(self, model_dir: Path, threads: int) -> None:
        import torch

        from nlp.multitask import load_artifacts

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = load_artifacts(model_dir)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        ids, mask = self.torch.from_numpy(input_ids), self.torch.from_numpy(attention_mask)
        with self.torch.inference_mode():
            pooled = self.model.embed(ids, mask)
            out = {task: self.torch.softmax(head, dim=-1).numpy()
                   for task, head in self.model.heads_of(pooled).items()}
        out[EMBEDDING] = pooled.numpy()
        return out

    def map(self, function, batches):
        """Batches one after another: torch spreads each over its intra-op threads."""
        return map(function, batches)


class MultiTaskScorer:
    """Loads the committed model and scores texts; the same code path as the pipeline."""

    def __init__(self, path: Path | str = DEFAULT_MODEL, quantize: bool = True,
                 batch_size: int | None = None, threads: int | None = None) -> None:
        from transformers import AutoTokenizer

        from nlp.multitask import base_model_dir

        path = Path(path)
        if not (path / "heads.safetensors").exists():
            raise AnalysisError(f"no trained model at {path}; run `brandpulse nlp train --data "
                                f"../shared/data --output {path}` or set nlp.analyzer: lexicon")
        self.meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        self.name, self.version = self.meta["name"], self.meta["version"]
        self.tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
        self.threads = threads or available_cores()
        if quantize:
            from nlp.onnx_runtime import OnnxMultiTask

            self.backend = OnnxMultiTask(path, self.threads)
            self.version += "+int8"
        else:
            self.backend = TorchMultiTask(path, self.threads)
        self.batch_size = batch_size or (INT8_BATCH if quantize else FP32_BATCH)

    def score(self, texts: Sequence[str]) -> Scores:
        """Probabilities for every task; identical texts are scored once."""
        cleaned = [normalize(t)[:MAX_CHARS] or "." for t in texts]
        unique = list(dict.fromkeys(cleaned)) or ["."]  # an empty batch still has every task's shape
        ids = self.tokenizer(unique, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        order = sorted(range(len(unique)), key=lambda i: len(ids[i]))
        batches = [order[start:start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        out: dict[str, np.ndarray] = {}
        for idx, values in zip(batches, self.backend.map(self._run, [[ids[i] for i in b] for b in batches])):
            for name, value in values.items():
                if name not in out:
                    out[name] = np.zeros((len(unique), value.shape[1]), dtype=np.float32)
                out[name][idx] = value
        position = {text: i for i, text in enumerate(unique)}
        rows = [position[t] for t in cleaned]
        embeddings = out.pop(EMBEDDING)[rows]
        return Scores({task: probs[rows] for task, probs in out.items()}, embeddings)

    def _run(self, batch: list[list[int]]) -> dict[str, np.ndarray]:
        return self.backend.run(*self._pad(batch))

    def _pad(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(map(len, batch))
        input_ids = np.full((len(batch), width), self.tokenizer.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, tokens in enumerate(batch):
            input_ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        return input_ids, mask


@lru_cache(maxsize=4)
def load_scorer(path: str = str(DEFAULT_MODEL), quantize: bool = True,
                threads: int | None = None) -> MultiTaskScorer:
    """One scorer per (model, quantization, threads) per process; threads default to every core."""
    return MultiTaskScorer(path, quantize=quantize, threads=threads)


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
