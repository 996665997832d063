"""`brandpulse nlp evaluate`: dev-split scores of the model, its int8 version and two baselines.

Baselines: VADER (sentiment, and "negative means complaint") and the frozen base
encoder + logistic regression per task. Complaint is scored leave-one-domain-out over
the complaint data's product domains: the head is refitted without the domain and
tested on it; the encoder never saw that dataset (see nlp.train).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score

from nlp.datasets import COMPLAINT_DOMAINS, LABELS, Split, load_training_data
from nlp.complaint_head import left_out_domains, unseen_domain_predictions
from nlp.int8_drift import Drift, paired_bootstrap
from nlp.train import embed_texts

DEV_TASKS = ("sentiment", "emotion", "offensive", "suggestion")
COMPLAINT_METRIC = "complaint macro-F1 (unseen domains)"
FROZEN_TRAIN_CAP = 20_000


Table = dict[str, dict[str, float | None]]  # metric name → {system: value}


@dataclass
class Report:
    """``rows``: the issue's metrics (None where a system cannot do the task); ``details``: the
    per-class and per-domain parts of the two short targets; ``drift``: int8 against fp32."""
    rows: Table = field(default_factory=dict)
    details: Table = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)

    def put(self, metric: str, system: str, value: float | None, detail: bool = False) -> None:
        table = self.details if detail else self.rows
        table.setdefault(metric, {})[system] = None if value is None else round(float(value), 4)


def score_cells(values: dict[str, float | None], systems: list[str]) -> list[str]:
    """One metric's value per system, four decimals, "n/a" where a system has none."""
    return ["n/a" if values.get(s) is None else f"{values[s]:.4f}" for s in systems]


def systems_of(table: Table) -> list[str]:
    """The systems of a score table, in the order they first appear."""
    systems: list[str] = []
    for values in table.values():
        systems += [s for s in values if s not in systems]
    return systems


def task_metrics(task: str, gold: list[int], predicted: list[int]) -> dict[str, float]:
    """The metrics the issue names for a task."""
    if task == "sentiment":
        return {"sentiment macro-recall": recall_score(gold, predicted, average="macro"),
                "sentiment macro-F1": f1_score(gold, predicted, average="macro"),
                "sentiment accuracy": accuracy_score(gold, predicted)}
    if task == "suggestion":
        return {"suggestion F1": f1_score(gold, predicted, pos_label=1, average="binary")}
    if task == "complaint":
        return {COMPLAINT_METRIC: f1_score(gold, predicted, average="macro")}
    return {f"{task} macro-F1": f1_score(gold, predicted, average="macro")}


def detail_metrics(task: str, gold: list[int], predicted: list[int],
                   domains: list[str] | None = None) -> dict[str, float]:
    """Emotion F1 per class and complaint macro-F1 per domain (``domains``: each prediction's),
    each named with its count of texts."""
    if task == "emotion":
        scores = f1_score(gold, predicted, average=None, labels=range(len(LABELS["emotion"])))
        return {f"emotion F1: {label} ({gold.count(i)})": score
                for i, (label, score) in enumerate(zip(LABELS["emotion"], scores))}
    if task == "complaint":
        domains = np.asarray(domains)
        gold, predicted = np.asarray(gold), np.asarray(predicted)
        return {f"complaint macro-F1: {domain} ({(domains == domain).sum()})":
                f1_score(gold[domains == domain], predicted[domains == domain], average="macro")
                for domain in dict.fromkeys(domains)}
    return {}


def _put_all(report: Report, system: str, task: str, gold: list[int], predicted: list[int],
             domains: list[str] | None = None) -> None:
    """A task's metrics and its details, for one system."""
    for name, value in task_metrics(task, gold, predicted).items():
        report.put(name, system, value)
    for name, value in detail_metrics(task, gold, predicted, domains).items():
        report.put(name, system, value, detail=True)


def _vader(report: Report, dev: dict[str, Split], complaint: Split) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()

    def label(text: str) -> int:
        compound = vader.polarity_scores(text)["compound"]
        return 2 if compound >= 0.05 else 0 if compound <= -0.05 else 1

    _put_all(report, "VADER", "sentiment", dev["sentiment"].labels,
             [label(t) for t in dev["sentiment"].texts])
    mask = np.isin(complaint.groups, COMPLAINT_DOMAINS)
    gold = np.array(complaint.labels)[mask].tolist()
    predicted = [int(label(t) == 0) for t, keep in zip(complaint.texts, mask) if keep]
    _put_all(report, "VADER", "complaint", gold, predicted, np.array(complaint.groups)[mask].tolist())
    for task in ("emotion", "offensive", "suggestion"):
        for name in task_metrics(task, [0, 1], [0, 1]):
            report.put(name, "VADER", None)


def frozen_baseline_classifier() -> LogisticRegression:
    """The regression the frozen+LR baseline fits on pooled embeddings, for every task."""
    return LogisticRegression(max_iter=2000, class_weight="balanced")


def _frozen_baseline(report: Report, train: dict[str, Split], dev: dict[str, Split],
                     complaint: Split, log: Callable[[str], None]) -> None:
    from transformers import AutoTokenizer

    from nlp.multitask import MultiTaskModel, base_model_dir, load_encoder

    model = MultiTaskModel(load_encoder(None)).eval()
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    rng = random.Random(13)
    for task in DEV_TASKS:
        split = train[task]
        idx = list(range(len(split)))
        if len(idx) > FROZEN_TRAIN_CAP:
            idx = rng.sample(idx, FROZEN_TRAIN_CAP)
        log(f"frozen encoder + LR: {task} ({len(idx)} training texts)")
        features = embed_texts(model, tokenizer, [split.texts[i] for i in idx])
        classifier = frozen_baseline_classifier().fit(features, [split.labels[i] for i in idx])
        predicted = classifier.predict(embed_texts(model, tokenizer, dev[task].texts)).tolist()
        _put_all(report, "frozen+LR", task, dev[task].labels, predicted)
    log("frozen encoder + LR: complaint, leave-one-domain-out")
    features = embed_texts(model, tokenizer, complaint.texts)
    _put_all(report, "frozen+LR", "complaint",
             *unseen_domain_predictions(features, complaint.labels, complaint.groups),
             left_out_domains(complaint.groups))


Predictions = dict[str, tuple[list[int], list[int]]]  # task → (gold, predicted)


def _model_system(report: Report, system: str, model_path: Path, quantize: bool,
                  dev: dict[str, Split], complaint: Split, log: Callable[[str], None]) -> Predictions:
    """Score one runtime of the model into ``report``; returns its predictions per task."""
    from nlp.model import MultiTaskScorer

    log(f"{system}: dev splits")
    scorer = MultiTaskScorer(model_path, quantize=quantize)  # the batch size the pipeline uses
    predictions: Predictions = {}
    for task in DEV_TASKS:
        probs = scorer.score(dev[task].texts).probabilities[task]
        predictions[task] = (dev[task].labels, probs.argmax(1).tolist())
    log(f"{system}: complaint, leave-one-domain-out")
    features = scorer.score(complaint.texts).embeddings
    predictions["complaint"] = unseen_domain_predictions(features, complaint.labels, complaint.groups)
    domains = left_out_domains(complaint.groups)
    for task, (gold, predicted) in predictions.items():
        _put_all(report, system, task, gold, predicted, domains)
    return predictions


def drift_between(fp32: Predictions, int8: Predictions) -> list[Drift]:
    """int8 − fp32 on every metric, with paired bootstrap intervals over the same texts."""
    drifts: list[Drift] = []
    for task, (gold, reference) in fp32.items():
        drifts += paired_bootstrap(partial(task_metrics, task), gold, reference, int8[task][1])
    return drifts


def evaluate(data_dir: Path | str, model_path: Path | str, baselines: bool = True,
             log: Callable[[str], None] = lambda message: None) -> Report:
    """Every metric for the model (fp32 and int8, and their drift) and, optionally, the two baselines."""
    train, dev = load_training_data(data_dir)
    complaint = train["complaint"]
    report = Report()
    fp32 = _model_system(report, "model fp32", Path(model_path), False, dev, complaint, log)
    int8 = _model_system(report, "model int8", Path(model_path), True, dev, complaint, log)
    log("int8 − fp32: paired bootstrap over the dev texts")
    report.drift = drift_between(fp32, int8)
    if baselines:
        _vader(report, dev, complaint)
        _frozen_baseline(report, train, dev, complaint, log)
    return report


TARGETS = {"sentiment macro-recall": 0.72, COMPLAINT_METRIC: 0.86,
           "emotion macro-F1": 0.76}
