"""How far the int8 runtime drifts from fp32 on each dev metric, with a paired bootstrap interval.

The dev splits are small: emotion has 28 optimism tweets, so one tweet moves its
macro-F1 by about half a point, and a single int8 − fp32 difference says little on its
own. Each metric is recomputed on resamples of the dev texts, drawn with replacement and
shared by both runtimes (paired), and the 2.5th and 97.5th percentiles of the difference
bound it. Agreement is the share of texts given the same label by both runtimes.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

Scorer = Callable[[np.ndarray, np.ndarray], dict[str, float]]  # (gold, predicted) → {metric: value}
RESAMPLES = 1000


@dataclass(frozen=True)
class Drift:
    """int8 − fp32 on one metric, in points (×100), with its 95% interval and label agreement."""
    metric: str
    delta: float
    low: float
    high: float
    agreement: float
    texts: int

    def cells(self) -> list[str]:
        """The row as printed: metric, difference, interval, agreement, texts."""
        return [self.metric, f"{self.delta:+.2f}", f"[{self.low:+.2f}, {self.high:+.2f}]",
                f"{self.agreement:.1%}", str(self.texts)]

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


DRIFT_COLUMNS = ["metric", "int8 − fp32 (points)", "95% interval", "same label", "texts"]


def paired_bootstrap(score: Scorer, gold: Sequence[int], reference: Sequence[int], candidate: Sequence[int],
                     resamples: int = RESAMPLES, seed: int = 13) -> list[Drift]:
    """candidate − reference for every metric ``score`` returns, with paired-resample intervals."""
    gold, reference, candidate = (np.asarray(a) for a in (gold, reference, candidate))
    if not len(gold) == len(reference) == len(candidate) or not len(gold):
        raise ValueError(f"paired bootstrap needs equal, non-empty label lists; got {len(gold)} gold, "
                         f"{len(reference)} reference and {len(candidate)} candidate labels")
    full = _difference(score, gold, reference, candidate)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {metric: [] for metric in full}
    with warnings.catch_warnings():  # a resample may lack a rare class: its score is 0, as sklearn warns
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for _ in range(resamples):
            rows = rng.integers(0, len(gold), len(gold))
            for metric, value in _difference(score, gold[rows], reference[rows], candidate[rows]).items():
                samples[metric].append(value)
    agreement = float((reference == candidate).mean())
    drifts = []
    for metric, delta in full.items():
        low, high = np.percentile(samples[metric], [2.5, 97.5])
        drifts.append(Drift(metric, 100 * delta, 100 * float(low), 100 * float(high), agreement, len(gold)))
    return drifts


def _difference(score: Scorer, gold, reference, candidate) -> dict[str, float]:
    before, after = score(gold, reference), score(gold, candidate)
    return {metric: after[metric] - before[metric] for metric in before}


def mean_drift(drifts: Sequence[Drift]) -> float:
    """The int8 − fp32 difference averaged over the metrics, in points."""
    return float(np.mean([d.delta for d in drifts])) if drifts else 0.0
